//! The AuditLogExport object (spec §5.3) and its self-authenticating download link.

use crate::state::AppState;
use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::{ExportRecord, ExportState};
use serde_json::{json, Value};

/// A fresh link for a ready export, valid for the configured time from now.
pub fn download_url(state: &AppState, export: &ExportRecord) -> Option<String> {
    if export.state != ExportState::Ready {
        return None;
    }
    let expires = chrono::Utc::now().timestamp() + state.config.download_link_ttl_secs;
    let signature = state.links.sign(&export.id, expires);
    Some(format!(
        "{}/downloads/exports/{}.csv?expires={expires}&signature={signature}",
        state.public_url, export.id
    ))
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
