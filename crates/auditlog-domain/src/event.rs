//! The body of `POST /audit_logs/events`, parsed once into typed values (parse, don't validate).

use crate::field_error::FieldErrors;
use crate::field_path::FieldPath;
use crate::metadata::{longer_than, parse_metadata};
use crate::timestamp::{from_micros, parse_timestamp, to_micros};
use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};

/// Upper bound on identifier-like strings (ids, types, names, action). WorkOS documents none;
/// we cap them so one event cannot carry megabytes in its indexed columns.
pub const MAX_STRING_CHARS: usize = 1000;
/// Largest schema version: canonical JSON numbers are doubles, exact up to 2^53.
pub const MAX_VERSION: i64 = 9_007_199_254_740_992;
/// Upper bound on targets per event (WorkOS documents none).
pub const MAX_TARGETS: usize = 100;

/// An actor or a target: both have the same shape on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

pub type Target = Actor;

#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub location: String,
    pub user_agent: Option<String>,
}

/// A fully validated event as submitted, before the server assigns id, sequence and times.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    pub organization_id: String,
    pub action: String,
    /// Truncated to the microsecond, the precision we store.
    pub occurred_at: DateTime<Utc>,
    /// Schema version; WorkOS assumes 1 when omitted.
    pub version: i64,
    pub actor: Actor,
    pub targets: Vec<Target>,
    pub context: Context,
    pub metadata: Option<Map<String, Value>>,
}

/// Why a string field was not accepted as it is.
pub(crate) enum TextFault {
    /// Empty: "not given" for an optional field, an error for a required one.
    Empty,
    TooLong,
}

/// An identifier-like string as the API accepts it: not empty, at most [`MAX_STRING_CHARS`].
pub(crate) fn checked_text(text: String) -> Result<String, TextFault> {
    if text.is_empty() {
        Err(TextFault::Empty)
    } else if longer_than(&text, MAX_STRING_CHARS) {
        Err(TextFault::TooLong)
    } else {
        Ok(text)
    }
}

/// `occurred_at` as stored (truncated to the microsecond), if it is an RFC 3339 date-time in
/// years 0001–9999 (outside them it could not be written back as RFC 3339).
pub(crate) fn occurred_at_from(text: &str) -> Option<DateTime<Utc>> {
    parse_timestamp(text)
        .filter(|at| (1..=9999).contains(&at.year()))
        .map(|at| from_micros(to_micros(at)))
}

/// A schema version from a JSON number: a positive integer up to [`MAX_VERSION`]. `2.0` is the
/// integer 2 to JSON Schema (and to JavaScript callers).
pub(crate) fn version_from(number: &serde_json::Number) -> Option<i64> {
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && (1.0..=9_007_199_254_740_992.0).contains(f))
                .map(|f| f as i64)
        })
        .filter(|v| (1..=MAX_VERSION).contains(v))
}

struct Reader<'a> {
    errors: &'a mut FieldErrors,
}

/// Takes the member out of the body (the parser owns it), leaving `null` behind.
fn take(parent: &mut Map<String, Value>, key: &str) -> Value {
    parent.get_mut(key).map(Value::take).unwrap_or(Value::Null)
}

