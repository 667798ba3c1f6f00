//! The legal-hold object (an extension; WorkOS has no legal hold).

use crate::routes::timestamp::Timestamp;
use auditlog_store::{LegalHoldEntry, OrganizationPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
enum LegalHoldObject {
    #[serde(rename = "legal_hold")]
    LegalHold,
}

/// Whether an organization is on legal hold, and every placement and release.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LegalHold)]
pub struct LegalHoldView {
    #[schema(inline)]
    object: LegalHoldObject,
    organization_id: String,
    active: bool,
    /// The reason of the hold in force; null when none is.
    #[schema(required = true)]
    reason: Option<String>,
    #[schema(required = true)]
    placed_at: Option<Timestamp>,
    history: Vec<LegalHoldHistoryEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LegalHoldHistoryEntry {
    /// `placed` or `released`.
    #[schema(pattern = "^(placed|released)$")]
    action: String,
    reason: String,
    /// Record id of the API key that acted (`key_…`), never the key.
    actor: String,
    at: Timestamp,
}

impl LegalHoldView {
    pub fn new(
        organization_id: &str,
        policy: &OrganizationPolicy,
        history: &[LegalHoldEntry],
    ) -> LegalHoldView {
        let hold = policy.legal_hold.as_ref();
        LegalHoldView {
            object: LegalHoldObject::LegalHold,
            organization_id: organization_id.to_string(),
            active: hold.is_some(),
            reason: hold.map(|h| h.reason.clone()),
            placed_at: hold.map(|h| Timestamp::from_micros(h.since)),
            history: history
                .iter()
                .map(|entry| LegalHoldHistoryEntry {
                    action: entry.action.clone(),
                    reason: entry.reason.clone(),
                    actor: entry.actor.clone(),
                    at: Timestamp::from_micros(entry.at),
                })
                .collect(),
        }
    }
}

/// The body of placing or releasing a hold; `change.rs` reads and checks `reason`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Litigation hold, case 2026-17"}))]
#[allow(dead_code)]
pub struct LegalHoldChangeRequest {
    /// 1 to 1000 characters after trimming whitespace.
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}
