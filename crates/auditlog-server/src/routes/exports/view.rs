//! The AuditLogExport object and its self-authenticating download link.

use crate::error::ApiError;
use crate::state::AppState;
use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::{ExportRecord, ExportState};
use serde_json::{json, Value};
use std::time::Duration;

/// A fresh link for a ready export, valid for the configured time from now: presigned by the
/// object store when it can (S3), otherwise our own HMAC-signed download route.
pub async fn download_url(
    state: &AppState,
    export: &ExportRecord,
) -> Result<Option<String>, ApiError> {
    let (ExportState::Ready, Some(key)) = (export.state, export.blob_key.as_deref()) else {
        return Ok(None);
    };
    let ttl = state.config.exports.download_link_ttl_secs.max(1);
    let file_name = format!("{}.csv", export.id);
    match state
        .blob
        .presigned_get(key, &file_name, Duration::from_secs(ttl as u64))
        .await
    {
        Ok(Some(url)) => return Ok(Some(url)),
        Ok(None) => {}
        Err(error) => {
            return Err(ApiError::internal(
                "presigning a download link failed",
                &error,
            ))
        }
    }
    let expires = chrono::Utc::now().timestamp() + ttl;
    let signature = state.links.sign(&export.id, expires);
    Ok(Some(format!(
        "{}/downloads/exports/{}.csv?expires={expires}&signature={signature}",
        state.public_url, export.id
    )))
}

pub fn export_json(export: &ExportRecord, url: Option<String>) -> Value {
    json!({
        "object": "audit_log_export",
        "id": export.id,
        "state": export.state.as_str(),
        "url": url,
        "created_at": format_millis(from_micros(export.created_at)),
        "updated_at": format_millis(from_micros(export.updated_at)),
    })
}
