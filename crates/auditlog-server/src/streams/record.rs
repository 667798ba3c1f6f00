//! What a receiver gets for each event: the WorkOS event fields (action, occurred_at, version,
//! actor, targets, context, metadata) plus the event's id, organization, per-organization
//! sequence number and receipt time, so a receiver can de-duplicate (by id or sequence) and
//! see a gap (a missing sequence number).

use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::StoredEvent;
use serde_json::{Map, Value};

/// Action of the synthetic event "send a test event" delivers.
pub const TEST_ACTION: &str = "auditlog.log_stream.test";

/// One event as delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub sequence: Option<i64>,
    /// Microseconds since the epoch, from `occurred_at` (for destinations that want a time).
    pub occurred_at_micros: i64,
    /// When the event was received, in microseconds since the epoch.
    pub received_at_micros: i64,
    pub fields: Map<String, Value>,
}

impl StreamRecord {
    pub fn from_event(event: &StoredEvent) -> StreamRecord {
        let payload: Map<String, Value> = event
            .payload
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let mut fields = Map::new();
        fields.insert("id".into(), event.id.clone().into());
        fields.insert(
            "organization_id".into(),
            event.organization_id.clone().into(),
        );
        fields.insert("sequence".into(), event.sequence.into());
        fields.insert(
            "received_at".into(),
            format_millis(from_micros(event.received_at)).into(),
        );
        for name in [
            "action",
            "occurred_at",
            "version",
            "actor",
            "targets",
            "context",
            "metadata",
        ] {
            if let Some(value) = payload.get(name) {
                fields.insert(name.into(), value.clone());
            }
        }
        StreamRecord {
            sequence: Some(event.sequence),
            occurred_at_micros: event.occurred_at,
            received_at_micros: event.received_at,
            fields,
        }
    }

    /// The synthetic event of "send a test event": marked `test: true`, with no sequence
    /// number, so a receiver's gap detection ignores it.
    pub fn test(stream_id: &str, organization_id: &str, now_micros: i64) -> StreamRecord {
        let at = format_millis(from_micros(now_micros));
        let fields = serde_json::json!({
            "id": auditlog_domain::ids::new_id("test"),
            "organization_id": organization_id,
            "sequence": null,
            "received_at": at,
            "test": true,
            "action": TEST_ACTION,
            "occurred_at": at,
            "version": 1,
            "actor": {"id": stream_id, "type": "log_stream"},
            "targets": [],
            "context": {"location": "0.0.0.0"},
        });
        StreamRecord {
            sequence: None,
            occurred_at_micros: now_micros,
            received_at_micros: now_micros,
            fields: match fields {
                Value::Object(map) => map,
                _ => unreachable!("a JSON object literal"),
            },
        }
    }

    pub fn action(&self) -> &str {
        self.fields
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.fields).expect("a JSON map serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_carries_the_event_and_where_it_sits() {
        let event = StoredEvent {
            id: "audit_log_event_1".into(),
            environment: "default".into(),
            organization_id: "org_1".into(),
            sequence: 7,
            occurred_at: 1_767_225_600_000_000,
            received_at: 1_767_225_601_000_000,
            action: "user.signed_in".into(),
            actor_id: "user_1".into(),
            actor_name: None,
            payload: Some(
                r#"{"v":1,"id":"audit_log_event_1","organization_id":"org_1","action":"user.signed_in","version":1,"occurred_at":"2026-01-01T00:00:00.000Z","actor":{"id":"user_1","type":"user"},"targets":[],"context":{"location":"203.0.113.7"}}"#
                    .into(),
            ),
            leaf_hash: [0; 32],
        };
        let record = StreamRecord::from_event(&event);
        assert_eq!(
            Value::Object(record.fields),
            serde_json::json!({"id": "audit_log_event_1", "organization_id": "org_1",
                "sequence": 7, "received_at": "2026-01-01T00:00:01.000Z",
                "action": "user.signed_in", "occurred_at": "2026-01-01T00:00:00.000Z",
                "version": 1, "actor": {"id": "user_1", "type": "user"}, "targets": [],
                "context": {"location": "203.0.113.7"}})
        );
    }
}
