//! The AuditLogExport object and its self-authenticating download link.

use crate::error::ApiError;
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use auditlog_store::{ExportRecord, ExportState};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

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

/// An export: `pending` until its job has written the file, then `ready` (or `error`), and
/// `expired` once the file's retention has passed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogExport)]
pub struct ExportView {
    #[schema(inline)]
    object: ExportObject,
    /// `audit_log_export_<ULID>`
    id: String,
    state: ExportStateView,
    /// A fresh signed download link valid for the configured time (10 minutes by default);
    /// only when `ready`.
    #[schema(required = true)]
    url: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
enum ExportObject {
    #[serde(rename = "audit_log_export")]
    AuditLogExport,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AuditLogExportState)]
enum ExportStateView {
    Pending,
    Ready,
    Error,
    Expired,
}

impl ExportView {
    pub fn new(export: &ExportRecord, url: Option<String>) -> ExportView {
        ExportView {
            object: ExportObject::AuditLogExport,
            id: export.id.clone(),
            state: match export.state {
                ExportState::Pending => ExportStateView::Pending,
                ExportState::Ready => ExportStateView::Ready,
                ExportState::Error => ExportStateView::Error,
                ExportState::Expired => ExportStateView::Expired,
            },
            url,
            created_at: Timestamp::from_micros(export.created_at),
            updated_at: Timestamp::from_micros(export.updated_at),
        }
    }
}
