-- Admin Portal: single-use links handed out by `POST /portal/generate_link`, and the browser
-- sessions they start. Tokens are stored only as SHA-256 hashes (hex), like API keys, so a
-- database dump opens no session.
CREATE TABLE portal_links (
    token_hash TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    -- audit_logs | log_streams
    intent TEXT NOT NULL,
    return_url TEXT,
    success_url TEXT,
    -- The application's id for the admin the link is for: `POST /portal/revoke_link` ends
    -- every link and session of it.
    external_user_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set once, by the request that opened the link; a link is never opened twice.
    redeemed_at BIGINT
);

CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    -- portal_session_<ULID>: who did something, in the meta-audit trail.
    id TEXT NOT NULL UNIQUE,
    environment TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    intent TEXT NOT NULL,
    return_url TEXT,
    success_url TEXT,
    external_user_id TEXT,
    -- Sent back in X-CSRF-Token on every state-changing request.
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- The absolute end, whatever the activity.
    expires_at BIGINT NOT NULL
);

CREATE INDEX portal_links_by_user ON portal_links (environment, organization_id, external_user_id);
CREATE INDEX portal_sessions_by_user ON portal_sessions (environment, organization_id, external_user_id);
