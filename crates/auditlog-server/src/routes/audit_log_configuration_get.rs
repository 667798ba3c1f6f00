//! `GET /organizations/{id}/audit_log_configuration` (spec §7).

use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::{json, Value};

pub async fn handler(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let organization = state
        .store
        .get_organization(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&id))?;
    Ok(Json(json!({
        "organization_id": organization.id,
        "retention_period_in_days": state.config.default_retention_days,
        "state": "active",
        "log_stream": null,
    })))
}
