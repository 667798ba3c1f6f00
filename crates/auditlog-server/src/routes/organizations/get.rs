//! `GET /organizations/{id}`.

use super::view::organization_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn get_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let organization = state
        .store
        .get_organization(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&id))?;
    Ok(Json(organization_json(&organization)))
}
