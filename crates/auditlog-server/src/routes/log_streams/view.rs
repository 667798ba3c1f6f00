//! The LogStream object of the streams API (an extension), and the WorkOS `log_stream` of the
//! audit-log configuration. Secrets are never in either: only the names of those that are set.

use crate::clock::now_micros;
use crate::error::ApiError;
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use crate::streams::destination::Destination;
use auditlog_store::LogStream;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// The stream a route is about, in its organization.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Describes the parameters; `PathIds` extracts them.
pub struct StreamPath {
    #[param(example = "org_01EHZNVPK3SFK441A1RGBFSHRT")]
    organization_id: String,
    #[param(example = "als_01J9Z6W3X4Y5Z6A7B8C9D0E1F2")]
    stream_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
enum LogStreamObject {
    #[serde(rename = "log_stream")]
    LogStream,
}

/// As WorkOS reports it: `inactive` while paused, `error` while the receiver refuses or fails,
/// `invalid` when the destination is not allowed or not valid.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = LogStreamState)]
pub enum StreamState {
    Active,
    Inactive,
    Error,
    Invalid,
}

impl StreamState {
    pub fn of(stream: &LogStream) -> StreamState {
        match (stream.paused, stream.state.as_str()) {
            (true, _) => StreamState::Inactive,
            (false, "error") => StreamState::Error,
            (false, "invalid") => StreamState::Invalid,
            _ => StreamState::Active,
        }
    }
}

/// How far delivery trails the organization's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamLag {
    /// Events stored but not yet acknowledged by the receiver.
    #[schema(minimum = 0)]
    events: i64,
    /// Age of the oldest of them, in seconds (0 when caught up).
    #[schema(minimum = 0)]
    seconds: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStreamError)]
pub struct StreamErrorView {
    /// What the receiver answered (bounded), or why it could not be reached.
    message: String,
    /// The receiver's HTTP status, when it answered.
    #[schema(required = true)]
    status: Option<i64>,
    at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStreamCounters)]
pub struct CountersView {
    delivered_events: i64,
    delivered_batches: i64,
    failed_attempts: i64,
    /// Events retention removed before they could be delivered.
    skipped_events: i64,
}

/// A replay asked for on demand and not finished yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStreamReplay)]
pub struct ReplayView {
    next_sequence: i64,
    end_sequence: i64,
}

/// A log stream (extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStream)]
pub struct LogStreamView {
    #[schema(inline)]
    object: LogStreamObject,
    /// `als_<ULID>`
    #[schema(example = "als_01J9Z6W3X4Y5Z6A7B8C9D0E1F2")]
    id: String,
    organization_id: String,
    /// `GenericHttps`, `Datadog`, `Splunk`, `S3` or `Syslog`.
    #[serde(rename = "type")]
    #[schema(example = "GenericHttps")]
    destination_type: String,
    state: StreamState,
    paused: bool,
    /// The destination's settings as given.
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// Names of the secrets that are set (their values are never returned).
    secrets: Vec<String>,
    /// The last sequence the receiver acknowledged (-1: none yet).
    #[schema(minimum = -1)]
    cursor: i64,
    #[schema(required = true)]
    replay: Option<ReplayView>,
    lag: StreamLag,
    #[schema(required = true)]
    last_synced_at: Option<Timestamp>,
    #[schema(required = true)]
    last_error: Option<StreamErrorView>,
    counters: CountersView,
    /// When the next delivery attempt is due (after a failure, the backoff's end).
    next_attempt_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl LogStreamView {
    /// The view of `stream`, with its lag read now.
    pub async fn load(state: &AppState, stream: &LogStream) -> Result<LogStreamView, ApiError> {
        let count = state
            .store
            .log_leaf_count(&stream.organization_id)
            .await?
            .unwrap_or(0);
        let behind = (count - 1 - stream.cursor).max(0);
        let oldest = if behind > 0 {
            state
                .store
                .tail_events(
                    &stream.environment,
                    &stream.organization_id,
                    stream.cursor,
                    1,
                )
                .await?
                .first()
                .map(|event| event.received_at)
        } else {
            None
        };
        let seconds = oldest
            .map(|at| ((now_micros() - at).max(0)) as f64 / 1e6)
            .unwrap_or(0.0);
        Ok(LogStreamView {
            object: LogStreamObject::LogStream,
            id: stream.id.clone(),
            organization_id: stream.organization_id.clone(),
            destination_type: stream.destination_type.clone(),
            state: StreamState::of(stream),
            paused: stream.paused,
            settings: stream.settings.as_object().cloned().unwrap_or_default(),
            secrets: Destination::secret_names(&stream.secrets),
            cursor: stream.cursor,
            replay: stream.replay.map(|(next, end)| ReplayView {
                next_sequence: next,
                end_sequence: end,
            }),
            lag: StreamLag {
                events: behind,
                seconds,
            },
            last_synced_at: stream.last_synced_at.map(Timestamp::from_micros),
            last_error: stream.last_error.as_ref().map(|error| StreamErrorView {
                message: error.message.clone(),
                status: error.status,
                at: Timestamp::from_micros(error.at),
            }),
            counters: CountersView {
                delivered_events: stream.counters.delivered_events,
                delivered_batches: stream.counters.delivered_batches,
                failed_attempts: stream.counters.failed_attempts,
                skipped_events: stream.counters.skipped_events,
            },
            next_attempt_at: Timestamp::from_micros(stream.next_attempt_at),
            created_at: Timestamp::from_micros(stream.created_at),
            updated_at: Timestamp::from_micros(stream.updated_at),
        })
    }
}

/// The stream as WorkOS reports it on the audit-log configuration.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogConfigurationLogStream)]
pub struct ConfigurationStreamView {
    #[schema(example = "als_01J9Z6W3X4Y5Z6A7B8C9D0E1F2")]
    id: String,
    /// One of WorkOS's types: `GenericHttps`, `Datadog`, `Splunk` or `S3` here.
    #[serde(rename = "type")]
    destination_type: String,
    state: StreamState,
    #[schema(required = true)]
    last_synced_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl ConfigurationStreamView {
    pub fn new(stream: &LogStream) -> ConfigurationStreamView {
        ConfigurationStreamView {
            id: stream.id.clone(),
            destination_type: stream.destination_type.clone(),
            state: StreamState::of(stream),
            last_synced_at: stream.last_synced_at.map(Timestamp::from_micros),
            created_at: Timestamp::from_micros(stream.created_at),
        }
    }
}
