//! `GET /organizations/{id}/log_streams` and `GET /organizations/{id}/log_streams/{id}`.

use super::view::{LogStreamView, StreamPath};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, PathIds};
use crate::openapi::responses::NotFound;
use crate::routes::list::ListObject;
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use auditlog_store::LogStream;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

/// The stream, or 404 when the organization has none by that id (in this environment).
pub async fn load_stream(
    state: &AppState,
    environment: &Environment,
    organization_id: &str,
    stream_id: &str,
) -> Result<LogStream, ApiError> {
    state
        .store
        .get_stream(environment.name(), organization_id, stream_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Log stream not found: '{stream_id}'.")))
}

/// Get a log stream
///
/// Its state, position, lag, last error and counters.
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}/log_streams/{stream_id}",
    operation_id = "getLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(StreamPath),
    responses(
        (status = 200, description = "The stream.", body = LogStreamView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_log_stream(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, stream_id): PathIds,
) -> Result<Json<LogStreamView>, ApiError> {
    let stream = load_stream(&state, &environment, &organization_id, &stream_id).await?;
    Ok(Json(LogStreamView::load(&state, &stream).await?))
}

/// The organization's streams, oldest first (an organization has few).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStreamList)]
pub struct LogStreamList {
    #[schema(inline)]
    object: ListObject,
    data: Vec<LogStreamView>,
}

/// List log streams
#[utoipa::path(
    get,
    path = "/organizations/{organization_id}/log_streams",
    operation_id = "listLogStreams",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(OrganizationPath),
    responses(
        (status = 200, description = "The organization's streams, oldest first.", body = LogStreamList),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list_log_streams(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
) -> Result<Json<LogStreamList>, ApiError> {
    state
        .store
        .get_organization(environment.name(), &organization_id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(&organization_id))?;
    let streams = state
        .store
        .list_streams(environment.name(), &organization_id)
        .await?;
    let mut data = Vec::with_capacity(streams.len());
    for stream in &streams {
        data.push(LogStreamView::load(&state, stream).await?);
    }
    Ok(Json(LogStreamList {
        object: ListObject::List,
        data,
    }))
}
