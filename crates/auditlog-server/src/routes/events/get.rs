//! `GET /audit_logs/events/{id}` (extension): one event; recorded in the meta-audit trail.

use super::view::event_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::meta_audit::MetaActor;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn get_event(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound(format!("Audit Log Event not found: '{id}'."));
    let event = state
        .store
        .get_event(environment.name(), &id)
        .await?
        .ok_or_else(not_found)?;
    if event.payload.is_none() {
        return Err(not_found()); // removed by retention
    }
    let actor = MetaActor {
        id: environment.key_id(),
        kind: "api_key",
    };
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
    Ok(Json(event_json(&event)))
}
