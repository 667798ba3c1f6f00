//! `GET /audit_logs/exports/{id}`: every GET of a ready export issues a fresh download link.

use super::view::{download_url, export_json};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn get_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let export = state
        .store
        .get_export(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Audit Log Export not found: '{id}'.")))?;
    let url = download_url(&state, &export).await?;
    Ok(Json(export_json(&export, url)))
}
