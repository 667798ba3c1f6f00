//! `GET /organizations/{id}/audit_log_configuration`.

use super::get::retention_in_force;
use super::view::{ConfigurationState, ConfigurationView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::routes::log_streams::view::ConfigurationStreamView;
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// The `log_stream.type` values the official SDKs accept.
const WORKOS_STREAM_TYPES: &[&str] = &[
    "AzureSentinel",
    "Datadog",
    "GenericHttps",
    "GoogleCloudStorage",
    "S3",
    "Snowflake",
    "Splunk",
];

/// Get the audit log configuration
///
/// `state: active`, the retention in force, and the organization's log stream (the oldest of a
/// type WorkOS knows, so the official SDKs can read it), or `null` when it has none.
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
    let streams = state.store.list_streams(environment.name(), &id).await?;
    let log_stream = streams
        .iter()
        .find(|stream| WORKOS_STREAM_TYPES.contains(&stream.destination_type.as_str()))
        .map(ConfigurationStreamView::new);
    Ok(Json(ConfigurationView {
        organization_id: id,
        retention_period_in_days: days,
        state: ConfigurationState::Active,
        log_stream,
    }))
}
