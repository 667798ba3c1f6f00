//! `GET /organizations/{id}/legal_hold` (extension): whether a hold is on, and its history.

use super::view::legal_hold_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn get_legal_hold(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        legal_hold_json(&state, environment.name(), &id).await?,
    ))
}
