//! The AuditLogEvent object of the read API (an extension): the canonical payload's fields plus
//! where the event sits (`sequence`) and when it arrived (`received_at`). `occurred_at` is the
//! canonical text, so a verifier can rebuild the event's leaf hash from this object.

use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::StoredEvent;
use serde_json::{json, Value};

pub fn event_json(event: &StoredEvent) -> Value {
    let payload: Value = event
        .payload
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let mut object = json!({
        "object": "audit_log_event",
        "id": event.id,
        "organization_id": event.organization_id,
        "sequence": event.sequence,
        "occurred_at": payload["occurred_at"],
        "received_at": format_millis(from_micros(event.received_at)),
        "action": payload["action"],
        "version": payload["version"],
        "actor": payload["actor"],
        "targets": payload["targets"],
        "context": payload["context"],
    });
    if let Some(metadata) = payload.get("metadata") {
        object["metadata"] = metadata.clone();
    }
    object
}
