//! `GET /downloads/exports/{id}.csv?expires=…&signature=…`: the export file, without an API
//! key. The link authenticates itself: an HMAC over (export id, expiry) checked in constant time
//! before anything is read. A wrong, tampered, expired or foreign link gets the same 404 as a
//! missing file, so it reveals nothing.

use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::meta_audit::MetaActor;
use crate::openapi::responses::{NotFound, ServiceUnavailable};
use crate::state::AppState;
use auditlog_store::ExportState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn not_found() -> ApiError {
    ApiError::NotFound("Export file not found, or the link has expired.".into())
}

/// The query of a download link.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; the handler reads them from the query map.
struct LinkParams {
    /// Unix seconds.
    expires: i64,
    /// The link's HMAC over export id and expiry.
    signature: String,
}

/// Download an export file
///
/// The `url` of a ready export points here (for local blob stores). Authenticated by its signed
/// link (HMAC over export id and expiry), not by an API key. A tampered, expired, foreign or
/// unknown link gets the same 404.
#[utoipa::path(
    get,
    path = "/downloads/exports/{file_name}",
    operation_id = "downloadExport",
    tag = "exports",
    extensions(("x-auditlog-extension" = json!(true))),
    params(
        ("file_name" = String, Path, description = "`<export id>.csv`",
            example = "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V.csv"),
        LinkParams,
    ),
    responses(
        (status = 200, description = "The CSV file (RFC 4180, UTF-8, CRLF, header row).",
            content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String,
                description = "`attachment; filename=\"<export id>.csv\"`"))),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn download_export(
    State(state): State<AppState>,
    PathId(file): PathId,
    QueryMap(query): QueryMap,
) -> Result<Response, ApiError> {
    let export_id = file.strip_suffix(".csv").ok_or_else(not_found)?;
    let expires = query
        .get("expires")
        .and_then(|e| e.parse::<i64>().ok())
        .ok_or_else(not_found)?;
    let signature = query.get("signature").ok_or_else(not_found)?;
    let now = chrono::Utc::now().timestamp();
    if !state.links.verify(export_id, expires, signature, now) {
        return Err(not_found());
    }
    let export = state
        .store
        .find_export(export_id)
        .await?
        .ok_or_else(not_found)?;
    let key = match (&export.state, &export.blob_key) {
        (ExportState::Ready, Some(key)) => key,
        _ => return Err(not_found()),
    };
    let file = match state.blob.get(key).await {
        Ok(Some(file)) => file,
        Ok(None) => return Err(not_found()),
        Err(error) => return Err(ApiError::internal("reading an export file failed", &error)),
    };
    let actor = MetaActor {
        id: "download_link",
        kind: "signed_link",
    };
    let targets = [
        (export.organization_id.as_str(), "organization"),
        (export.id.as_str(), "audit_log_export"),
    ];
    state
        .meta_audit
        .record(
            &export.environment,
            "auditlog.export.downloaded",
            actor,
            &targets,
            &[],
        )
        .await?;
    let mut response = Body::from_stream(file.stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"{export_id}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// Authenticated by its signed link, not by an API key.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(download_export))
}
