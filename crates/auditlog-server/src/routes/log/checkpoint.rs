//! `GET /audit_logs/log/{organization_id}/checkpoint[?tree_size=N]` (extension): the newest
//! signed checkpoint of the organization's log, or the stored one of that size.

use super::view::{checkpoint_json, require_organization, tree_size_param, LogRouteError};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn get_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<Value>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let mut errors = FieldErrors::default();
    let size = tree_size_param(&query, "tree_size", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
    }
    let found = match size {
        Some(size) => state.store.checkpoint_at(&organization_id, size).await?,
        None => state.store.latest_checkpoint(&organization_id).await?,
    };
    let checkpoint = found.ok_or_else(|| {
        ApiError::NotFound(match size {
            Some(size) => {
                format!("No checkpoint of the log of '{organization_id}' at tree size {size}.")
            }
            None => {
                format!("No checkpoint of the log of '{organization_id}' yet (POST to create one).")
            }
        })
    })?;
    Ok(Json(checkpoint_json(&checkpoint)))
}
