//! The Admin Portal statements, written once with `?` placeholders (the PostgreSQL store
//! numbers them, as for `stream_sql`).

pub(crate) const INSERT_LINK: &str = "INSERT INTO portal_links (token_hash, environment, \
    organization_id, intent, return_url, success_url, external_user_id, created_at, expires_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// now, token_hash, now. One statement marks the link used and reads it, so two requests
/// racing with the same link cannot both open it.
pub(crate) const REDEEM_LINK: &str = "UPDATE portal_links SET redeemed_at = ? \
    WHERE token_hash = ? AND redeemed_at IS NULL AND expires_at > ? \
    RETURNING token_hash, environment, organization_id, intent, return_url, success_url, \
    external_user_id, created_at, expires_at";

pub(crate) const SESSION_COLUMNS: &str = "token_hash, id, environment, organization_id, intent, \
    return_url, success_url, external_user_id, csrf_token, created_at, last_seen_at, expires_at";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO portal_sessions (token_hash, id, \
    environment, organization_id, intent, return_url, success_url, external_user_id, csrf_token, \
    created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// After the columns: token_hash.
pub(crate) const GET_SESSION: &str = "FROM portal_sessions WHERE token_hash = ?";

/// now, token_hash.
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE portal_sessions SET last_seen_at = ? WHERE token_hash = ?";

pub(crate) const DELETE_SESSION: &str = "DELETE FROM portal_sessions WHERE token_hash = ?";

/// environment, organization_id, external_user_id.
pub(crate) const REVOKE_LINKS: &str = "DELETE FROM portal_links \
    WHERE environment = ? AND organization_id = ? AND external_user_id = ?";

/// environment, organization_id, external_user_id.
pub(crate) const REVOKE_SESSIONS: &str = "DELETE FROM portal_sessions \
    WHERE environment = ? AND organization_id = ? AND external_user_id = ?";

/// now.
pub(crate) const DELETE_EXPIRED_LINKS: &str = "DELETE FROM portal_links WHERE expires_at <= ?";

/// now, idle cutoff.
pub(crate) const DELETE_EXPIRED_SESSIONS: &str =
    "DELETE FROM portal_sessions WHERE expires_at <= ? OR last_seen_at <= ?";

/// Binds a [`crate::types::PortalLink`] to [`INSERT_LINK`].
macro_rules! bind_link {
    ($query:expr, $link:expr) => {
        $query
            .bind(&$link.token_hash)
            .bind(&$link.environment)
            .bind(&$link.organization_id)
            .bind(&$link.intent)
            .bind(&$link.return_url)
            .bind(&$link.success_url)
            .bind(&$link.external_user_id)
            .bind($link.created_at)
            .bind($link.expires_at)
    };
}

/// Binds a [`crate::types::PortalSession`] to [`INSERT_SESSION`].
macro_rules! bind_session {
    ($query:expr, $session:expr) => {
        $query
            .bind(&$session.token_hash)
            .bind(&$session.id)
            .bind(&$session.environment)
            .bind(&$session.organization_id)
            .bind(&$session.intent)
            .bind(&$session.return_url)
            .bind(&$session.success_url)
            .bind(&$session.external_user_id)
            .bind(&$session.csrf_token)
            .bind($session.created_at)
            .bind($session.last_seen_at)
            .bind($session.expires_at)
    };
}

pub(crate) use {bind_link, bind_session};
