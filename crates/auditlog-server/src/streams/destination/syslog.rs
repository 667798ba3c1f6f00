//! `Syslog` (beyond WorkOS): RFC 5424 messages over TCP with octet-counting framing (RFC 6587,
//! as RFC 5425 uses over TLS), TLS by default, for the SIEMs that ingest syslog.
//!
//! One message per event: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD] MSG` where PRI is
//! the configured facility (default 13, "log audit") at severity 6 (informational),
//! TIMESTAMP the event's `occurred_at`, MSGID its action (cut to the 32 characters RFC 5424
//! allows), the structured data `[auditlog@32473 id="…" organization_id="…" sequence="…"]`
//! (32473 is the private enterprise number RFC 5612 reserves for documentation: syslog
//! requires a number; set `sd_id` to your own) and MSG the event as JSON.
//!
//! Syslog has no acknowledgement. A batch counts as delivered once every frame is written, the
//! sending side is closed and the receiver has closed its side in turn: a receiver closes only
//! after reading everything before the close, so nothing of the batch is still in a buffer
//! between the two. Each batch uses its own connection.

use super::{Batch, BatchLimits, DeliveryFailure, FailureKind, Fields, Outbound, Receipt};
use crate::outbound::{FenceError, OutboundPolicy};
use crate::streams::record::StreamRecord;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub const LIMITS: BatchLimits = BatchLimits {
    max_events: 1000,
    max_bytes: 4 * 1024 * 1024,
};

const SEVERITY_INFORMATIONAL: u8 = 6;
const DEFAULT_FACILITY: i64 = 13;
const DEFAULT_SD_ID: &str = "auditlog@32473";

#[derive(Clone)]
pub struct Syslog {
    host: String,
    port: u16,
    /// `None`: plain TCP (only where the operator allows it).
    tls: Option<Arc<rustls::ClientConfig>>,
    facility: u8,
    hostname: String,
    app_name: String,
    sd_id: String,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Syslog {
    pub(super) fn parse(fields: &mut Fields, policy: &OutboundPolicy) -> Option<Syslog> {
        let host = fields.required_setting("host");
        let tls = fields.bool_setting("tls").unwrap_or(true);
        let port = fields.integer_setting("port", 1..=65535);
        let facility = fields
            .integer_setting("facility", 0..=23)
            .unwrap_or(DEFAULT_FACILITY);
        let hostname = header_field(fields, "hostname", "auditlog", 255);
        let app_name = header_field(fields, "app_name", "auditlog", 48);
        let sd_id = fields
            .setting("sd_id")
            .unwrap_or_else(|| DEFAULT_SD_ID.into());
        if !is_sd_name(&sd_id) || !sd_id.contains('@') {
            fields.invalid(
                "settings.sd_id".into(),
                "settings.sd_id must be NAME@ENTERPRISE-NUMBER (RFC 5424 SD-ID, at most 32 \
                 printable characters without =, ], \" or space)"
                    .into(),
            );
        }
        let ca = fields.setting("ca_certificate");
        if !tls && !policy.allow_plaintext {
            fields.invalid(
                "settings.tls".into(),
                format!("settings.tls: {}", FenceError::PlaintextNotAllowed),
            );
        }
        if let Some(ip) = host.as_deref().and_then(|h| h.parse().ok()) {
            if let Err(error) = policy.check_ip(ip) {
                fields.invalid("settings.host".into(), format!("settings.host: {error}"));
            }
        }
        let tls_config = if tls {
            match client_config(ca.as_deref()) {
                Ok(config) => Some(Arc::new(config)),
                Err(message) => {
                    fields.invalid("settings.ca_certificate".into(), message);
                    return None;
                }
            }
        } else {
            None
        };
        Some(Syslog {
            host: host?,
            port: port.map_or(if tls { 6514 } else { 514 }, |p| p as u16),
            tls: tls_config,
            facility: facility as u8,
            hostname,
            app_name,
            sd_id,
        })
    }

    pub(super) async fn deliver(
        &self,
        outbound: &Outbound,
        batch: &Batch<'_>,
    ) -> Result<Receipt, DeliveryFailure> {
        let mut frames = Vec::with_capacity(batch.records.len() * 700);
        for record in batch.records {
            let message = self.message(record);
            frames.extend_from_slice(message.len().to_string().as_bytes());
            frames.push(b' ');
            frames.extend_from_slice(&message);
        }
        match tokio::time::timeout(outbound.timeout, self.send(&outbound.policy, &frames)).await {
            Ok(result) => result.map(|()| Receipt {
                status: 0,
                body: format!(
                    "{} messages written and the receiver closed",
                    batch.records.len()
                ),
            }),
            Err(_) => Err(transient(
                "the receiver did not take the batch in time".into(),
            )),
        }
    }

    async fn send(&self, policy: &OutboundPolicy, frames: &[u8]) -> Result<(), DeliveryFailure> {
        let addresses =
            policy
                .resolve(&self.host, self.port)
                .await
                .map_err(|error| match error {
                    FenceError::Invalid(message) => transient(message),
                    fenced => DeliveryFailure {
                        kind: FailureKind::Invalid,
                        status: None,
                        message: fenced.to_string(),
                        retry_after: None,
                    },
                })?;
        let tcp = TcpStream::connect(&addresses[..]).await.map_err(|e| {
            transient(format!(
                "cannot connect to {}:{}: {e}",
                self.host, self.port
            ))
        })?;
        match &self.tls {
            None => write_and_close(tcp, frames).await,
            Some(config) => {
                let name =
                    ServerName::try_from(self.host.clone()).map_err(|e| DeliveryFailure {
                        kind: FailureKind::Invalid,
                        status: None,
                        message: format!("{} is not a TLS server name: {e}", self.host),
                        retry_after: None,
                    })?;
                let stream = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| DeliveryFailure {
                        // A certificate the receiver presents will not change by retrying.
                        kind: if e.kind() == std::io::ErrorKind::InvalidData {
                            FailureKind::Permanent
                        } else {
                            FailureKind::Transient
                        },
                        status: None,
                        message: format!("TLS handshake with {}: {e}", self.host),
                        retry_after: None,
                    })?;
                write_and_close(stream, frames).await
            }
        }
    }

