//! Where a stream delivers: one module per receiver type, each speaking that receiver's
//! documented intake format. A destination is parsed from the stream's stored settings and
//! secrets (validated the same way when the API receives them) and sends one batch at a time.

mod datadog;
mod generic_https;
mod s3;
mod splunk;
mod syslog;

use super::record::StreamRecord;
use crate::outbound::{bounded_text, FenceError, OutboundPolicy};
use auditlog_domain::FieldErrors;
use serde_json::{Map, Value};
use std::time::Duration;

/// The receiver types: WorkOS's names, and `Syslog` (ours).
pub const TYPES: &[&str] = &["GenericHttps", "Datadog", "Splunk", "S3", "Syslog"];

/// A validated destination.
#[derive(Debug, Clone)]
pub enum Destination {
    GenericHttps(generic_https::GenericHttps),
    Datadog(datadog::Datadog),
    Splunk(splunk::Splunk),
    S3(s3::S3),
    Syslog(syslog::Syslog),
}

/// What deliveries go out with: the fenced HTTP client, the fence itself (for receivers that
/// are not HTTP) and the time a receiver has to answer.
#[derive(Clone)]
pub struct Outbound {
    pub client: reqwest::Client,
    pub policy: OutboundPolicy,
    pub timeout: Duration,
}

impl Outbound {
    pub fn new(config: &crate::config::StreamsConfig) -> Outbound {
        let policy = config.outbound_policy();
        let timeout = Duration::from_secs(config.stream_timeout_secs.max(1));
        Outbound {
            client: policy.http_client(timeout),
            policy,
            timeout,
        }
    }
}

/// How one delivery attempt failed, and what that means for the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryFailure {
    pub kind: FailureKind,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// What the receiver answered (bounded), or why it could not be reached.
    pub message: String,
    /// The receiver's `Retry-After`.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Worth retrying as is: a 5xx, a 429, a timeout, a refused connection.
    Transient,
    /// The receiver refused in a way a retry will not change until someone fixes something
    /// (401, 403, 404, another 4xx): the stream shows `error` and is retried slowly.
    Permanent,
    /// The destination itself is not allowed (the fence refused its address): `invalid`.
    Invalid,
}

/// A receiver's answer to a delivery it accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// HTTP status (0 for receivers that are not HTTP).
    pub status: u16,
    pub body: String,
}

/// Limits of one delivery, from the receiver's documented intake limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_events: usize,
    pub max_bytes: usize,
}

/// The pieces of a stream a destination needs to deliver.
pub struct Batch<'a> {
    pub stream_id: &'a str,
    pub records: &'a [StreamRecord],
}

impl Batch<'_> {
    /// A name for this batch that stays the same when the same range is delivered again, so
    /// a receiver can recognise a re-delivery.
    pub fn delivery_id(&self) -> String {
        let sequences: Vec<i64> = self.records.iter().filter_map(|r| r.sequence).collect();
        match (sequences.first(), sequences.last()) {
            (Some(first), Some(last)) => format!("{}_{first}-{last}", self.stream_id),
            _ => format!(
                "{}_test_{}",
                self.stream_id,
                self.records.first().map_or("", |r| r.id.as_str())
            ),
        }
    }
}

impl Destination {
    /// Parses and validates a destination of `kind`; errors name fields as
    /// `settings.<name>` and `secrets.<name>`.
    pub fn parse(
        kind: &str,
        settings: &Value,
        secrets: &Value,
        policy: &OutboundPolicy,
    ) -> Result<Destination, FieldErrors> {
        let mut fields = Fields::new(settings, secrets);
        let destination = match kind {
            "GenericHttps" => {
                generic_https::GenericHttps::parse(&mut fields, policy).map(Self::GenericHttps)
            }
            "Datadog" => datadog::Datadog::parse(&mut fields, policy).map(Self::Datadog),
            "Splunk" => splunk::Splunk::parse(&mut fields, policy).map(Self::Splunk),
            "S3" => s3::S3::parse(&mut fields, policy).map(Self::S3),
            "Syslog" => syslog::Syslog::parse(&mut fields, policy).map(Self::Syslog),
            other => {
                fields.errors.push(
                    "type",
                    "invalid_value",
                    format!("type must be one of {}; got {other:?}", TYPES.join(", ")),
                );
                None
            }
        };
        fields.finish()?;
        Ok(destination.expect("a destination without field errors is built"))
    }

