//! `GET /organizations/{id}/audit_log_configuration`.

use super::get::retention_in_force;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::{json, Value};

pub async fn get_audit_log_configuration(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let days = retention_in_force(&state, environment.name(), &id).await?;
    Ok(Json(json!({
        "organization_id": id,
        "retention_period_in_days": days,
        "state": "active",
        "log_stream": null,
    })))
}
