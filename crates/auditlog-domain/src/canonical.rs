//! Canonical event bytes and their RFC 9162 leaf hash.
//!
//! Canonical form, version 1 (`"v": 1`): the JSON object below, serialized with RFC 8785 (JSON
//! Canonicalization Scheme: keys sorted by UTF-16 code units, no whitespace, ECMAScript number
//! formatting). Optional members that were not sent are omitted, never `null`.
//!
//! ```text
//! {"v":1,"id":"audit_log_event_…","organization_id":"org_…","action":"…","version":1,
//!  "occurred_at":"2026-01-15T12:00:00.000Z",           // UTC, ms (µs when finer)
//!  "actor":{"id","type","name"?,"metadata"?},
//!  "targets":[{"id","type","name"?,"metadata"?},…],
//!  "context":{"location","user_agent"?},
//!  "metadata"?:{…}}
//! ```
//! Leaf hash = SHA-256(0x00 ‖ canonical bytes), the RFC 9162 leaf hash, so the per-organization
//! Merkle log can be built over stored events without re-reading payloads.

use crate::event::{Actor, EventInput};
use crate::timestamp::format_canonical;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const CANONICAL_FORMAT_VERSION: i64 = 1;

fn actor_value(actor: &Actor) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(actor.id));
    object.insert("type".into(), json!(actor.kind));
    if let Some(name) = &actor.name {
        object.insert("name".into(), json!(name));
    }
    if let Some(metadata) = &actor.metadata {
        object.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    Value::Object(object)
}

/// The canonical JSON value of an event with its server-assigned id.
pub fn canonical_value(id: &str, event: &EventInput) -> Value {
    let mut context = Map::new();
    context.insert("location".into(), json!(event.context.location));
    if let Some(user_agent) = &event.context.user_agent {
        context.insert("user_agent".into(), json!(user_agent));
    }
    let mut object = Map::new();
    object.insert("v".into(), json!(CANONICAL_FORMAT_VERSION));
    object.insert("id".into(), json!(id));
    object.insert("organization_id".into(), json!(event.organization_id));
    object.insert("action".into(), json!(event.action));
    object.insert("version".into(), json!(event.version));
    object.insert(
        "occurred_at".into(),
        json!(format_canonical(event.occurred_at)),
    );
    object.insert("actor".into(), actor_value(&event.actor));
    object.insert(
        "targets".into(),
        Value::Array(event.targets.iter().map(actor_value).collect()),
    );
    object.insert("context".into(), Value::Object(context));
    if let Some(metadata) = &event.metadata {
        object.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    Value::Object(object)
}

/// RFC 8785 bytes of any JSON value (`crate::jcs`, checked against serde_json_canonicalizer).
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    crate::jcs::write_canonical(value, &mut out);
    out
}

/// RFC 9162 leaf hash: SHA-256(0x00 ‖ bytes).
pub fn leaf_hash(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(bytes);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_bytes_are_sorted_compact_and_stable() {
        let body = json!({
            "organization_id": "org_1",
            "event": {
                "action": "a.b", "occurred_at": "2026-01-01T01:00:00+01:00",
                "actor": {"type": "user", "id": "u"},
                "targets": [], "context": {"location": "::1"},
                "metadata": {"z": 1.0, "a": "é"}
            }
        });
        let event = EventInput::parse(&body).unwrap();
        let bytes = canonical_bytes(&canonical_value("audit_log_event_X", &event));
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"action":"a.b","actor":{"id":"u","type":"user"},"context":{"location":"::1"},"id":"audit_log_event_X","metadata":{"a":"é","z":1},"occurred_at":"2026-01-01T00:00:00.000Z","organization_id":"org_1","targets":[],"v":1,"version":1}"#
        );
        // Known-answer: the leaf hash is SHA-256 over 0x00 followed by the bytes.
        let mut prefixed = vec![0u8];
        prefixed.extend_from_slice(&bytes);
        assert_eq!(
            leaf_hash(&bytes),
            <[u8; 32]>::from(Sha256::digest(&prefixed))
        );
        assert_ne!(leaf_hash(&bytes), <[u8; 32]>::from(Sha256::digest(&bytes)));
    }
}
