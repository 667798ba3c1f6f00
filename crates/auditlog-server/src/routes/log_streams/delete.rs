//! `DELETE /organizations/{id}/log_streams/{id}`.

use super::view::StreamPath;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathIds;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;

/// Delete a log stream
///
/// Delivery stops (a batch in flight may still arrive). The events stay.
#[utoipa::path(
    delete,
    path = "/organizations/{organization_id}/log_streams/{stream_id}",
    operation_id = "deleteLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(StreamPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, response = NotFound),
    ),
)]
pub async fn delete_log_stream(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, stream_id): PathIds,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .delete_stream(environment.name(), &organization_id, &stream_id)
        .await?
    {
        tracing::info!(stream_id = %stream_id, organization_id = %organization_id, "log stream deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "Log stream not found: '{stream_id}'."
        )))
    }
}
