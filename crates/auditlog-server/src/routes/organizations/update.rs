//! `PUT /organizations/{id}`: only the fields present in the body change.

use super::fields::OrganizationChanges;
use super::view::organization_json;
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::meta_audit::{reserved_external_id, META_EXTERNAL_ID};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn update_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let changes = OrganizationChanges::parse(&body, false).map_err(ApiError::Validation)?;
    if changes.sets_external_id(META_EXTERNAL_ID) {
        return Err(reserved_external_id());
    }
    state
        .meta_audit
        .refuse_changes_to_trail(environment.name(), &id, "changing the organization")
        .await?;
    let mut organization = state
        .store
        .get_organization(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&id))?;
    changes.apply(&mut organization, now_micros());
    if !state.store.update_organization(&organization).await? {
        return Err(ApiError::organization_not_found(&id));
    }
    Ok(Json(organization_json(&organization)))
}
