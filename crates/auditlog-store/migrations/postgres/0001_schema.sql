-- The PostgreSQL schema of auditlog: the same tables as the SQLite migrations 0001–0005, in one
-- file. Timestamps are BIGINT microseconds since the epoch; hashes are BYTEA; every JSON value
-- is TEXT, not JSONB, because it must come back byte for byte (canonical event payloads, and
-- metadata whose key order the API echoes).
--
-- Identifiers and other key columns use COLLATE "C": keyset pagination compares and orders
-- them, and the order must be the byte order SQLite uses (ULIDs sort by time only under it),
-- whatever locale the database was created with. It also makes those B-tree comparisons a
-- plain memcmp.
--
-- Partitioning decision for `events`: NOT partitioned (one table, B-tree indexes that all lead
-- with organization_id). Why:
--   * Time partitions pay off when old data is dropped a partition at a time. Here retention is
--     per organization (each has its own period, or a legal hold that stops it), and it REDACTS
--     rather than deletes: the sequence number and leaf hash of every event stay forever for the
--     tamper-evidence log. Dropping a month would delete held organizations' events and break
--     every hash chain, so the sweeper works per organization in small UPDATE batches anyway.
--   * A unique constraint on a partitioned table must contain the partition key. Partitioning
--     by occurred_at would make UNIQUE (organization_id, sequence) — the gap/duplicate-free
--     sequence invariant — and UNIQUE (id) unenforceable.
--   * occurred_at is chosen by the client and may lie far in the past, so writes would scatter
--     over old partitions (and need a default partition); partitioning by received_at instead
--     would not prune the exports, which filter on occurred_at.
--   * Every hot query (export pages, max targets, the sweeper, sequence reads) is a range scan of
--     one organization in an index that starts with organization_id, so it reads that
--     organization's slice whatever the table's total size; pruning would add little.
-- If one table ever becomes too big to vacuum or reindex comfortably, the way out is HASH
-- partitioning by organization_id (all per-organization queries prune to one partition and
-- UNIQUE (organization_id, sequence) stays enforceable; `id` would become unique per
-- organization), done by a later migration.

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    -- SHA-256 of the full key; the key itself is never stored.
    key_hash BYTEA NOT NULL UNIQUE,
    -- First characters of the key, to recognise it in listings without revealing it.
    display_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- fillfactor 80: every ingest batch bumps `last_sequence`, an unindexed column, so the update can
-- stay on the same page (HOT) instead of growing the table and its indexes.
CREATE TABLE organizations (
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT COLLATE "C",
    metadata TEXT NOT NULL,
    domains TEXT NOT NULL,
    stripe_customer_id TEXT,
    allow_profiles_outside_organization BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Deleted organizations are hidden, but their events stay until retention removes them.
    deleted_at BIGINT,
    -- Highest sequence number handed out to this organization's events (-1: none yet). Ingest
    -- takes this row's lock (UPDATE) for the rest of its transaction, which serializes the
    -- batches of one organization across nodes.
    last_sequence BIGINT NOT NULL DEFAULT -1,
    -- NULL: the server's default retention applies.
    retention_period_in_days BIGINT,
    -- Set while a legal hold is on: nothing of the organization is deleted.
    legal_hold_reason TEXT,
    legal_hold_since BIGINT
) WITH (fillfactor = 80);
CREATE INDEX organizations_environment ON organizations (environment, id);
CREATE UNIQUE INDEX organizations_external_id ON organizations (environment, external_id)
    WHERE external_id IS NOT NULL AND deleted_at IS NULL;

-- Append-mostly; the retention sweeper later rewrites old rows (redaction), which leaves dead
-- tuples behind: vacuum after 2 % rather than the default 20 % of a huge table has changed.
CREATE TABLE events (
    -- Compact internal key, referenced by event_target_types; `id` is the public identifier.
    row_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    environment TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    sequence BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    actor_id TEXT COLLATE "C" NOT NULL,
    actor_name TEXT COLLATE "C",
    target_count BIGINT NOT NULL,
    -- Canonical JSON (see auditlog-domain::canonical), TEXT so it round-trips byte for byte;
    -- NULL once retention has removed it.
    payload TEXT,
    leaf_hash BYTEA NOT NULL,
    -- When retention removed the payload; the sequence number and leaf hash stay.
    redacted_at BIGINT,
    -- The sequence invariant, enforced: no duplicates even if a bug slipped past the row lock.
    -- Also serves reads in sequence order (the tamper-evidence log, list_events_by_sequence).
    CONSTRAINT events_sequence UNIQUE (organization_id, sequence)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);