    /// One RFC 5424 message.
    fn message(&self, record: &StreamRecord) -> Vec<u8> {
        let priority = self.facility * 8 + SEVERITY_INFORMATIONAL;
        let timestamp = if record.occurred_at.is_empty() {
            "-"
        } else {
            record.occurred_at.as_str()
        };
        let msgid: String = printable(&record.action, 32);
        let msgid = if msgid.is_empty() { "-".into() } else { msgid };
        let mut data = format!("[{}", self.sd_id);
        data.push_str(&format!(" id=\"{}\"", escape_param(&record.id)));
        data.push_str(&format!(
            " organization_id=\"{}\"",
            escape_param(&record.organization_id)
        ));
        if let Some(sequence) = record.sequence {
            data.push_str(&format!(" sequence=\"{sequence}\""));
        }
        data.push(']');
        let mut message = format!(
            "<{priority}>1 {timestamp} {} {} - {msgid} {data} ",
            self.hostname, self.app_name
        )
        .into_bytes();
        message.extend_from_slice(record.json.as_bytes());
        message
    }
}

async fn write_and_close<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    frames: &[u8],
) -> Result<(), DeliveryFailure> {
    let io = |e: std::io::Error| transient(format!("writing to the receiver: {e}"));
    stream.write_all(frames).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    stream.shutdown().await.map_err(io)?;
    // Wait for the receiver's close: it has read everything before ours by then.
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink).await {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            // A TLS receiver may drop the connection without close_notify after reading all.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(io(e)),
        }
    }
}

fn transient(message: String) -> DeliveryFailure {
    DeliveryFailure {
        kind: FailureKind::Transient,
        status: None,
        message,
        retry_after: None,
    }
}

/// TLS with the public web roots, or only the given CA (PEM) for a private one.
fn client_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(pem) => {
            let certificates: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("settings.ca_certificate is not PEM certificates: {e}"))?;
            if certificates.is_empty() {
                return Err("settings.ca_certificate holds no certificate".into());
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|e| format!("settings.ca_certificate: {e}"))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the default protocol versions are supported")
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A header field: printable ASCII without spaces, at most `max` characters.
fn header_field(fields: &mut Fields, name: &'static str, default: &str, max: usize) -> String {
    let value = fields.setting(name).unwrap_or_else(|| default.into());
    let cleaned = printable(&value, max);
    if cleaned != value {
        fields.invalid(
            format!("settings.{name}"),
            format!(
                "settings.{name} must be at most {max} printable ASCII characters without spaces"
            ),
        );
    }
    cleaned
}

fn printable(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect()
}

fn is_sd_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
}

/// RFC 5424 PARAM-VALUE: `"`, `\` and `]` are escaped with a backslash.
fn escape_param(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_rfc_5424_with_the_event_in_structured_data_and_body() {
        let syslog = Syslog {
            host: "siem.example".into(),
            port: 6514,
            tls: None,
            facility: 13,
            hostname: "acme-prod".into(),
            app_name: "auditlog".into(),
            sd_id: DEFAULT_SD_ID.into(),
        };
        let record = StreamRecord {
            id: "audit_log_event_1".into(),
            organization_id: "org_\"1]".into(),
            sequence: Some(4),
            action: "user.signed_in".into(),
            actor_id: "user_1".into(),
            occurred_at: "2026-01-01T00:00:00.000Z".into(),
            occurred_at_micros: 0,
            received_at_micros: 0,
            json: r#"{"id":"audit_log_event_1"}"#.into(),
        };
        let message = String::from_utf8(syslog.message(&record)).unwrap();
        assert_eq!(
            message,
            format!(
                "<110>1 2026-01-01T00:00:00.000Z acme-prod auditlog - user.signed_in \
                 [auditlog@32473 id=\"audit_log_event_1\" organization_id=\"org_\\\"1\\]\" \
                 sequence=\"4\"] {}",
                record.json
            )
        );
    }
}
