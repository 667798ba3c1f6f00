//! `POST /audit_logs/log/{organization_id}/checkpoint` (extension): appends every stored event
//! of the organization to its log now and returns a signed checkpoint of the result (the newest
//! one when nothing was added).

use super::view::{checkpoint_json, require_organization, LogRouteError};
use crate::auth::Environment;
use crate::extract::PathId;
use crate::state::AppState;
use crate::tlog::builder::checkpoint_now;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn create_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
) -> Result<Json<Value>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let checkpoint = checkpoint_now(state.store.as_ref(), &state.tlog, &organization_id).await?;
    Ok(Json(checkpoint_json(&checkpoint)))
}
