//! `PATCH /organizations/{id}/log_streams/{id}`: settings, secrets, pause and resume.

use super::get::load_stream;
use super::request::{object_field, paused_field, refuse_unknown};
use super::view::{LogStreamView, StreamPath};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathIds;
use crate::openapi::responses::{NotFound, ValidationFailed};
use crate::state::AppState;
use crate::streams::destination::Destination;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

/// Update a log stream
///
/// `settings` replaces the settings; `secrets` replaces the secrets it names and keeps the
/// others (`null` removes one); `paused` pauses (`inactive`) or resumes. A change of settings or
/// secrets makes a failing stream try again at once. The position does not change (see replay).
#[utoipa::path(
    patch,
    path = "/organizations/{organization_id}/log_streams/{stream_id}",
    operation_id = "updateLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(StreamPath),
    request_body = super::request::UpdateLogStreamRequest,
    responses(
        (status = 200, description = "The updated stream.", body = LogStreamView),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    ),
)]
pub async fn update_log_stream(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, stream_id): PathIds,
    JsonBody(body): JsonBody,
) -> Result<Json<LogStreamView>, ApiError> {
    let mut stream = load_stream(&state, &environment, &organization_id, &stream_id).await?;
    let mut errors = FieldErrors::default();
    refuse_unknown(&body, &["settings", "secrets", "paused"], &mut errors);
    let settings = object_field(&body, "settings", &mut errors).cloned();
    let secrets = object_field(&body, "secrets", &mut errors).cloned();
    let paused = paused_field(&body, &mut errors);
    let reconfigured = settings.is_some() || secrets.is_some();
    if let Some(settings) = settings {
        stream.settings = settings;
    }
    if let Some(Value::Object(changes)) = secrets {
        let mut merged = stream.secrets.as_object().cloned().unwrap_or_default();
        for (name, value) in changes {
            if value.is_null() {
                merged.remove(&name);
            } else {
                merged.insert(name, value);
            }
        }
        stream.secrets = Value::Object(merged);
    }
    let policy = state.config.streams.outbound_policy();
    if let Err(destination_errors) = Destination::parse(
        &stream.destination_type,
        &stream.settings,
        &stream.secrets,
        &policy,
    ) {
        errors.0.extend(destination_errors.0);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = now_micros();
    let resumed = paused == Some(false) && stream.paused;
    if let Some(paused) = paused {
        stream.paused = paused;
    }
    if reconfigured || resumed {
        // A new credential or endpoint deserves an attempt now, not after the backoff.
        stream.next_attempt_at = now;
        if stream.state == "invalid" {
            stream.state = "active".into();
        }
    }
    stream.updated_at = now;
    if !state.store.update_stream(&stream).await? {
        return Err(ApiError::NotFound(format!(
            "Log stream not found: '{stream_id}'."
        )));
    }
    tracing::info!(stream_id = %stream.id, paused = stream.paused, reconfigured, "log stream updated");
    Ok(Json(LogStreamView::load(&state, &stream).await?))
}
