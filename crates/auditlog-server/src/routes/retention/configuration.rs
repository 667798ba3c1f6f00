//! `GET /organizations/{id}/audit_log_configuration`.

use super::get::retention_in_force;
use super::view::{ConfigurationState, ConfigurationView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// Get the audit log configuration
///
/// `state: active`, `log_stream: null` and the retention in force.
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}/audit_log_configuration",
    operation_id = "getAuditLogConfiguration",
    tag = "retention",
    extensions(("x-workos-operation-id" = json!("OrganizationsController_getAuditLogConfiguration"))),
    params(OrganizationPath),
    responses(
        (status = 200, description = "The configuration.", body = ConfigurationView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_audit_log_configuration(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<ConfigurationView>, ApiError> {
    let days = retention_in_force(&state, environment.name(), &id).await?;
    Ok(Json(ConfigurationView {
        organization_id: id,
        retention_period_in_days: days,
        state: ConfigurationState::Active,
        log_stream: None,
    }))
}
