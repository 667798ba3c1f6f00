//! `GET /audit_logs/log/{organization_id}/checkpoint[?tree_size=N]` (extension): the newest
//! signed checkpoint of the organization's log, or the stored one of that size.

use super::view::{require_organization, tree_size_param, CheckpointView, LogPath, LogRouteError};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::openapi::responses::{LogIntegrityFailure, NotFound};
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::{Extension, Json};
use utoipa::IntoParams;

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameter; `tree_size_param` reads it.
struct CheckpointQuery {
    /// A stored checkpoint's tree size; default the newest.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    tree_size: Option<i64>,
}

/// Get a signed checkpoint
///
/// The newest checkpoint of the organization's log, or the stored one of `tree_size`; 404 when
/// there is none.
#[utoipa::path(
    get,
    path = "/audit_logs/log/{organization_id}/checkpoint",
    operation_id = "getLogCheckpoint",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(LogPath, CheckpointQuery),
    responses(
        (status = 200, description = "The checkpoint.", body = CheckpointView),
        (status = 404, response = NotFound),
        (status = 500, response = LogIntegrityFailure),
    ),
)]
pub async fn get_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<CheckpointView>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let mut errors = FieldErrors::default();
    let size = tree_size_param(&query, "tree_size", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
    }
    let found = match size {
        Some(size) => state.store.checkpoint_at(&organization_id, size).await?,
        None => state.store.latest_checkpoint(&organization_id).await?,
    };
    let checkpoint = found.ok_or_else(|| {
        ApiError::NotFound(match size {
            Some(size) => {
                format!("No checkpoint of the log of '{organization_id}' at tree size {size}.")
            }
            None => {
                format!("No checkpoint of the log of '{organization_id}' yet (POST to create one).")
            }
        })
    })?;
    Ok(Json(CheckpointView::new(&checkpoint)))
}
