//! The event body parsed straight from its bytes into typed fields: the fast path for the
//! bodies that are valid, which are nearly all of them.
//!
//! Parsing into a `serde_json::Value` first allocates every key and builds an ordered map for
//! every object, only for [`EventInput::from_value`] to take them apart again; on the ingest
//! path that was the largest single cost of a request after the network. Here serde fills the
//! event's fields directly. The fast path only ever accepts a body: anything it does not accept
//! as it is (a wrong type, a missing, empty or overlong field, a bad date, a duplicate key,
//! invalid metadata) is left to [`EventInput::from_value`], which reports every field error.
//! Both apply the same checks (`checked_text`, `occurred_at_from`, `version_from`,
//! `parse_metadata`), so they accept the same bodies and build the same events; the tests
//! compare them on thousands of generated bodies.

use crate::event::{checked_text, occurred_at_from, version_from, MAX_TARGETS};
use crate::event::{Actor, Context, EventInput};
use crate::field_error::FieldErrors;
use crate::metadata::parse_metadata;
use serde::Deserialize;
use serde_json::{Map, Number, Value};

#[derive(Deserialize)]
struct WireBody {
    organization_id: Option<String>,
    event: Option<WireEvent>,
}

#[derive(Deserialize)]
struct WireEvent {
    action: Option<String>,
    occurred_at: Option<String>,
    version: Option<Number>,
    actor: Option<WireActor>,
    targets: Option<Vec<WireActor>>,
    context: Option<WireContext>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct WireActor {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct WireContext {
    location: Option<String>,
    user_agent: Option<String>,
}

fn required(text: Option<String>) -> Option<String> {
    checked_text(text?).ok()
}

/// `None` (not given) for a missing, null or empty string; fails on an overlong one.
fn optional(text: Option<String>) -> Result<Option<String>, ()> {
    match text.map(checked_text) {
        None | Some(Err(crate::event::TextFault::Empty)) => Ok(None),
        Some(Ok(text)) => Ok(Some(text)),
        Some(Err(crate::event::TextFault::TooLong)) => Err(()),
    }
}

/// Metadata as accepted: absent or null is none; anything `parse_metadata` would refuse fails.
fn metadata(value: Option<Value>) -> Result<Option<Map<String, Value>>, ()> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut errors = FieldErrors::default();
    match parse_metadata(value, &"metadata", &mut errors) {
        Some(map) if errors.is_empty() => Ok(Some(map)),
        _ => Err(()),
    }
}

fn actor(wire: WireActor) -> Option<Actor> {
    Some(Actor {
        id: required(wire.id)?,
        kind: required(wire.kind)?,
        name: optional(wire.name).ok()?,
        metadata: metadata(wire.metadata).ok()?,
    })
}

impl EventInput {
    /// Parses a request body from its bytes when it is a valid event, with no intermediate
    /// JSON value; `None` when it is not (or not JSON), for [`EventInput::from_value`] to
    /// report why. A body with an escaped U+0000 is accepted here like any other string: the
    /// caller refuses those first.
    pub fn from_valid_slice(bytes: &[u8]) -> Option<EventInput> {
        let body: WireBody = serde_json::from_slice(bytes).ok()?;
        let event = body.event?;
        let targets = event.targets?;
        if targets.len() > MAX_TARGETS {
            return None;
        }
        let context = event.context?;
        Some(EventInput {
            organization_id: required(body.organization_id)?,
            action: required(event.action)?,
            occurred_at: occurred_at_from(&required(event.occurred_at)?)?,
            version: match &event.version {
                None => 1,
                Some(number) => version_from(number)?,
            },
            actor: actor(event.actor?)?,
            targets: targets.into_iter().map(actor).collect::<Option<_>>()?,
            context: Context {
                location: required(context.location)?,
                user_agent: optional(context.user_agent).ok()?,
            },
            metadata: metadata(event.metadata).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::{seed_state, Xorshift};
    use serde_json::json;

    struct Gen(u64);

    impl Xorshift for Gen {
        fn state(&mut self) -> &mut u64 {
            &mut self.0
        }
    }

    /// Values a field may be set to: valid and invalid ones of every JSON type.
    fn replacement(rng: &mut Gen) -> Value {
        let choices = [
            json!(null),
            json!(""),
            json!("x"),
            json!("a".repeat(1001)),
            json!("é".repeat(1000)),
            json!(1),
            json!(2.0),
            json!(2.5),
            json!(0),
            json!(-3),
            json!(9_007_199_254_740_993i64),
            json!(true),
            json!([]),
            json!([{"id": "t", "type": "x"}]),
            json!({}),
            json!({"k": "v"}),
            json!({"k": {"nested": 1}}),
            json!({"bad key": 1}),
            json!("2026-01-01T00:00:00Z"),
            json!("2026-01-01T00:00:00.1234567+05:00"),
            json!("2026-01-01 00:00:00"),
            json!("0000-12-31T23:00:00-02:00"),
            json!("last tuesday"),
        ];
        choices[rng.below(choices.len() as u64) as usize].clone()
    }

    fn valid() -> Value {
        json!({
            "organization_id": "org_1",
            "event": {
                "action": "user.signed_in",
                "occurred_at": "2026-02-02T18:35:39.317+02:00",
                "version": 2,
                "actor": {"id": "user_1", "type": "user", "name": "Jon", "metadata": {"role": "admin"}},
                "targets": [{"id": "team_1", "type": "team"}, {"id": "d", "type": "doc", "name": ""}],
                "context": {"location": "1.2.3.4", "user_agent": "Chrome"},
                "metadata": {"owner": "user_2", "n": 1.5, "ok": true},
                "extra": {"ignored": [1, 2]}
            }
        })
    }

    /// Every path to an object member of `value`, with `value` itself as the empty path.
    fn member_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(map) = value {
            for (key, member) in map {
                prefix.push(key.clone());
                out.push(prefix.clone());
                member_paths(member, prefix, out);
                prefix.pop();
            }
        }
        if let Value::Array(items) = value {
            for (index, item) in items.iter().enumerate() {
                prefix.push(index.to_string());
                member_paths(item, prefix, out);
                prefix.pop();
            }
        }
    }

    fn set(body: &mut Value, path: &[String], new: Option<Value>) {
        let (last, parents) = path.split_last().unwrap();
        let mut at = body;
        for key in parents {
            at = match at {
                Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
                other => &mut other[key.as_str()],
            };
        }
        match (at, new) {
            (Value::Object(map), None) => {
                map.shift_remove(last);
            }
            (Value::Object(map), Some(new)) => {
                map.insert(last.clone(), new);
            }
            (Value::Array(items), Some(new)) => items[last.parse::<usize>().unwrap()] = new,
            _ => {}
        }
    }

    #[test]
    fn accepts_exactly_what_the_full_parser_accepts() {
        let mut rng = Gen(seed_state(0x5eed_0f_e7e1));
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut body = valid();
            for _ in 0..rng.below(3) {
                let mut paths = Vec::new();
                member_paths(&body, &mut Vec::new(), &mut paths);
                let path = paths[rng.below(paths.len() as u64) as usize].clone();
                let new = (rng.below(5) > 0).then(|| replacement(&mut rng));
                set(&mut body, &path, new);
            }
            let bytes = serde_json::to_vec(&body).unwrap();
            let full = EventInput::parse(&body);
            match EventInput::from_valid_slice(&bytes) {
                Some(fast) => {
                    accepted += 1;
                    assert_eq!(full.as_ref(), Ok(&fast), "{body}");
                }
                None => assert!(full.is_err(), "refused a valid body: {body}"),
            }
        }
        assert!(accepted > 2_000, "only {accepted} bodies were valid");
    }

    #[test]
    fn leaves_duplicate_keys_and_non_objects_to_the_full_parser() {
        let duplicate = br#"{"organization_id":"a","organization_id":"b","event":{}}"#;
        assert!(EventInput::from_valid_slice(duplicate).is_none());
        assert!(EventInput::from_valid_slice(b"[1]").is_none());
        assert!(EventInput::from_valid_slice(b"{").is_none());
        let valid = serde_json::to_vec(&valid()).unwrap();
        let mut trailing = valid.clone();
        trailing.extend_from_slice(b" x");
        assert!(EventInput::from_valid_slice(&valid).is_some());
        assert!(EventInput::from_valid_slice(&trailing).is_none());
    }
}
