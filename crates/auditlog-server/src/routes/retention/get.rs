//! `GET /organizations/{id}/audit_logs_retention`: the retention in force (the organization's
//! own, or the server default when none is set).

use super::view::RetentionView;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// The retention in force for an organization, or its 404.
pub async fn retention_in_force(
    state: &AppState,
    environment: &str,
    id: &str,
) -> Result<i64, ApiError> {
    let policy = state
        .store
        .organization_policy(environment, id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(id))?;
    Ok(policy
        .retention_period_in_days
        .unwrap_or(state.config.jobs.default_retention_days))
}

/// Get the retention in force
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}/audit_logs_retention",
    operation_id = "getOrganizationAuditLogsRetention",
    tag = "retention",
    extensions(("x-workos-operation-id" = json!("AuditLogsRetentionController_auditLogsRetention"))),
    params(OrganizationPath),
    responses(
        (status = 200, description = "The retention in force.", body = RetentionView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_retention(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<RetentionView>, ApiError> {
    let days = retention_in_force(&state, environment.name(), &id).await?;
    Ok(Json(RetentionView {
        retention_period_in_days: days,
    }))
}
