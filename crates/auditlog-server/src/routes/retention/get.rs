//! `GET /organizations/{id}/audit_logs_retention`: the retention in force (the organization's
//! own, or the server default when none is set).

use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::{json, Value};

/// The retention in force for an organization, or its 404.
pub async fn retention_in_force(
    state: &AppState,
    environment: &str,
    id: &str,
) -> Result<i64, ApiError> {
    let policy = state
        .store
        .organization_policy(environment, id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(id))?;
    Ok(policy
        .retention_period_in_days
        .unwrap_or(state.config.jobs.default_retention_days))
}

pub async fn get_retention(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let days = retention_in_force(&state, environment.name(), &id).await?;
    Ok(Json(json!({"retention_period_in_days": days})))
}
