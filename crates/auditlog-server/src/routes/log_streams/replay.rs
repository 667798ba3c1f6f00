//! `POST /organizations/{id}/log_streams/{id}/replay`: delivers a range again.

use super::get::load_stream;
use super::request::{refuse_unknown, sequence_field};
use super::view::{LogStreamView, StreamPath};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathIds;
use crate::openapi::responses::{NotFound, ValidationFailed};
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::{Extension, Json};

/// Replay a range
///
/// Delivers sequences `from_sequence` to `to_sequence` (default and at most: the last one the
/// receiver acknowledged) again, in order, in batches ahead of live delivery (new events wait
/// until it is done); the receiver recognises them by id and sequence. A new replay replaces
/// one that has not finished.
#[utoipa::path(
    post,
    path = "/organizations/{organization_id}/log_streams/{stream_id}/replay",
    operation_id = "replayLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(StreamPath),
    request_body = super::request::ReplayRequest,
    responses(
        (status = 202, description = "The replay is queued; the stream shows its progress.", body = LogStreamView),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    ),
)]
pub async fn replay_log_stream(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, stream_id): PathIds,
    JsonBody(body): JsonBody,
) -> Result<(axum::http::StatusCode, Json<LogStreamView>), ApiError> {
    let mut stream = load_stream(&state, &environment, &organization_id, &stream_id).await?;
    let mut errors = FieldErrors::default();
    refuse_unknown(&body, &["from_sequence", "to_sequence"], &mut errors);
    let from = sequence_field(&body, "from_sequence", &mut errors);
    if from.is_none() && errors.0.iter().all(|e| e.field != "from_sequence") {
        errors.push("from_sequence", "required", "from_sequence is required");
    }
    let to = sequence_field(&body, "to_sequence", &mut errors).unwrap_or(stream.cursor);
    if let Some(from) = from {
        if to > stream.cursor {
            errors.push(
                "to_sequence",
                "invalid_value",
                format!(
                    "to_sequence must be at most {}, the last sequence delivered (later ones are \
                     on their way)",
                    stream.cursor
                ),
            );
        } else if from > to {
            errors.push(
                "from_sequence",
                "invalid_value",
                format!("from_sequence must be at most to_sequence ({to})"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let from = from.expect("checked above");
    let now = now_micros();
    stream.replay = Some((from, to));
    stream.next_attempt_at = stream.next_attempt_at.min(now);
    stream.updated_at = now;
    state.store.update_stream(&stream).await?;
    tracing::info!(stream_id = %stream.id, from, to, "log stream replay queued");
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(LogStreamView::load(&state, &stream).await?),
    ))
}
