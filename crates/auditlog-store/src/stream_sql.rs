//! The `log_streams` statements, written once with `?` placeholders: the SQLite store runs
//! them as they are, the PostgreSQL store numbers the placeholders ([`numbered`]). Both bind
//! the same values in the same order, so the two implementations cannot drift apart.

pub(crate) const INSERT: &str = "INSERT INTO log_streams (id, environment, organization_id, \
    destination_type, settings, secrets, paused, state, cursor_sequence, replay_next, replay_end, \
    last_synced_at, last_error, last_error_status, last_error_at, delivered_events, \
    delivered_batches, failed_attempts, skipped_events, consecutive_failures, next_attempt_at, \
    created_at, updated_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// After the columns: `WHERE environment = ? AND organization_id = ? AND id = ?`.
pub(crate) const GET: &str =
    "FROM log_streams WHERE environment = ? AND organization_id = ? AND id = ?";

/// After the columns: `WHERE environment = ? AND organization_id = ?`, oldest first.
pub(crate) const LIST: &str = "FROM log_streams WHERE environment = ? AND organization_id = ? \
    ORDER BY created_at, id";

pub(crate) const UPDATE: &str = "UPDATE log_streams SET settings = ?, secrets = ?, paused = ?, \
    state = ?, next_attempt_at = ?, replay_next = ?, replay_end = ?, updated_at = ? \
    WHERE environment = ? AND organization_id = ? AND id = ?";

pub(crate) const DELETE: &str =
    "DELETE FROM log_streams WHERE environment = ? AND organization_id = ? AND id = ?";

/// After the columns: paused (false), now, now, owner, limit. Only streams with something to
/// deliver (events past the cursor, or a replay) are due, so idle streams cost no lease write.
pub(crate) const DUE: &str = "FROM log_streams WHERE paused = ? AND next_attempt_at <= ? \
    AND (lease_owner IS NULL OR lease_expires_at <= ? OR lease_owner = ?) \
    AND (replay_next IS NOT NULL OR cursor_sequence < (SELECT o.last_sequence FROM organizations o \
         WHERE o.id = log_streams.organization_id)) \
    ORDER BY next_attempt_at, id LIMIT ?";

/// owner, lease_until, id, now, owner.
pub(crate) const CLAIM: &str = "UPDATE log_streams SET lease_owner = ?, lease_expires_at = ? \
    WHERE id = ? AND (lease_owner IS NULL OR lease_expires_at <= ? OR lease_owner = ?)";

/// id, owner.
pub(crate) const RELEASE: &str = "UPDATE log_streams SET lease_owner = NULL, \
    lease_expires_at = NULL WHERE id = ? AND lease_owner = ?";

/// to, delivered, batches (0 or 1), skipped, now, now, id, owner, from.
pub(crate) const PROGRESS: &str = "UPDATE log_streams SET cursor_sequence = ?, \
    delivered_events = delivered_events + ?, delivered_batches = delivered_batches + ?, \
    skipped_events = skipped_events + ?, last_synced_at = ?, state = 'active', \
    consecutive_failures = 0, next_attempt_at = ? \
    WHERE id = ? AND lease_owner = ? AND cursor_sequence = ?";

/// to, to, to, delivered, batches (0 or 1), now, now, id, owner, from. A replay's events
/// were counted when first delivered as skipped or not; only deliveries count again.
pub(crate) const REPLAY_PROGRESS: &str = "UPDATE log_streams SET \
    replay_next = CASE WHEN ? >= replay_end THEN NULL ELSE ? + 1 END, \
    replay_end = CASE WHEN ? >= replay_end THEN NULL ELSE replay_end END, \
    delivered_events = delivered_events + ?, delivered_batches = delivered_batches + ?, \
    last_synced_at = ?, state = 'active', consecutive_failures = 0, next_attempt_at = ? \
    WHERE id = ? AND lease_owner = ? AND replay_next = ?";

/// state, message, status, at, next_attempt_at, id, owner.
pub(crate) const FAILURE: &str = "UPDATE log_streams SET state = ?, last_error = ?, \
    last_error_status = ?, last_error_at = ?, failed_attempts = failed_attempts + 1, \
    consecutive_failures = consecutive_failures + 1, next_attempt_at = ? \
    WHERE id = ? AND lease_owner = ?";

