//! `GenericHttps`: each batch is one `POST` of a JSON array of events to the receiver's URL,
//! signed per the Standard Webhooks specification: `webhook-id` (the same for a re-delivery of
//! the same range), `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the decoded
//! `whsec_…` secret), plus the operator's custom headers. Any 2xx acknowledges the batch.

use super::{Batch, BatchLimits, Fields};
use crate::outbound::OutboundPolicy;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const LIMITS: BatchLimits = BatchLimits {
    max_events: 1000,
    max_bytes: 5 * 1024 * 1024,
};

const SECRET_PREFIX: &str = "whsec_";
/// Headers the delivery sets itself, which custom headers may not replace.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

#[derive(Debug, Clone)]
pub struct GenericHttps {
    url: reqwest::Url,
    key: Vec<u8>,
    headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
}

impl GenericHttps {
    pub(super) fn parse(fields: &mut Fields, policy: &OutboundPolicy) -> Option<GenericHttps> {
        let url = fields.required_setting("url");
        let url = fields.url("url", url, policy);
        let secret = fields.required_secret("signing_secret");
        let key = secret.and_then(|secret| match signing_key(&secret) {
            Some(key) => Some(key),
            None => {
                fields.invalid(
                    "secrets.signing_secret".into(),
                    "secrets.signing_secret must be whsec_ followed by the base64 of 24 to 64 \
                     random bytes (Standard Webhooks)"
                        .into(),
                );
                None
            }
        });
        let mut headers = Vec::new();
        for (name, value) in fields.secret_map("headers") {
            let field = format!("secrets.headers.{name}");
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                fields.invalid(field, format!("{name} is set by the delivery itself"));
                continue;
            }
            match (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(&value),
            ) {
                (Ok(name), Ok(value)) => headers.push((name, value)),
                _ => fields.invalid(field, format!("{name} is not a valid HTTP header")),
            }
        }
        Some(GenericHttps {
            url: url?,
            key: key?,
            headers,
        })
    }

    pub(super) fn request(
        &self,
        client: &reqwest::Client,
        batch: &Batch<'_>,
    ) -> reqwest::RequestBuilder {
        let mut body = Vec::with_capacity(batch.records.len() * 512);
        body.push(b'[');
        for (index, record) in batch.records.iter().enumerate() {
            if index > 0 {
                body.push(b',');
            }
            body.extend_from_slice(record.json.as_bytes());
        }
        body.push(b']');
        let id = batch.delivery_id();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&self.key, &id, timestamp, &body);
        let mut request = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.body(body)
    }
}

fn signing_key(secret: &str) -> Option<Vec<u8>> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

/// `v1,<base64 signature>` of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference implementations.
    #[test]
    fn signatures_match_the_standard_webhooks_reference() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_must_be_whsec_base64_of_enough_bytes() {
        assert!(signing_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
        assert!(signing_key("whsec_c2hvcnQ=").is_none());
        assert!(signing_key("whsec_not base64!").is_none());
    }
}
