//! The legal-hold object (an extension; WorkOS has no legal hold).

use crate::error::ApiError;
use crate::state::AppState;
use auditlog_domain::timestamp::{format_millis, from_micros};
use serde_json::{json, Value};

/// `{"object":"legal_hold","organization_id","active","reason","placed_at","history":[…]}`.
pub async fn legal_hold_json(
    state: &AppState,
    environment: &str,
    organization_id: &str,
) -> Result<Value, ApiError> {
    let policy = state
        .store
        .organization_policy(environment, organization_id)
        .await?
        .ok_or_else(|| ApiError::organization_not_found(organization_id))?;
    let history = state
        .store
        .legal_hold_history(environment, organization_id)
        .await?;
    let hold = policy.legal_hold.as_ref();
    Ok(json!({
        "object": "legal_hold",
        "organization_id": organization_id,
        "active": hold.is_some(),
        "reason": hold.map(|h| h.reason.clone()),
        "placed_at": hold.map(|h| format_millis(from_micros(h.since))),
        "history": history.iter().map(|entry| json!({
            "action": entry.action,
            "reason": entry.reason,
            "actor": entry.actor,
            "at": format_millis(from_micros(entry.at)),
        })).collect::<Vec<_>>(),
    }))
}
