-- Exports and the durable job queue that produces them.

CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    -- pending | ready | error | expired
    state TEXT NOT NULL,
    -- ExportFilters as JSON (range and filters).
    filters TEXT NOT NULL,
    blob_key TEXT,
    row_count INTEGER,
    byte_count INTEGER,
    -- Why the export failed (also logged).
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- When the file of a ready export is deleted and the export becomes `expired`.
    file_expires_at INTEGER
);
CREATE INDEX exports_by_expiry ON exports (state, file_expires_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- queued | running | done | failed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL,
    -- The node holding the job and until when; an expired lease makes the job claimable again.
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_readiness ON jobs (state, run_after);
