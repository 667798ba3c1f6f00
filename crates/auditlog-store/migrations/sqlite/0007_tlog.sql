-- Tamper evidence (issue 9): each organization's Merkle log over its events in sequence order
-- (leaf index = sequence number), its signed checkpoints, and the deployment's signing key.

-- The log's stored hashes, in tlog "stored hash index" order: after n leaves exactly the indexes
-- 0 .. stored_hash_count(n) exist (each leaf adds itself and the subtrees it completes).
-- Proofs read O(log n) of them; nothing re-reads the events.
CREATE TABLE tlog_hashes (
    organization_id TEXT NOT NULL,
    stored_index INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (organization_id, stored_index)
) WITHOUT ROWID;

-- The built size of each organization's tree, advanced only by compare-and-set together with
-- the new leaves' hashes, and the builder's lease (one node builds an organization at a time).
CREATE TABLE tlog_trees (
    organization_id TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at INTEGER
);

-- Signed tree heads (C2SP tlog-checkpoint notes): at most one per size, never for a size the
-- stored tree does not have.
CREATE TABLE tlog_checkpoints (
    organization_id TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (organization_id, tree_size)
) WITHOUT ROWID;

-- The deployment's Ed25519 signing seed, created once by the first node that starts (unless a
-- key is configured), so every node and every restart signs with the same key.
CREATE TABLE tlog_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
