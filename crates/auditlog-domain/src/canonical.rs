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
use crate::jcs;
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

fn write_actor(actor: &Actor, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    jcs::write_string(&actor.id, out);
    if let Some(metadata) = &actor.metadata {
        out.extend_from_slice(b",\"metadata\":");
        jcs::write_object(metadata, out);
    }
    if let Some(name) = &actor.name {
        out.extend_from_slice(b",\"name\":");
        jcs::write_string(name, out);
    }
    out.extend_from_slice(b",\"type\":");
    jcs::write_string(&actor.kind, out);
    out.push(b'}');
}

/// The canonical bytes of an event, `canonical_bytes(&canonical_value(id, event))`, written
/// straight from the typed event: the ingest path builds no intermediate JSON value and copies
/// no metadata. Members are written in RFC 8785 order (all these keys are ASCII, so UTF-16 order
/// is byte order); the tests compare the two on thousands of generated events.
pub fn canonical_event_bytes(id: &str, event: &EventInput) -> String {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"action\":");
    jcs::write_string(&event.action, &mut out);
    out.extend_from_slice(b",\"actor\":");
    write_actor(&event.actor, &mut out);
    out.extend_from_slice(b",\"context\":{\"location\":");
    jcs::write_string(&event.context.location, &mut out);
    if let Some(user_agent) = &event.context.user_agent {
        out.extend_from_slice(b",\"user_agent\":");
        jcs::write_string(user_agent, &mut out);
    }
    out.extend_from_slice(b"},\"id\":");
    jcs::write_string(id, &mut out);
    if let Some(metadata) = &event.metadata {
        out.extend_from_slice(b",\"metadata\":");
        jcs::write_object(metadata, &mut out);
    }
    out.extend_from_slice(b",\"occurred_at\":");
    jcs::write_string(&format_canonical(event.occurred_at), &mut out);
    out.extend_from_slice(b",\"organization_id\":");
    jcs::write_string(&event.organization_id, &mut out);
    out.extend_from_slice(b",\"targets\":[");
    for (i, target) in event.targets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_actor(target, &mut out);
    }
    out.extend_from_slice(b"],\"v\":");
    jcs::write_number(&CANONICAL_FORMAT_VERSION.into(), &mut out);
    out.extend_from_slice(b",\"version\":");
    jcs::write_number(&event.version.into(), &mut out);
    out.push(b'}');
    // Every piece above is UTF-8: JSON punctuation, ASCII keys and serde_json's string output.
    String::from_utf8(out).expect("canonical JSON is UTF-8")
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
    use crate::event::Context;
    use crate::test_rng::{seed_state, Xorshift};

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
        assert_eq!(
            canonical_event_bytes("audit_log_event_X", &event).as_bytes(),
            &bytes[..]
        );
    }

    /// A deterministic generator (xorshift) of events with every optional member present or
    /// not, awkward strings and metadata of every allowed value type.
    struct Gen(u64);

    impl Xorshift for Gen {
        fn state(&mut self) -> &mut u64 {
            &mut self.0
        }
    }

    impl Gen {
        fn text(&mut self) -> String {
            const PIECES: &[&str] = &[
                "a", "Z", "0", "_", "-", "é", "\u{e000}", "😀", "\"", "\\", "\n", "\u{0}",
                "\u{1f}", "\u{7f}", "\u{2028}", "<", " ", "中",
            ];
            (0..=self.below(6))
                .map(|_| PIECES[self.below(PIECES.len() as u64)])
                .collect()
        }

        fn metadata(&mut self) -> Option<Map<String, Value>> {
            if self.below(3) == 0 {
                return None;
            }
            let mut map = Map::new();
            for _ in 0..self.below(5) {
                let value = match self.below(4) {
                    0 => json!(self.text()),
                    1 => json!(self.below(1000) as i64 - 500),
                    2 => json!(self.next() as f64 / 7.0),
                    _ => json!(self.below(2) == 0),
                };
                map.insert(self.text(), value);
            }
            Some(map)
        }

        fn optional(&mut self) -> Option<String> {
            (self.below(2) == 0).then(|| self.text())
        }

        fn actor(&mut self) -> Actor {
            Actor {
                id: self.text(),
                kind: self.text(),
                name: self.optional(),
                metadata: self.metadata(),
            }
        }

        fn event(&mut self) -> EventInput {
            EventInput {
                organization_id: self.text(),
                action: self.text(),
                occurred_at: crate::timestamp::from_micros(
                    (self.next() % 253_402_300_799_000_000) as i64,
                ),
                version: 1 + self.below(9_007_199_254_740_992) as i64,
                actor: self.actor(),
                targets: (0..self.below(4)).map(|_| self.actor()).collect(),
                context: Context {
                    location: self.text(),
                    user_agent: self.optional(),
                },
                metadata: self.metadata(),
            }
        }
    }

    #[test]
    fn event_bytes_written_directly_match_the_canonical_value() {
        for seed in 1..=5_000u64 {
            let mut generator = Gen(seed_state(seed));
            let event = generator.event();
            let id = generator.text();
            assert_eq!(
                canonical_event_bytes(&id, &event),
                String::from_utf8(canonical_bytes(&canonical_value(&id, &event))).unwrap(),
                "seed {seed}: {event:?}"
            );
        }
    }
}
