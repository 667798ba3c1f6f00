//! `POST /audit_logs/log/{organization_id}/checkpoint` (extension): appends every stored event
//! of the organization to its log now and returns a signed checkpoint of the result (the newest
//! one when nothing was added).

use super::view::{require_organization, CheckpointView, LogPath, LogRouteError};
use crate::auth::Environment;
use crate::extract::PathId;
use crate::openapi::responses::{LogIntegrityFailure, NotFound};
use crate::state::AppState;
use crate::tlog::builder::checkpoint_now;
use axum::extract::State;
use axum::{Extension, Json};

/// Checkpoint the log now
///
/// Appends every stored event of the organization to its log and answers a signed checkpoint
/// of the result (the newest one when nothing was added). No request body.
#[utoipa::path(
    post,
    path = "/audit_logs/log/{organization_id}/checkpoint",
    operation_id = "createLogCheckpoint",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(LogPath),
    responses(
        (status = 200, description = "The checkpoint.", body = CheckpointView),
        (status = 404, response = NotFound),
        (status = 500, response = LogIntegrityFailure),
    ),
)]
pub async fn create_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
) -> Result<Json<CheckpointView>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let checkpoint = checkpoint_now(state.store.as_ref(), &state.tlog, &organization_id).await?;
    Ok(Json(CheckpointView::new(&checkpoint)))
}