impl Reader<'_> {
    fn push(&mut self, path: &FieldPath, code: &str, message: String) {
        self.errors.push(path.to_string(), code, message);
    }

    fn object<'v>(
        &mut self,
        parent: &'v mut Map<String, Value>,
        path: &FieldPath,
    ) -> Option<&'v mut Map<String, Value>> {
        match parent.get_mut(path.last_key()) {
            None | Some(Value::Null) => {
                self.push(path, "required", format!("{path} is required"));
                None
            }
            Some(Value::Object(object)) => Some(object),
            Some(_) => {
                self.push(path, "invalid_type", format!("{path} must be an object"));
                None
            }
        }
    }

    fn string(
        &mut self,
        parent: &mut Map<String, Value>,
        path: &FieldPath,
        required: bool,
    ) -> Option<String> {
        match take(parent, path.last_key()) {
            Value::Null => {
                if required {
                    self.push(path, "required", format!("{path} is required"));
                }
                None
            }
            Value::String(text) => match checked_text(text) {
                Ok(text) => Some(text),
                // An empty optional string means "not given": the CSV export cannot tell the
                // two apart, and the canonical bytes must be recomputable from an exported row.
                Err(TextFault::Empty) => {
                    if required {
                        self.push(path, "required", format!("{path} must not be empty"));
                    }
                    None
                }
                Err(TextFault::TooLong) => {
                    self.push(
                        path,
                        "too_long",
                        format!("{path} must be at most {MAX_STRING_CHARS} characters"),
                    );
                    None
                }
            },
            _ => {
                self.push(path, "invalid_type", format!("{path} must be a string"));
                None
            }
        }
    }

    fn metadata(
        &mut self,
        parent: &mut Map<String, Value>,
        path: &FieldPath,
    ) -> Option<Map<String, Value>> {
        match take(parent, "metadata") {
            Value::Null => None,
            value => parse_metadata(value, &path.key("metadata"), self.errors),
        }
    }

    fn actor(&mut self, object: &mut Map<String, Value>, path: &FieldPath) -> Option<Actor> {
        let id = self.string(object, &path.key("id"), true);
        let kind = self.string(object, &path.key("type"), true);
        let name = self.string(object, &path.key("name"), false);
        let metadata = self.metadata(object, path);
        Some(Actor {
            id: id?,
            kind: kind?,
            name,
            metadata,
        })
    }

    fn targets(&mut self, event: &mut Map<String, Value>, path: &FieldPath) -> Option<Vec<Target>> {
        match event.get_mut("targets") {
            None | Some(Value::Null) => {
                self.push(path, "required", format!("{path} is required"));
                None
            }
            Some(Value::Array(items)) if items.len() > MAX_TARGETS => {
                self.push(
                    path,
                    "too_many_items",
                    format!("{path} may hold at most {MAX_TARGETS} targets"),
                );
                None
            }
            Some(Value::Array(items)) => {
                let mut targets = Vec::with_capacity(items.len());
                for (index, item) in items.iter_mut().enumerate() {
                    let item_path = path.index(index);
                    match item {
                        Value::Object(object) => targets.extend(self.actor(object, &item_path)),
                        _ => self.push(
                            &item_path,
                            "invalid_type",
                            format!("{item_path} must be an object"),
                        ),
                    }
                }
                (targets.len() == items.len()).then_some(targets)
            }
            Some(_) => {
                self.push(path, "invalid_type", format!("{path} must be an array"));
                None
            }
        }
    }

    fn occurred_at(
        &mut self,
        event: &mut Map<String, Value>,
        path: &FieldPath,
    ) -> Option<DateTime<Utc>> {
        let text = self.string(event, path, true)?;
        let at = occurred_at_from(&text);
        if at.is_none() {
            self.push(
                path,
                "invalid_date",
                format!("{path} must be an RFC 3339 date-time, e.g. 2026-01-15T12:00:00.000Z"),
            );
        }
        at
    }

    fn version(&mut self, event: &Map<String, Value>, path: &FieldPath) -> Option<i64> {
        match event.get("version") {
            None | Some(Value::Null) => Some(1),
            // `2.0` is the integer 2 to JSON Schema (and to JavaScript callers).
            Some(Value::Number(n)) => {
                let version = version_from(n);
                if version.is_none() {
                    self.push(
                        path,
                        "invalid_value",
                        format!("{path} must be a positive integer"),
                    );
                }
                version
            }
            Some(_) => {
                self.push(path, "invalid_type", format!("{path} must be an integer"));
                None
            }
        }
    }

    fn context(&mut self, event: &mut Map<String, Value>, path: &FieldPath) -> Option<Context> {
        let context = self.object(event, path)?;
        let location = self.string(context, &path.key("location"), true);
        let user_agent = self.string(context, &path.key("user_agent"), false);
        Some(Context {
            location: location?,
            user_agent,
        })
    }
}

impl EventInput {
    /// Parses a whole request body (`{"organization_id": …, "event": {…}}`), reporting every
    /// field error at once. Strings and metadata move out of `body` into the event.
    pub fn from_value(mut body: Value) -> Result<EventInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(root) = body.as_object_mut() else {
            errors.push(
                "body",
                "invalid_type",
                "the request body must be a JSON object",
            );
            return Err(errors);
        };
        let mut reader = Reader {
            errors: &mut errors,
        };
        let organization_id = reader.string(root, &FieldPath::root("organization_id"), true);
        let event_path = FieldPath::root("event");
        let Some(event) = reader.object(root, &event_path) else {
            return Err(errors);
        };
        let action = reader.string(event, &event_path.key("action"), true);
        let occurred_at = reader.occurred_at(event, &event_path.key("occurred_at"));
        let version = reader.version(event, &event_path.key("version"));
        let actor_path = event_path.key("actor");
        let actor = reader
            .object(event, &actor_path)
            .and_then(|actor| reader.actor(actor, &actor_path));
        let targets = reader.targets(event, &event_path.key("targets"));
        let context = reader.context(event, &event_path.key("context"));
        let metadata = reader.metadata(event, &event_path);