-- Export pages and the widest-event query: keyset (occurred_at, id) within one organization and
-- range. target_count rides along so the widest-event query (MAX(target_count) before an
-- export) is an index-only scan rather than a read of every row. Partial: a redacted event is
-- never exported, and leaving it out of the index keeps the retention sweeper's "oldest
-- unredacted events before the cutoff" a short scan from the start of the index instead of one
-- that wades through everything already redacted.
CREATE INDEX events_by_time ON events (organization_id, occurred_at, id) INCLUDE (target_count)
    WHERE payload IS NOT NULL;
-- Export filters on action / actor id / actor name (`= ANY($n)`), then the range. Redacted events
-- have these columns blanked and are never exported, so they stay out of these indexes too.
CREATE INDEX events_by_action ON events (organization_id, action, occurred_at)
    WHERE payload IS NOT NULL;
CREATE INDEX events_by_actor_id ON events (organization_id, actor_id, occurred_at)
    WHERE payload IS NOT NULL;
CREATE INDEX events_by_actor_name ON events (organization_id, actor_name, occurred_at)
    WHERE payload IS NOT NULL;

-- One row per distinct target type of an event, for the export `targets` filter (an EXISTS probe
-- of the primary key per candidate event). Rows of redacted events are deleted.
CREATE TABLE event_target_types (
    organization_id TEXT COLLATE "C" NOT NULL,
    target_type TEXT COLLATE "C" NOT NULL,
    occurred_at BIGINT NOT NULL,
    event_row_id BIGINT NOT NULL,
    PRIMARY KEY (organization_id, target_type, occurred_at, event_row_id)
);
-- The sweeper deletes the rows of the events it redacts by event (PostgreSQL 15 cannot skip the
-- primary key's target_type column to get there).
CREATE INDEX event_target_types_by_event ON event_target_types (event_row_id);

CREATE TABLE idempotency_keys (
    environment TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is a conflict.
    request_hash BYTEA NOT NULL,
    -- HTTP status of the stored response; 0 = a claim in flight (no response yet).
    status INTEGER NOT NULL,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- For a claim (status 0): until when it holds; duplicates on any node wait for it.
    claimed_until BIGINT,
    PRIMARY KEY (environment, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Action schemas: append-only, immutable versions per (environment, action).
CREATE TABLE audit_log_actions (
    -- Internal, time-sortable key (`ala_<ULID>`): the opaque list cursor.
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    latest_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment, name)
);
CREATE INDEX audit_log_actions_by_environment ON audit_log_actions (environment, id);

CREATE TABLE audit_log_schemas (
    -- Internal, time-sortable key (`als_<ULID>`): the opaque list cursor.
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    -- `{"targets": [...], "actor"?: {...}, "metadata"?: {...}}` as validated at creation.
    document TEXT NOT NULL,
    -- Canonical bytes of the document: equal exactly when two schemas mean the same.
    fingerprint BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (environment, action, version)
);
CREATE INDEX audit_log_schemas_by_action ON audit_log_schemas (environment, action, id);

-- Exports and the durable job queue that produces them.
CREATE TABLE exports (
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    -- pending | ready | error | expired
    state TEXT COLLATE "C" NOT NULL,
    -- ExportFilters as JSON (range and filters).
    filters TEXT NOT NULL,
    blob_key TEXT,
    row_count BIGINT,
    byte_count BIGINT,
    -- Why the export failed (also logged).
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- When the file of a ready export is deleted and the export becomes `expired`.
    file_expires_at BIGINT
);
CREATE INDEX exports_by_expiry ON exports (state, file_expires_at);

CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT COLLATE "C" NOT NULL,
    payload TEXT NOT NULL,
    -- queued | running | done | failed
    state TEXT COLLATE "C" NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    -- The node holding the job and until when; an expired lease makes the job claimable again.
    lease_owner TEXT COLLATE "C",
    lease_expires_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The claim scans runnable jobs only; finished ones (the vast majority over time) stay out.
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (lease_expires_at) WHERE state = 'running';

-- Retention: legal-hold history and the sweeper's per-organization lease.
CREATE TABLE legal_hold_history (
    id TEXT COLLATE "C" PRIMARY KEY,
    environment TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    -- placed | released
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Which API key did it (its record id, never the key).
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX legal_hold_history_by_organization
    ON legal_hold_history (environment, organization_id, at);

-- One sweeper per organization at a time, across nodes: a lease like the job queue's.
CREATE TABLE retention_sweeps (
    organization_id TEXT COLLATE "C" PRIMARY KEY,
    lease_owner TEXT COLLATE "C",
    lease_expires_at BIGINT,
    last_swept_at BIGINT
);
