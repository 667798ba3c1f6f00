//! `GET /audit_logs/events/{id}` (extension): one event; recorded in the meta-audit trail.

use super::view::EventView;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// Get one stored event
///
/// 404 for an unknown id, another environment's event, or an event removed by retention.
/// Recorded in the meta-audit trail.
#[utoipa::path(
    get,
    path = "/audit_logs/events/{event_id}",
    operation_id = "getEvent",
    tag = "events",
    extensions(("x-auditlog-extension" = json!(true))),
    params(("event_id" = String, Path, example = "audit_log_event_01J9Z6W3X4Y5Z6A7B8C9D0E1F2")),
    responses(
        (status = 200, description = "The event.", body = EventView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_event(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<EventView>, ApiError> {
    let not_found = || ApiError::NotFound(format!("Audit Log Event not found: '{id}'."));
    let event = state
        .store
        .get_event(environment.name(), &id)
        .await?
        .ok_or_else(not_found)?;
    if event.payload.is_none() {
        return Err(not_found()); // removed by retention
    }
    let actor = environment.meta_actor();
    let targets = [
        (event.organization_id.as_str(), "organization"),
        (event.id.as_str(), "audit_log_event"),
    ];
    state
        .meta_audit
        .record(
            environment.name(),
            "auditlog.event.read",
            actor,
            &targets,
            &[],
        )
        .await?;
    Ok(Json(EventView::new(&event)))
}
