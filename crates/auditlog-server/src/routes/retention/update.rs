//! `PUT /organizations/{id}/audit_logs_retention` with `retention_period` or
//! `retention_period_in_days` (exactly one; see auditlog-domain::retention).

use super::view::{RetentionView, UpdateRetentionRequest};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::{Conflict, NotFound};
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use auditlog_domain::retention::parse_retention_update;
use axum::extract::State;
use axum::{Extension, Json};

/// Set the retention
#[utoipa::path(
    put,
    path = "/organizations/{organization_id}/audit_logs_retention",
    operation_id = "updateOrganizationAuditLogsRetention",
    tag = "retention",
    extensions(("x-workos-operation-id" = json!("AuditLogsRetentionController_updateAuditLogsRetention"))),
    params(OrganizationPath),
    request_body = UpdateRetentionRequest,
    responses(
        (status = 200, description = "The new retention.", body = RetentionView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn update_retention(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Json<RetentionView>, ApiError> {
    let days = parse_retention_update(&body).map_err(ApiError::Validation)?;
    state
        .meta_audit
        .refuse_changes_to_trail(environment.name(), &id, "changing its retention")
        .await?;
    if !state
        .store
        .set_retention(environment.name(), &id, days, now_micros())
        .await?
    {
        return Err(ApiError::organization_not_found(&id));
    }
    Ok(Json(RetentionView {
        retention_period_in_days: days,
    }))
}
