//! `GET /organizations/{id}/legal_hold` (extension): whether a hold is on, and its history.

use super::view::LegalHoldView;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// The organization's hold and its history, or its 404.
pub async fn load_legal_hold(
    state: &AppState,
    environment: &str,
    organization_id: &str,
) -> Result<LegalHoldView, ApiError> {
    let policy = state
        .store
        .organization_policy(environment, organization_id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(organization_id))?;
    let history = state
        .store
        .legal_hold_history(environment, organization_id)
        .await?;
    Ok(LegalHoldView::new(organization_id, &policy, &history))
}

/// Get the legal hold and its history
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}/legal_hold",
    operation_id = "getLegalHold",
    tag = "legal hold",
    extensions(("x-auditlog-extension" = json!(true))),
    params(OrganizationPath),
    responses(
        (status = 200, description = "The legal hold state.", body = LegalHoldView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_legal_hold(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<LegalHoldView>, ApiError> {
    Ok(Json(
        load_legal_hold(&state, environment.name(), &id).await?,
    ))
}
