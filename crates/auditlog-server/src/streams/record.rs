//! What a receiver gets for each event: the WorkOS event fields (action, occurred_at, version,
//! actor, targets, context, metadata) plus the event's id, organization, per-organization
//! sequence number and receipt time, so a receiver can de-duplicate (by id or sequence) and
//! see a gap (a missing sequence number).

use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::StoredEvent;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Action of the synthetic event "send a test event" delivers.
pub const TEST_ACTION: &str = "auditlog.log_stream.test";

/// One event as delivered: its JSON, serialized once, and the fields destinations put in
/// their own envelopes.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub id: String,
    pub organization_id: String,
    /// `None` for the test event, which is outside the sequence.
    pub sequence: Option<i64>,
    pub action: String,
    pub actor_id: String,
    /// The event's `occurred_at`, as stored (canonical text).
    pub occurred_at: String,
    /// Microseconds since the epoch, from `occurred_at` (for destinations that want a time).
    pub occurred_at_micros: i64,
    /// When the event was received, in microseconds since the epoch.
    pub received_at_micros: i64,
    /// The event as delivered: one JSON object.
    pub json: String,
}

/// The stored payload's WorkOS fields, borrowed as their JSON text: copied into the record
/// without being parsed into values.
#[derive(Deserialize)]
struct PayloadFields<'a> {
    #[serde(borrow)]
    action: &'a RawValue,
    #[serde(borrow)]
    occurred_at: &'a RawValue,
    #[serde(borrow)]
    version: &'a RawValue,
    #[serde(borrow)]
    actor: &'a RawValue,
    #[serde(borrow)]
    targets: &'a RawValue,
    #[serde(borrow)]
    context: &'a RawValue,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
}

/// Writes `"name":value` pairs into one JSON object.
struct ObjectWriter(String);

impl ObjectWriter {
    fn new() -> ObjectWriter {
        let mut text = String::with_capacity(768);
        text.push('{');
        ObjectWriter(text)
    }

    fn raw(&mut self, name: &str, json: &str) -> &mut Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(name);
        self.0.push_str("\":");
        self.0.push_str(json);
        self
    }

    fn string(&mut self, name: &str, value: &str) -> &mut Self {
        let quoted = serde_json::to_string(value).expect("a string serializes");
        self.raw(name, &quoted)
    }

    fn finish(&mut self) -> String {
        self.0.push('}');
        std::mem::take(&mut self.0)
    }
}

impl StreamRecord {
    pub fn from_event(event: &StoredEvent) -> StreamRecord {
        let payload = event.payload.as_deref().unwrap_or("{}");
        let received_at = format_millis(from_micros(event.received_at));
        let mut json = ObjectWriter::new();
        json.string("id", &event.id)
            .string("organization_id", &event.organization_id)
            .raw("sequence", &event.sequence.to_string())
            .string("received_at", &received_at);
        let mut occurred_at = String::new();
        // The payload is the canonical JSON the store wrote; one that does not read (which
        // nothing writes) is delivered with the fields the row has.
        if let Ok(fields) = serde_json::from_str::<PayloadFields>(payload) {
            occurred_at = serde_json::from_str(fields.occurred_at.get()).unwrap_or_default();
            json.raw("action", fields.action.get())
                .raw("occurred_at", fields.occurred_at.get())
                .raw("version", fields.version.get())
                .raw("actor", fields.actor.get())
                .raw("targets", fields.targets.get())
                .raw("context", fields.context.get());
            if let Some(metadata) = fields.metadata {
                json.raw("metadata", metadata.get());
            }
        } else {
            json.string("action", &event.action);
        }
        StreamRecord {
            id: event.id.clone(),
            organization_id: event.organization_id.clone(),
            sequence: Some(event.sequence),
            action: event.action.clone(),
            actor_id: event.actor_id.clone(),
            occurred_at,
            occurred_at_micros: event.occurred_at,
            received_at_micros: event.received_at,
            json: json.finish(),
        }
    }

    /// The synthetic event of "send a test event": marked `test: true`, with no sequence
    /// number, so a receiver's gap detection ignores it.
    pub fn test(stream_id: &str, organization_id: &str, now_micros: i64) -> StreamRecord {
        let at = format_millis(from_micros(now_micros));
        let id = auditlog_domain::ids::new_id("test");
        let actor = serde_json::json!({"id": stream_id, "type": "log_stream"}).to_string();
        let json = ObjectWriter::new()
            .string("id", &id)
            .string("organization_id", organization_id)
            .raw("sequence", "null")
            .string("received_at", &at)
            .raw("test", "true")
            .string("action", TEST_ACTION)
            .string("occurred_at", &at)
            .raw("version", "1")
            .raw("actor", &actor)
            .raw("targets", "[]")
            .raw("context", r#"{"location":"0.0.0.0"}"#)
            .finish();
        StreamRecord {
            id,
            organization_id: organization_id.to_string(),
            sequence: None,
            action: TEST_ACTION.into(),
            actor_id: stream_id.to_string(),
            occurred_at: at,
            occurred_at_micros: now_micros,
            received_at_micros: now_micros,
            json,
        }
    }

    /// The event's JSON object with `extra` (`"name":value` pairs, comma-separated) added.
    pub fn json_with(&self, extra: &str) -> String {
        let mut text = String::with_capacity(self.json.len() + extra.len() + 1);
        text.push_str(&self.json[..self.json.len() - 1]);
        text.push(',');
        text.push_str(extra);
        text.push('}');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_event_and_extra_fields_are_valid_json() {
        let record = StreamRecord::test("als_1", "org_1", 0);
        let value: serde_json::Value =
            serde_json::from_str(&record.json_with(r#""ddsource":"auditlog""#)).unwrap();
        assert_eq!(value["test"], true);
        assert_eq!(value["sequence"], serde_json::Value::Null);
        assert_eq!(value["ddsource"], "auditlog");
        assert_eq!(value["actor"]["type"], "log_stream");
    }

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
        assert_eq!(record.occurred_at, "2026-01-01T00:00:00.000Z");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&record.json).unwrap(),
            serde_json::json!({"id": "audit_log_event_1", "organization_id": "org_1",
                "sequence": 7, "received_at": "2026-01-01T00:00:01.000Z",
                "action": "user.signed_in", "occurred_at": "2026-01-01T00:00:00.000Z",
                "version": 1, "actor": {"id": "user_1", "type": "user"}, "targets": [],
                "context": {"location": "203.0.113.7"}})
        );
    }
}
