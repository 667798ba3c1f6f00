//! The `log_streams` row as both stores read it (see [`crate::rows`] for the conventions).

use crate::error::StoreResult;
use crate::types::{LogStream, StreamCounters, StreamError};

pub(crate) const STREAM_COLUMNS: &str = "id, environment, organization_id, destination_type, \
    settings, secrets, paused, state, cursor_sequence, replay_next, replay_end, last_synced_at, \
    last_error, last_error_status, last_error_at, delivered_events, delivered_batches, \
    failed_attempts, skipped_events, consecutive_failures, next_attempt_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct StreamRow {
    id: String,
    environment: String,
    organization_id: String,
    destination_type: String,
    settings: String,
    secrets: String,
    paused: bool,
    state: String,
    cursor_sequence: i64,
    replay_next: Option<i64>,
    replay_end: Option<i64>,
    last_synced_at: Option<i64>,
    last_error: Option<String>,
    last_error_status: Option<i64>,
    last_error_at: Option<i64>,
    delivered_events: i64,
    delivered_batches: i64,
    failed_attempts: i64,
    skipped_events: i64,
    consecutive_failures: i64,
    next_attempt_at: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<StreamRow> for LogStream {
    type Error = crate::error::StoreError;

    fn try_from(row: StreamRow) -> StoreResult<Self> {
        Ok(LogStream {
            id: row.id,
            environment: row.environment,
            organization_id: row.organization_id,
            destination_type: row.destination_type,
            settings: serde_json::from_str(&row.settings)?,
            secrets: serde_json::from_str(&row.secrets)?,
            paused: row.paused,
            state: row.state,
            cursor: row.cursor_sequence,
            replay: row.replay_next.zip(row.replay_end),
            last_synced_at: row.last_synced_at,
            last_error: row.last_error.map(|message| StreamError {
                message,
                status: row.last_error_status,
                at: row.last_error_at.unwrap_or_default(),
            }),
            counters: StreamCounters {
                delivered_events: row.delivered_events,
                delivered_batches: row.delivered_batches,
                failed_attempts: row.failed_attempts,
                skipped_events: row.skipped_events,
            },
            consecutive_failures: row.consecutive_failures,
            next_attempt_at: row.next_attempt_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
