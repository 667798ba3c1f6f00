//! `DELETE /organizations/{id}` → 204. The organization disappears from the API and stops
//! accepting events; its audit events are kept (an audit trail must not vanish with its owner)
//! until retention removes them.

use super::view::OrganizationPath;
use crate::auth::Environment;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::{Conflict, NotFound};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;

/// Delete an organization
///
/// Hides the organization (404 afterwards, no more events accepted) but keeps its audit events
/// until retention removes them. The meta-audit trail organization cannot be deleted (409
/// `meta_audit_trail`).
#[utoipa::path(
    delete,
    path = "/organizations/{organization_id}",
    operation_id = "deleteOrganization",
    tag = "organizations",
    params(OrganizationPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn delete_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    if state.meta_audit.is_trail(environment.name(), &id).await? {
        return Err(ApiError::Conflict {
            code: "meta_audit_trail",
            message: "The meta-audit trail organization cannot be deleted.".into(),
        });
    }
    if state
        .store
        .delete_organization(environment.name(), &id, now_micros())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::organization_not_found(&id))
    }
}
