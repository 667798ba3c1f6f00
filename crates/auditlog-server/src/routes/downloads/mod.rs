//! `GET /downloads/exports/{id}.csv?expires=…&signature=…`: the export file, without an API
//! key. The link authenticates itself: an HMAC over (export id, expiry) checked in constant time
//! before anything is read. A wrong, tampered, expired or foreign link gets the same 404 as a
//! missing file, so it reveals nothing.

use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::meta_audit::MetaActor;
use crate::state::AppState;
use auditlog_store::ExportState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

fn not_found() -> ApiError {
    ApiError::NotFound("Export file not found, or the link has expired.".into())
}

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
pub fn public_router() -> axum::Router<AppState> {
    axum::Router::new().route("/downloads/exports/{id}", get(download_export))
}