/// organization_id, at: the first sequence received at or after a time.
pub(crate) const FIRST_SEQUENCE_SINCE: &str =
    "SELECT MIN(sequence) FROM events WHERE organization_id = ? AND received_at >= ?";

/// Per destination type and state: streams, and events stored but not yet delivered.
pub(crate) const SUMMARY: &str = "SELECT s.destination_type, \
    CASE WHEN s.paused THEN 'inactive' ELSE s.state END AS shown_state, COUNT(*) AS streams, \
    CAST(COALESCE(SUM(CASE WHEN o.last_sequence > s.cursor_sequence \
        THEN o.last_sequence - s.cursor_sequence ELSE 0 END), 0) AS BIGINT) AS lag_events \
    FROM log_streams s JOIN organizations o ON o.id = s.organization_id \
    GROUP BY s.destination_type, shown_state";

/// `sql` with its `?` placeholders numbered `$1`, `$2`, … for PostgreSQL. The statements
/// above hold no `?` inside a string literal.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Binds a [`crate::types::LogStream`] to [`INSERT`].
macro_rules! bind_insert {
    ($query:expr, $stream:expr) => {{
        let stream: &$crate::types::LogStream = $stream;
        let error = stream.last_error.as_ref();
        $query
            .bind(&stream.id)
            .bind(&stream.environment)
            .bind(&stream.organization_id)
            .bind(&stream.destination_type)
            .bind(serde_json::to_string(&stream.settings)?)
            .bind(serde_json::to_string(&stream.secrets)?)
            .bind(stream.paused)
            .bind(&stream.state)
            .bind(stream.cursor)
            .bind(stream.replay.map(|(next, _)| next))
            .bind(stream.replay.map(|(_, end)| end))
            .bind(stream.last_synced_at)
            .bind(error.map(|e| e.message.clone()))
            .bind(error.and_then(|e| e.status))
            .bind(error.map(|e| e.at))
            .bind(stream.counters.delivered_events)
            .bind(stream.counters.delivered_batches)
            .bind(stream.counters.failed_attempts)
            .bind(stream.counters.skipped_events)
            .bind(stream.consecutive_failures)
            .bind(stream.next_attempt_at)
            .bind(stream.created_at)
            .bind(stream.updated_at)
    }};
}

/// Binds a [`crate::types::LogStream`] to [`UPDATE`].
macro_rules! bind_update {
    ($query:expr, $stream:expr) => {{
        let stream: &$crate::types::LogStream = $stream;
        $query
            .bind(serde_json::to_string(&stream.settings)?)
            .bind(serde_json::to_string(&stream.secrets)?)
            .bind(stream.paused)
            .bind(&stream.state)
            .bind(stream.next_attempt_at)
            .bind(stream.replay.map(|(next, _)| next))
            .bind(stream.replay.map(|(_, end)| end))
            .bind(stream.updated_at)
            .bind(&stream.environment)
            .bind(&stream.organization_id)
            .bind(&stream.id)
    }};
}

/// Binds a [`crate::types::StreamProgress`] to [`PROGRESS`] or [`REPLAY_PROGRESS`].
macro_rules! bind_progress {
    ($query:expr, $progress:expr) => {{
        let progress: &$crate::types::StreamProgress = $progress;
        let batches = i64::from(progress.delivered > 0);
        let query = if progress.replay {
            $query
                .bind(progress.to)
                .bind(progress.to)
                .bind(progress.to)
                .bind(progress.delivered)
                .bind(batches)
        } else {
            $query
                .bind(progress.to)
                .bind(progress.delivered)
                .bind(batches)
                .bind(progress.skipped)
        };
        query
            .bind(progress.now)
            .bind(progress.now)
            .bind(&progress.stream_id)
            .bind(&progress.owner)
            .bind(progress.from)
    }};
}

/// Binds a [`crate::types::StreamFailure`] to [`FAILURE`].
macro_rules! bind_failure {
    ($query:expr, $failure:expr) => {{
        let failure: &$crate::types::StreamFailure = $failure;
        $query
            .bind(&failure.state)
            .bind(&failure.error.message)
            .bind(failure.error.status)
            .bind(failure.error.at)
            .bind(failure.next_attempt_at)
            .bind(&failure.stream_id)
            .bind(&failure.owner)
    }};
}

pub(crate) use {bind_failure, bind_insert, bind_progress, bind_update};

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            super::numbered("a = ? AND b = ? OR c = ?"),
            "a = $1 AND b = $2 OR c = $3"
        );
    }
}
