//! `POST /organizations/{id}/log_streams` (extension).

use super::request::{object_field, paused_field, refuse_unknown, start_field, Start};
use super::view::LogStreamView;
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::{NotFound, ValidationFailed};
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use crate::streams::destination::Destination;
use auditlog_domain::ids::new_id;
use auditlog_domain::FieldErrors;
use auditlog_store::{LogStream, StreamCounters};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{json, Value};

/// Create a log stream
///
/// Starts delivering the organization's events to a receiver, in sequence order, from `start`.
/// Secrets are write-only.
#[utoipa::path(
    post,
    path = "/organizations/{organization_id}/log_streams",
    operation_id = "createLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(OrganizationPath),
    request_body = super::request::CreateLogStreamRequest,
    responses(
        (status = 201, description = "Created.", body = LogStreamView),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    ),
)]
pub async fn create_log_stream(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<LogStreamView>), ApiError> {
    state
        .store
        .get_organization(environment.name(), &organization_id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&organization_id))?;
    let mut errors = FieldErrors::default();
    refuse_unknown(
        &body,
        &["type", "settings", "secrets", "start", "paused"],
        &mut errors,
    );
    let kind = match body.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => {
            errors.push("type", "required", "type is required (a string)");
            String::new()
        }
    };
    let settings = object_field(&body, "settings", &mut errors)
        .cloned()
        .unwrap_or_else(|| json!({}));
    let secrets = object_field(&body, "secrets", &mut errors)
        .cloned()
        .unwrap_or_else(|| json!({}));
    let start = start_field(&body, &mut errors);
    let paused = paused_field(&body, &mut errors).unwrap_or(false);
    if !kind.is_empty() {
        let policy = state.config.streams.outbound_policy();
        if let Err(destination_errors) = Destination::parse(&kind, &settings, &secrets, &policy) {
            errors.0.extend(destination_errors.0);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let count = state
        .store
        .log_leaf_count(&organization_id)
        .await?
        .unwrap_or(0);
    let cursor = match start {
        Start::Now => count - 1,
        Start::Beginning => -1,
        Start::Sequence(sequence) => sequence - 1,
        Start::ReceivedSince(at) => state
            .store
            .first_sequence_received_since(&organization_id, at)
            .await?
            .map_or(count - 1, |first| first - 1),
    };
    let now = now_micros();
    let stream = LogStream {
        id: new_id("als"),
        environment: environment.name().to_string(),
        organization_id,
        destination_type: kind,
        settings,
        secrets,
        paused,
        state: "active".into(),
        cursor,
        replay: None,
        last_synced_at: None,
        last_error: None,
        counters: StreamCounters::default(),
        consecutive_failures: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
    };
    state.store.create_stream(&stream).await?;
    tracing::info!(
        stream_id = %stream.id,
        organization_id = %stream.organization_id,
        destination = %stream.destination_type,
        cursor,
        "log stream created"
    );
    Ok((
        StatusCode::CREATED,
        Json(LogStreamView::load(&state, &stream).await?),
    ))
}
