//! `GET /audit_logs/exports/{export_id}/bundle` (extension): the verifiable bundle of a ready
//! export (`auditlog_tlog::ExportBundle` JSON), to check offline with `auditlog verify`. It
//! streams: a million-row bundle is ~100 MB and is never held in memory whole.

use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::{Conflict, LogIntegrityFailure, NotFound};
use crate::routes::log::view::LogRouteError;
use crate::state::AppState;
use crate::tlog::bundle::{bundle_body, prepare_bundle};
use auditlog_store::ExportState;
use auditlog_tlog::ExportBundle;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// Get a ready export's verifiable bundle
///
/// 409 `export_not_ready` unless the export is ready (and its file and bundle still exist).
#[utoipa::path(
    get,
    path = "/audit_logs/exports/{export_id}/bundle",
    operation_id = "getExportBundle",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(("export_id" = String, Path, example = "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V")),
    responses(
        (status = 200, description = "The bundle.", body = ExportBundle),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = LogIntegrityFailure),
    ),
)]
pub async fn get_export_bundle(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
) -> Result<Response, LogRouteError> {
    let export = state
        .store
        .get_export(environment.name(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Audit Log Export not found: '{id}'.")))?;
    let not_ready = |state: &str| ApiError::Conflict {
        code: "export_not_ready",
        message: format!("The export is {state}; a bundle exists only for a ready export."),
    };
    if export.state != ExportState::Ready {
        return Err(not_ready(export.state.as_str()).into());
    }
    let bundle = prepare_bundle(state.store.as_ref(), &state.blob, &state.tlog, &export)
        .await?
        .ok_or_else(|| not_ready("without a bundle (its file is gone or predates bundles)"))?;
    let body = bundle_body(&state.blob, bundle).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}
