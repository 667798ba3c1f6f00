-- Core schema: API keys, organizations, events (with per-organization sequence numbers and
-- leaf hashes), and idempotency records. Timestamps are integer microseconds since the epoch.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    -- SHA-256 of the full key; the key itself is never stored.
    key_hash BLOB NOT NULL UNIQUE,
    -- First characters of the key, to recognise it in listings without revealing it.
    display_prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT,
    metadata TEXT NOT NULL,
    domains TEXT NOT NULL,
    stripe_customer_id TEXT,
    allow_profiles_outside_organization INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Deleted organizations are hidden, but their events stay until retention removes them.
    deleted_at INTEGER,
    -- Highest sequence number handed out to this organization's events (-1: none yet).
    last_sequence INTEGER NOT NULL DEFAULT -1
);
CREATE INDEX organizations_environment ON organizations (environment, id);
CREATE UNIQUE INDEX organizations_external_id ON organizations (environment, external_id)
    WHERE external_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE events (
    -- rowid alias keeps the table compact; `id` is the public identifier.
    row_id INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT,
    target_count INTEGER NOT NULL,
    -- Canonical JSON (see auditlog-domain::canonical); NULL once retention has removed it.
    payload TEXT,
    leaf_hash BLOB NOT NULL,
    UNIQUE (organization_id, sequence)
);
CREATE INDEX events_by_time ON events (organization_id, occurred_at, id);
CREATE INDEX events_by_action ON events (organization_id, action, occurred_at);
CREATE INDEX events_by_actor_id ON events (organization_id, actor_id, occurred_at);
CREATE INDEX events_by_actor_name ON events (organization_id, actor_name, occurred_at);

-- One row per distinct target type of an event, for the export `targets` filter.
CREATE TABLE event_target_types (
    organization_id TEXT NOT NULL,
    target_type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    event_row_id INTEGER NOT NULL,
    PRIMARY KEY (organization_id, target_type, occurred_at, event_row_id)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is a conflict.
    request_hash BLOB NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (environment, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