    pub fn limits(&self) -> BatchLimits {
        match self {
            Destination::GenericHttps(_) => generic_https::LIMITS,
            Destination::Datadog(_) => datadog::LIMITS,
            Destination::Splunk(_) => splunk::LIMITS,
            Destination::S3(_) => s3::LIMITS,
            Destination::Syslog(_) => syslog::LIMITS,
        }
    }

    /// The fields of `secrets` that are set, by name (the API shows which, never their values).
    pub fn secret_names(secrets: &Value) -> Vec<String> {
        let mut names: Vec<String> = secrets
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Sends one batch; `Ok` once the receiver acknowledged it.
    pub async fn deliver(
        &self,
        outbound: &Outbound,
        batch: &Batch<'_>,
    ) -> Result<Receipt, DeliveryFailure> {
        let client = &outbound.client;
        let request = match self {
            Destination::GenericHttps(d) => d.request(client, batch),
            Destination::Datadog(d) => d.request(client, batch),
            Destination::Splunk(d) => d.request(client, batch),
            Destination::S3(d) => return d.deliver(outbound, batch).await,
            Destination::Syslog(d) => return d.deliver(outbound, batch).await,
        };
        send(request).await
    }
}

/// Sends an HTTP delivery and classifies the answer.
async fn send(request: reqwest::RequestBuilder) -> Result<Receipt, DeliveryFailure> {
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = bounded_text(response).await;
    if status.is_success() {
        return Ok(Receipt {
            status: status.as_u16(),
            body,
        });
    }
    let kind = match status.as_u16() {
        408 | 425 | 429 => FailureKind::Transient,
        code if code >= 500 => FailureKind::Transient,
        _ => FailureKind::Permanent,
    };
    let reason = status.canonical_reason().unwrap_or("");
    Err(DeliveryFailure {
        kind,
        status: Some(status.as_u16()),
        message: format!("{} {reason}: {}", status.as_u16(), body.trim())
            .trim_end_matches([' ', ':'])
            .to_string(),
        retry_after,
    })
}

/// A request that got no answer: the fence refused the address (invalid) or the receiver could
/// not be reached in time (transient).
fn unreachable(error: reqwest::Error) -> DeliveryFailure {
    let fenced = std::error::Error::source(&error)
        .and_then(find_fence_error)
        .map(|fence| fence.to_string());
    let (kind, message) = match fenced {
        Some(message) => (FailureKind::Invalid, message),
        None if error.is_timeout() => (
            FailureKind::Transient,
            "the receiver did not answer in time".into(),
        ),
        None => (
            FailureKind::Transient,
            format!("cannot reach the receiver: {}", chain(&error)),
        ),
    };
    DeliveryFailure {
        kind,
        status: None,
        message,
        retry_after: None,
    }
}

pub(super) fn find_fence_error<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e FenceError> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(fence) = error.downcast_ref::<FenceError>() {
            return Some(fence);
        }
        current = error.source();
    }
    None
}

/// An error and its causes on one line (reqwest's own message is only the outermost).
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        current = cause.source();
    }
    text
}

