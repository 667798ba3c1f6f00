//! `GET /audit_logs/exports/{id}`: every GET of a ready export issues a fresh download link.

use super::view::{download_url, ExportView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};

/// Get an export
///
/// Every GET of a `ready` export issues a fresh download link, valid for the configured time
/// (10 minutes by default).
#[utoipa::path(
    get,
    path = "/audit_logs/exports/{export_id}",
    operation_id = "getExport",
    tag = "exports",
    extensions(("x-workos-operation-id" = json!("AuditLogExportsController_export"))),
    params(("export_id" = String, Path, example = "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V")),
    responses(
        (status = 200, description = "The export.", body = ExportView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Json<ExportView>, ApiError> {
    let export = state
        .store
        .get_export(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Audit Log Export not found: '{id}'.")))?;
    let url = download_url(&state, &export).await?;
    Ok(Json(ExportView::new(&export, url)))
}
