//! The AuditLogExport object, its creation request, and its self-authenticating download link.

use crate::error::ApiError;
use crate::routes::list::Timestamp;
use crate::state::AppState;
use auditlog_store::{ExportRecord, ExportState};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// Filters combine with AND across fields. Validated by `ExportRequest::parse`, which reports
/// every bad field at once; this type is the documented wire shape.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // read by the document, not by the handler
#[schema(example = json!({
    "organization_id": "org_01EHZNVPK3SFK441A1RGBFSHRT",
    "range_start": "2026-01-01T00:00:00.000Z",
    "range_end": "2026-02-01T00:00:00.000Z",
    "actions": ["user.signed_in"]
}))]
pub struct CreateExportRequest {
    #[schema(min_length = 1)]
    pub organization_id: String,
    /// Inclusive; RFC 3339, any offset.
    #[schema(format = DateTime)]
    pub range_start: String,
    /// Exclusive; RFC 3339, any offset. Must not be before `range_start`.
    #[schema(format = DateTime)]
    pub range_end: String,
    /// Only these actions (OR). Empty or absent: no filter.
    #[schema(max_items = 100)]
    pub actions: Option<Vec<String>>,
    /// Only these actor names (OR).
    #[schema(max_items = 100)]
    pub actor_names: Option<Vec<String>>,
    /// Deprecated alias of `actor_names` (merged into it).
    #[schema(max_items = 100)]
    #[deprecated]
    pub actors: Option<Vec<String>>,
    /// Only these actor ids (OR).
    #[schema(max_items = 100)]
    pub actor_ids: Option<Vec<String>>,
    /// Only events with a target of one of these types (OR).
    #[schema(max_items = 100)]
    pub targets: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditLogExportObject {
    AuditLogExport,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditLogExportState {
    Pending,
    Ready,
    Error,
    Expired,
}

impl From<ExportState> for AuditLogExportState {
    fn from(state: ExportState) -> Self {
        match state {
            ExportState::Pending => AuditLogExportState::Pending,
            ExportState::Ready => AuditLogExportState::Ready,
            ExportState::Error => AuditLogExportState::Error,
            ExportState::Expired => AuditLogExportState::Expired,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "object": "audit_log_export",
    "id": "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V",
    "state": "pending",
    "url": null,
    "created_at": "2026-01-15T12:00:00.000Z",
    "updated_at": "2026-01-15T12:00:00.000Z"
}))]
pub struct AuditLogExport {
    pub object: AuditLogExportObject,
    /// `audit_log_export_<ULID>`
    pub id: String,
    pub state: AuditLogExportState,
    /// A fresh signed download link, valid for the configured time (10 minutes by default);
    /// only when `ready`.
    pub url: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AuditLogExport {
    pub fn new(export: &ExportRecord, url: Option<String>) -> AuditLogExport {
        AuditLogExport {
            object: AuditLogExportObject::AuditLogExport,
            id: export.id.clone(),
            state: export.state.into(),
            url,
            created_at: Timestamp::from_micros(export.created_at),
            updated_at: Timestamp::from_micros(export.updated_at),
        }
    }
}

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