/// Reads a destination's settings and secrets, collecting every problem at once and refusing
/// fields the destination does not know.
pub(super) struct Fields<'a> {
    settings: Option<&'a Map<String, Value>>,
    secrets: Option<&'a Map<String, Value>>,
    used_settings: Vec<&'static str>,
    used_secrets: Vec<&'static str>,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    fn new(settings: &'a Value, secrets: &'a Value) -> Fields<'a> {
        let mut errors = FieldErrors::default();
        for (name, value) in [("settings", settings), ("secrets", secrets)] {
            if !value.is_object() && !value.is_null() {
                errors.push(name, "invalid_type", format!("{name} must be an object"));
            }
        }
        Fields {
            settings: settings.as_object(),
            secrets: secrets.as_object(),
            used_settings: Vec::new(),
            used_secrets: Vec::new(),
            errors,
        }
    }

    /// An optional string setting (empty counts as absent).
    pub fn setting(&mut self, name: &'static str) -> Option<String> {
        self.used_settings.push(name);
        string(&mut self.errors, "settings", self.settings, name)
    }

    pub fn required_setting(&mut self, name: &'static str) -> Option<String> {
        let value = self.setting(name);
        if value.is_none()
            && self
                .errors
                .0
                .iter()
                .all(|e| e.field != format!("settings.{name}"))
        {
            self.errors.push(
                format!("settings.{name}"),
                "required",
                format!("settings.{name} is required"),
            );
        }
        value
    }

    /// An optional integer setting within `range`.
    pub fn integer_setting(
        &mut self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        self.used_settings.push(name);
        let value = self.settings.and_then(|s| s.get(name))?;
        match value.as_i64().filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None if value.is_null() => None,
            None => {
                self.errors.push(
                    format!("settings.{name}"),
                    "invalid_value",
                    format!(
                        "settings.{name} must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// An optional boolean setting.
    pub fn bool_setting(&mut self, name: &'static str) -> Option<bool> {
        self.used_settings.push(name);
        match self.settings.and_then(|s| s.get(name)) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(_) => {
                self.errors.push(
                    format!("settings.{name}"),
                    "invalid_type",
                    format!("settings.{name} must be true or false"),
                );
                None
            }
        }
    }

    pub fn required_secret(&mut self, name: &'static str) -> Option<String> {
        self.used_secrets.push(name);
        let value = string(&mut self.errors, "secrets", self.secrets, name);
        if value.is_none()
            && self
                .errors
                .0
                .iter()
                .all(|e| e.field != format!("secrets.{name}"))
        {
            self.errors.push(
                format!("secrets.{name}"),
                "required",
                format!("secrets.{name} is required"),
            );
        }
        value
    }

    pub fn optional_secret(&mut self, name: &'static str) -> Option<String> {
        self.used_secrets.push(name);
        string(&mut self.errors, "secrets", self.secrets, name)
    }

    /// An optional object of string values among the secrets (custom headers).
    pub fn secret_map(&mut self, name: &'static str) -> Vec<(String, String)> {
        self.used_secrets.push(name);
        let Some(value) = self.secrets.and_then(|s| s.get(name)) else {
            return Vec::new();
        };
        let Some(object) = value.as_object() else {
            self.errors.push(
                format!("secrets.{name}"),
                "invalid_type",
                format!("secrets.{name} must be an object of strings"),
            );
            return Vec::new();
        };
        let mut pairs = Vec::new();
        for (key, value) in object {
            match value.as_str() {
                Some(text) => pairs.push((key.clone(), text.to_string())),
                None => self.errors.push(
                    format!("secrets.{name}.{key}"),
                    "invalid_type",
                    format!("secrets.{name}.{key} must be a string"),
                ),
            }
        }
        pairs
    }

    /// A URL setting checked against the outbound fence.
    pub fn url(
        &mut self,
        name: &'static str,
        value: Option<String>,
        policy: &OutboundPolicy,
    ) -> Option<reqwest::Url> {
        let value = value?;
        match policy.check_url(&value) {
            Ok(url) => Some(url),
            Err(error) => {
                self.errors.push(
                    format!("settings.{name}"),
                    "invalid_value",
                    format!("settings.{name}: {error}"),
                );
                None
            }
        }
    }

    pub fn invalid(&mut self, field: String, message: String) {
        self.errors.push(field, "invalid_value", message);
    }

    fn finish(mut self) -> Result<(), FieldErrors> {
        for (group, object, used) in [
            ("settings", self.settings, &self.used_settings),
            ("secrets", self.secrets, &self.used_secrets),
        ] {
            for key in object.into_iter().flat_map(|o| o.keys()) {
                if !used.contains(&key.as_str()) {
                    self.errors.push(
                        format!("{group}.{key}"),
                        "unknown_field",
                        format!(
                            "{group}.{key} is not a field of this destination (known: {})",
                            used.join(", ")
                        ),
                    );
                }
            }
        }
        self.errors.into_result(())
    }
}

fn string(
    errors: &mut FieldErrors,
    group: &str,
    object: Option<&Map<String, Value>>,
    name: &str,
) -> Option<String> {
    match object.and_then(|o| o.get(name)) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) if text.len() > 2048 => {
            errors.push(
                format!("{group}.{name}"),
                "too_long",
                format!("{group}.{name} is longer than 2048 bytes"),
            );
            None
        }
        Some(Value::String(text)) => Some(text.trim().to_string()),
        Some(_) => {
            errors.push(
                format!("{group}.{name}"),
                "invalid_type",
                format!("{group}.{name} must be a string"),
            );
            None
        }
    }
}
