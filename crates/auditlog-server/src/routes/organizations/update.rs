//! `PUT /organizations/{id}`: only the fields present in the body change.

use super::fields::OrganizationChanges;
use super::request::UpdateOrganizationRequest;
use super::view::{OrganizationPath, OrganizationView};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::meta_audit::{reserved_external_id, META_EXTERNAL_ID};
use crate::openapi::responses::{Conflict, NotFound};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// Update an organization
///
/// Only the fields present in the body change.
#[utoipa::path(
    put,
    path = "/organizations/{organization_id}",
    operation_id = "updateOrganization",
    tag = "organizations",
    params(OrganizationPath),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The updated organization.", body = OrganizationView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn update_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Json<OrganizationView>, ApiError> {
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
    Ok(Json(OrganizationView::new(&organization)))
}
