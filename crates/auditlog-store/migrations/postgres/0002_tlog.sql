-- Tamper evidence (issue 9): each organization's Merkle log over its events in sequence order
-- (leaf index = sequence number), its signed checkpoints, and the deployment's signing key.

-- The log's stored hashes, in tlog "stored hash index" order: after n leaves exactly the indexes
-- 0 .. stored_hash_count(n) exist (each leaf adds itself and the subtrees it completes).
-- Proofs read O(log n) of them; nothing re-reads the events.
CREATE TABLE tlog_hashes (
    organization_id TEXT COLLATE "C" NOT NULL,
    stored_index BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (organization_id, stored_index)
);

-- The built size of each organization's tree, advanced only by compare-and-set (an UPDATE …
-- WHERE tree_size = old, which takes the row lock, so concurrent builders on several nodes
-- serialize and all but one find the size changed) together with the new leaves' hashes; and
-- the builder's lease (one node builds an organization at a time).
CREATE TABLE tlog_trees (
    organization_id TEXT COLLATE "C" PRIMARY KEY,
    tree_size BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT COLLATE "C",
    lease_expires_at BIGINT
);

-- Signed tree heads (C2SP tlog-checkpoint notes): at most one per size, never for a size the
-- stored tree does not have.
CREATE TABLE tlog_checkpoints (
    organization_id TEXT COLLATE "C" NOT NULL,
    tree_size BIGINT NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, tree_size)
);

-- The deployment's Ed25519 signing seed, created once by the first node that starts (unless a
-- key is configured), so every node and every restart signs with the same key.
CREATE TABLE tlog_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- Exports are cut at a sequence number (ExportFilters.max_sequence): carry it in the time index
-- so the widest-event query before an export stays an index-only scan.
DROP INDEX events_by_time;
CREATE INDEX events_by_time ON events (organization_id, occurred_at, id)
    INCLUDE (target_count, sequence) WHERE payload IS NOT NULL;
