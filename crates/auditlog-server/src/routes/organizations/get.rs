//! `GET /organizations/{id}`.

use super::view::{OrganizationPath, OrganizationView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// Get an organization
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}",
    operation_id = "getOrganization",
    tag = "organizations",
    params(OrganizationPath),
    responses(
        (status = 200, description = "The organization.", body = OrganizationView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<OrganizationView>, ApiError> {
    let organization = state
        .store
        .get_organization(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&id))?;
    Ok(Json(OrganizationView::new(&organization)))
}