        match (
            organization_id,
            action,
            occurred_at,
            version,
            actor,
            targets,
            context,
        ) {
            (
                Some(organization_id),
                Some(action),
                Some(occurred_at),
                Some(version),
                Some(actor),
                Some(targets),
                Some(context),
            ) if errors.is_empty() => Ok(EventInput {
                organization_id,
                action,
                occurred_at,
                version,
                actor,
                targets,
                context,
                metadata,
            }),
            _ => Err(errors),
        }
    }

    /// [`EventInput::from_value`] on a copy of `body`, for callers that keep the body.
    pub fn parse(body: &Value) -> Result<EventInput, FieldErrors> {
        Self::from_value(body.clone())
    }

    /// Distinct target types, in first-seen order (indexed for the export `targets` filter).
    pub fn target_types(&self) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for target in &self.targets {
            if !types.contains(&target.kind) {
                types.push(target.kind.clone());
            }
        }
        types
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "organization_id": "org_01EHWNCE74X7JSDV0X3SZ3KJNY",
            "event": {
                "action": "user.signed_in",
                "occurred_at": "2026-02-02T18:35:39.317+02:00",
                "actor": {"id": "user_1", "type": "user", "name": "Jon", "metadata": {"role": "admin"}},
                "targets": [{"id": "team_1", "type": "team"}, {"id": "team_2", "type": "team"}, {"id": "d", "type": "doc"}],
                "context": {"location": "1.2.3.4", "user_agent": "Chrome"},
                "metadata": {"owner": "user_2"}
            }
        })
    }

    fn codes(body: Value) -> Vec<(String, String)> {
        EventInput::parse(&body)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn parses_a_complete_event() {
        let event = EventInput::parse(&valid()).unwrap();
        assert_eq!(event.action, "user.signed_in");
        assert_eq!(event.version, 1);
        assert_eq!(
            crate::timestamp::format_millis(event.occurred_at),
            "2026-02-02T16:35:39.317Z"
        );
        assert_eq!(event.targets.len(), 3);
        assert_eq!(event.target_types(), vec!["team", "doc"]);
        assert_eq!(event.context.user_agent.as_deref(), Some("Chrome"));
    }

    #[test]
    fn reports_every_missing_field() {
        let found = codes(json!({"event": {}}));
        for field in [
            "organization_id",
            "event.action",
            "event.occurred_at",
            "event.actor",
            "event.targets",
            "event.context",
        ] {
            assert!(
                found.contains(&(field.to_string(), "required".to_string())),
                "{field}: {found:?}"
            );
        }
        assert_eq!(
            codes(json!({"organization_id": "o"})),
            vec![("event".into(), "required".into())]
        );
        assert_eq!(
            codes(json!([1])),
            vec![("body".into(), "invalid_type".into())]
        );
    }

    #[test]
    fn reports_nested_type_errors_and_metadata_limits() {
        let mut body = valid();
        body["event"]["targets"][1]["id"] = json!(5);
        body["event"]["actor"]["metadata"] = json!({"k": {"nested": true}});
        body["event"]["occurred_at"] = json!("last tuesday");
        body["event"]["version"] = json!(0);
        let mut far = valid();
        far["event"]["occurred_at"] = json!("9999-12-31T23:59:59-23:59");
        assert_eq!(codes(far)[0].1, "invalid_date");
        let mut huge = valid();
        huge["event"]["version"] = json!(9_223_372_036_854_775_807i64);
        assert_eq!(codes(huge)[0].1, "invalid_value");
        body["event"]["context"]["location"] = json!("");
        let found = codes(body);
        assert!(found.contains(&("event.targets.1.id".into(), "invalid_type".into())));
        assert!(found.contains(&("event.actor.metadata.k".into(), "invalid_value".into())));
        assert!(found.contains(&("event.occurred_at".into(), "invalid_date".into())));
        assert!(found.contains(&("event.version".into(), "invalid_value".into())));
        assert!(found.contains(&("event.context.location".into(), "required".into())));
    }

    #[test]
    fn bounds_targets_and_strings() {
        let mut body = valid();
        body["event"]["targets"] = json!(vec![json!({"id": "t", "type": "x"}); 101]);
        assert_eq!(codes(body)[0].1, "too_many_items");
        let mut body = valid();
        body["event"]["action"] = json!("a".repeat(1001));
        assert_eq!(codes(body)[0].1, "too_long");
        let mut body = valid();
        body["event"]["targets"] = json!([]);
        assert!(
            EventInput::parse(&body).is_ok(),
            "an empty targets array is allowed"
        );
    }
}
