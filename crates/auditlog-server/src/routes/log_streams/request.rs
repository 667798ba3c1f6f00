//! The bodies the streams API takes. Handlers read them field by field so that a 422 names
//! every bad field at once; the types here describe them in the OpenAPI document.

use auditlog_domain::timestamp::{parse_timestamp, to_micros};
use auditlog_domain::FieldErrors;
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(ToSchema)]
#[schema(as = LogStreamType)]
#[allow(dead_code)] // Describes the `type` field.
pub enum DestinationTypeSchema {
    GenericHttps,
    Datadog,
    Splunk,
    S3,
    /// Ours: RFC 5424 over TCP or TLS. Not shown on the WorkOS audit-log configuration.
    Syslog,
}

/// Where delivery starts: `"now"` (the default: events stored from now on), `"beginning"`
/// (every event the organization has), a sequence number (that event and the ones after it),
/// or a timestamp (events received at or after it).
#[derive(ToSchema)]
#[schema(as = LogStreamStart)]
#[allow(dead_code)]
pub enum StartSchema {
    #[schema(example = "now")]
    Word(String),
    Sequence(i64),
}

/// Create a stream. `settings` and `secrets` depend on `type` (see the README's per-destination
/// section); unknown fields are refused.
#[derive(ToSchema)]
#[schema(as = CreateLogStreamRequest, example = json!({"type": "GenericHttps",
    "settings": {"url": "https://siem.example.com/auditlog"},
    "secrets": {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "start": "now"}))]
#[allow(dead_code)]
pub struct CreateLogStreamRequest {
    #[schema(rename = "type", inline)]
    destination_type: DestinationTypeSchema,
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// Write-only: tokens, API keys, signing secrets, custom headers.
    #[schema(value_type = Object)]
    secrets: Map<String, Value>,
    #[schema(required = false, inline)]
    start: StartSchema,
    /// Create it paused (`inactive`).
    #[schema(required = false)]
    paused: bool,
}

/// Change a stream: `settings` replaces the settings; `secrets` replaces the named secrets and
/// keeps the others (`null` removes one); `paused` pauses or resumes.
#[derive(ToSchema)]
#[schema(as = UpdateLogStreamRequest, example = json!({"paused": true}))]
#[allow(dead_code)]
pub struct UpdateLogStreamRequest {
    #[schema(required = false, value_type = Object)]
    settings: Map<String, Value>,
    #[schema(required = false, value_type = Object)]
    secrets: Map<String, Value>,
    #[schema(required = false)]
    paused: bool,
}

/// Deliver a range again: sequences `from_sequence` to `to_sequence` (default: the last one the
/// receiver acknowledged), in order, ahead of live delivery (new events wait until it is done).
#[derive(ToSchema)]
#[schema(as = ReplayLogStreamRequest, example = json!({"from_sequence": 0, "to_sequence": 99}))]
#[allow(dead_code)]
pub struct ReplayRequest {
    #[schema(minimum = 0)]
    from_sequence: i64,
    #[schema(required = false, minimum = 0)]
    to_sequence: i64,
}

/// Where a new stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Now,
    Beginning,
    Sequence(i64),
    /// Microseconds since the epoch.
    ReceivedSince(i64),
}

pub fn object_field<'a>(
    body: &'a Value,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<&'a Value> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value),
        Some(_) => {
            errors.push(name, "invalid_type", format!("{name} must be an object"));
            None
        }
    }
}

pub fn paused_field(body: &Value, errors: &mut FieldErrors) -> Option<bool> {
    match body.get("paused") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(paused)) => Some(*paused),
        Some(_) => {
            errors.push("paused", "invalid_type", "paused must be a boolean");
            None
        }
    }
}

pub fn start_field(body: &Value, errors: &mut FieldErrors) -> Start {
    let start = match body.get("start") {
        None | Some(Value::Null) => Some(Start::Now),
        Some(Value::String(word)) if word == "now" => Some(Start::Now),
        Some(Value::String(word)) if word == "beginning" => Some(Start::Beginning),
        Some(Value::String(text)) => {
            parse_timestamp(text).map(|at| Start::ReceivedSince(to_micros(at)))
        }
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n >= 0).map(Start::Sequence),
        Some(_) => None,
    };
    start.unwrap_or_else(|| {
        errors.push(
            "start",
            "invalid_value",
            "start must be \"now\", \"beginning\", a sequence number (0 or more) or an ISO 8601 \
             timestamp",
        );
        Start::Now
    })
}

/// A non-negative integer field.
pub fn sequence_field(body: &Value, name: &str, errors: &mut FieldErrors) -> Option<i64> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64().filter(|n| *n >= 0) {
            Some(n) => Some(n),
            None => {
                errors.push(
                    name,
                    "invalid_value",
                    format!("{name} must be an integer of 0 or more"),
                );
                None
            }
        },
    }
}

/// Refuses fields a body does not have.
pub fn refuse_unknown(body: &Value, known: &[&str], errors: &mut FieldErrors) {
    match body.as_object() {
        Some(object) => {
            for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
                errors.push(
                    key.clone(),
                    "unknown_field",
                    format!(
                        "{key} is not a field of this request (known: {})",
                        known.join(", ")
                    ),
                );
            }
        }
        None => errors.push("body", "invalid_type", "the body must be a JSON object"),
    }
}
