-- Log streams: an organization's events delivered to a receiver (SIEM, bucket, syslog) in
-- sequence order. The cursor is the last sequence the receiver acknowledged; the events
-- themselves are read from `events`, never copied.
CREATE TABLE log_streams (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    -- GenericHttps | Datadog | Splunk | S3 | Syslog
    destination_type TEXT NOT NULL,
    -- JSON object of the destination's settings (URL, site, index, …).
    settings TEXT NOT NULL,
    -- JSON object of the destination's secrets (tokens, keys); never returned by the API.
    secrets TEXT NOT NULL,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    -- active | error | invalid (paused streams are shown as inactive)
    state TEXT NOT NULL,
    -- Last sequence the receiver acknowledged (-1: none yet).
    cursor_sequence BIGINT NOT NULL,
    -- A replay asked for on demand: sequences replay_next ..= replay_end, delivered again.
    replay_next BIGINT,
    replay_end BIGINT,
    last_synced_at BIGINT,
    last_error TEXT,
    last_error_status BIGINT,
    last_error_at BIGINT,
    delivered_events BIGINT NOT NULL DEFAULT 0,
    delivered_batches BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    -- Events retention removed before they were delivered.
    skipped_events BIGINT NOT NULL DEFAULT 0,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- One node delivers a stream at a time.
    lease_owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX log_streams_by_organization ON log_streams (environment, organization_id, created_at);
CREATE INDEX log_streams_due ON log_streams (next_attempt_at) WHERE NOT paused;
