-- Action schemas: append-only, immutable versions per (environment, action).

CREATE TABLE audit_log_actions (
    -- Internal, time-sortable key (`ala_<ULID>`): the opaque list cursor.
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (environment, name)
);

CREATE TABLE audit_log_schemas (
    -- Internal, time-sortable key (`als_<ULID>`): the opaque list cursor.
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    action TEXT NOT NULL,
    version INTEGER NOT NULL,
    -- `{"targets": [...], "actor"?: {...}, "metadata"?: {...}}` as validated at creation.
    document TEXT NOT NULL,
    -- Canonical bytes of the document: equal exactly when two schemas mean the same.
    fingerprint BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (environment, action, version)
);
CREATE INDEX audit_log_schemas_by_action ON audit_log_schemas (environment, action, id);
