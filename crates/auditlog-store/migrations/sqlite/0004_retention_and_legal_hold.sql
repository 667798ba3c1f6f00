-- Retention per organization, legal hold, and the bookkeeping of the retention sweeper.

-- NULL: the server's default retention applies.
ALTER TABLE organizations ADD COLUMN retention_period_in_days INTEGER;
-- Set while a legal hold is on: nothing of the organization is deleted.
ALTER TABLE organizations ADD COLUMN legal_hold_reason TEXT;
ALTER TABLE organizations ADD COLUMN legal_hold_since INTEGER;

-- When retention removed the event's payload; its sequence number and leaf hash stay.
ALTER TABLE events ADD COLUMN redacted_at INTEGER;

CREATE TABLE legal_hold_history (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    -- placed | released
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Which API key did it (its record id, never the key).
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX legal_hold_history_by_organization ON legal_hold_history (environment, organization_id, at);

-- One sweeper per organization at a time, across nodes: a lease like the job queue's.
CREATE TABLE retention_sweeps (
    organization_id TEXT PRIMARY KEY,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_swept_at INTEGER
);
