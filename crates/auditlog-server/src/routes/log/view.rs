//! What the tamper-evidence endpoints share: the checkpoint object, tree-size parameters,
//! hashes as base64, and how log failures answer.

use crate::error::{ApiError, ErrorBody};
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use crate::tlog::{parse_note, LogError};
use auditlog_domain::FieldErrors;
use auditlog_store::{StoreError, StoredCheckpoint};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::prelude::{Engine, BASE64_STANDARD};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// A hash as the API shows it: standard base64 (as in checkpoint notes).
pub fn b64(hash: &[u8; 32]) -> String {
    BASE64_STANDARD.encode(hash)
}

/// A signed checkpoint of an organization's log (RFC 9162 Merkle tree of its events, leaf
/// index = `sequence`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogCheckpoint)]
pub struct CheckpointView {
    #[schema(inline)]
    object: CheckpointObject,
    organization_id: String,
    /// The log's origin line, from the note.
    #[schema(required = true)]
    origin: Option<String>,
    #[schema(minimum = 0)]
    tree_size: i64,
    /// The tree's root hash (base64), from the note.
    #[schema(required = true, content_encoding = "base64")]
    root_hash: Option<String>,
    /// The signed checkpoint: a C2SP signed note (text), verifiable with the key of
    /// `GET /.well-known/auditlog/log-key`.
    checkpoint: String,
    created_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
enum CheckpointObject {
    #[serde(rename = "log_checkpoint")]
    LogCheckpoint,
}

impl CheckpointView {
    /// The signed note and, for convenience, what its body says.
    pub fn new(checkpoint: &StoredCheckpoint) -> CheckpointView {
        let (origin, root_hash) = match parse_note(&checkpoint.note) {
            Some((origin, _, root)) => (Some(origin), Some(b64(&root))),
            None => (None, None),
        };
        CheckpointView {
            object: CheckpointObject::LogCheckpoint,
            organization_id: checkpoint.organization_id.clone(),
            origin,
            tree_size: checkpoint.tree_size,
            root_hash,
            checkpoint: checkpoint.note.clone(),
            created_at: Timestamp::from_micros(checkpoint.created_at),
        }
    }
}

/// The organization whose log a route is about.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Describes the parameter; `PathId` extracts it.
pub struct LogPath {
    #[param(example = "org_01EHZNVPK3SFK441A1RGBFSHRT")]
    organization_id: String,
}

/// A tree size from the query: `None` when absent; a field error unless a non-negative integer.
pub fn tree_size_param(
    query: &HashMap<String, String>,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let text = query.get(name)?;
    match text.parse::<i64>() {
        Ok(size) if size >= 0 => Some(size),
        _ => {
            errors.push(
                name,
                "invalid_type",
                format!("{name} must be a non-negative integer (a tree size)"),
            );
            None
        }
    }
}

/// 404 unless the organization exists in the caller's environment.
pub async fn require_organization(
    state: &AppState,
    environment: &str,
    organization_id: &str,
) -> Result<(), ApiError> {
    match state
        .store
        .get_organization(environment, organization_id)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(ApiError::organization_not_found(organization_id)),
    }
}

/// 409: the log does not reach that far yet.
pub fn not_yet_in_log(message: String) -> ApiError {
    ApiError::Conflict {
        code: "not_yet_in_log",
        message,
    }
}

/// The error of a tamper-evidence endpoint.
#[derive(Debug)]
pub enum LogRouteError {
    Api(ApiError),
    Log(LogError),
}

impl From<ApiError> for LogRouteError {
    fn from(error: ApiError) -> Self {
        LogRouteError::Api(error)
    }
}

impl From<LogError> for LogRouteError {
    fn from(error: LogError) -> Self {
        LogRouteError::Log(error)
    }
}

impl From<StoreError> for LogRouteError {
    fn from(error: StoreError) -> Self {
        LogRouteError::Api(error.into())
    }
}

impl IntoResponse for LogRouteError {
    fn into_response(self) -> Response {
        match self {
            LogRouteError::Api(error) => error.into_response(),
            // Named, not hidden behind a generic 500: the stored data contradicts the log, which
            // is exactly what tamper evidence exists to reveal.
            LogRouteError::Log(LogError::Integrity(message)) => {
                tracing::error!(%message, "tamper-evidence integrity failure");
                let body = ErrorBody {
                    message,
                    code: "log_integrity_failure".into(),
                };
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
            LogRouteError::Log(error @ LogError::NotReached { .. }) => {
                not_yet_in_log(format!("{error}; try again shortly")).into_response()
            }
            LogRouteError::Log(LogError::Store(error)) => ApiError::from(error).into_response(),
            // Checkpoints are remembered in the blob store before they are stored: a full disk
            // or an unreachable bucket is a condition of the server that heals, as for the store.
            LogRouteError::Log(LogError::Blob(error)) => {
                crate::failure::report("the blob store failed under the log", &error);
                ApiError::Unavailable {
                    message: "The blob store, where signed checkpoints are kept, is temporarily \
                              unavailable (for example, the disk is full); retry shortly."
                        .into(),
                }
                .into_response()
            }
            LogRouteError::Log(error) => {
                ApiError::internal("tamper-evidence log failure", &error).into_response()
            }
        }
    }
}
