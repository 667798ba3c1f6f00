//! `Datadog`: the HTTP logs intake v2. Each batch is one `POST {intake}/api/v2/logs` with the
//! `DD-API-KEY` header and a JSON array of log entries: the event's fields as attributes, plus
//! `ddsource`, `service`, `ddtags` and a `message` summarising it. The intake is
//! `https://http-intake.logs.<site>` for the configured site (`settings.url` replaces it, for
//! a proxy). Its documented limits hold: at most 1000 entries and 5 MB per request, and 1 MB
//! per entry (a longer entry is truncated by Datadog, so an event that large is refused here as
//! a permanent failure rather than silently cut). Datadog answers 202 when it accepted a batch.

use super::{Batch, BatchLimits, Fields};
use crate::outbound::OutboundPolicy;

pub const LIMITS: BatchLimits = BatchLimits {
    max_events: 1000,
    max_bytes: 5 * 1024 * 1024,
};

/// Datadog truncates a log entry above 1 MB.
const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// Datadog's sites, as its documentation lists them.
pub const SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
];

#[derive(Debug, Clone)]
pub struct Datadog {
    intake: reqwest::Url,
    api_key: String,
    service: String,
    source: String,
    tags: Option<String>,
}

impl Datadog {
    pub(super) fn parse(fields: &mut Fields, policy: &OutboundPolicy) -> Option<Datadog> {
        let site = fields.setting("site");
        let url = fields.setting("url");
        let service = fields
            .setting("service")
            .unwrap_or_else(|| "auditlog".into());
        let source = fields
            .setting("source")
            .unwrap_or_else(|| "auditlog".into());
        let tags = fields.setting("tags");
        let api_key = fields.required_secret("api_key");
        let base = match (url, site) {
            (Some(url), _) => url,
            (None, site) => {
                let site = site.unwrap_or_else(|| SITES[0].into());
                if !SITES.contains(&site.as_str()) {
                    fields.invalid(
                        "settings.site".into(),
                        format!("settings.site must be one of {}", SITES.join(", ")),
                    );
                    return None;
                }
                format!("https://http-intake.logs.{site}")
            }
        };
        let base = fields.url("url", Some(base), policy)?;
        let intake = base
            .join("/api/v2/logs")
            .expect("a path joins onto an http(s) URL");
        Some(Datadog {
            intake,
            api_key: api_key?,
            service,
            source,
            tags,
        })
    }

    pub(super) fn request(
        &self,
        client: &reqwest::Client,
        batch: &Batch<'_>,
    ) -> reqwest::RequestBuilder {
        // Each entry: the event's fields as attributes, plus Datadog's reserved ones.
        let mut body = String::with_capacity(batch.records.len() * 900);
        body.push('[');
        for (index, record) in batch.records.iter().enumerate() {
            if index > 0 {
                body.push(',');
            }
            let message = format!("{} by {}", record.action, record.actor_id);
            let mut extra = format!(
                r#""message":{},"ddsource":{},"service":{}"#,
                json_string(&message),
                json_string(&self.source),
                json_string(&self.service)
            );
            if let Some(tags) = &self.tags {
                extra.push_str(&format!(r#","ddtags":{}"#, json_string(tags)));
            }
            let entry = record.json_with(&extra);
            if entry.len() <= MAX_ENTRY_BYTES {
                body.push_str(&entry);
            } else {
                body.push_str(&oversized_entry(record, &extra));
            }
        }
        body.push(']');
        client
            .post(self.intake.clone())
            .header("DD-API-KEY", &self.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
    }
}

/// An event too large for one Datadog entry (possible only with `--max-body-bytes` raised):
/// sent as what identifies it, marked `truncated`, rather than cut silently by Datadog; the
/// whole event stays available from the read API and exports.
fn oversized_entry(record: &super::StreamRecord, extra: &str) -> String {
    let mut entry = serde_json::json!({
        "id": record.id,
        "organization_id": record.organization_id,
        "sequence": record.sequence,
        "action": record.action,
        "occurred_at": record.occurred_at,
        "truncated": true,
    })
    .to_string();
    entry.pop();
    format!("{entry},{extra}}}")
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_over_datadogs_limit_is_sent_marked_truncated() {
        let mut record = super::super::StreamRecord::test("als_1", "org_1", 0);
        record.json = format!(
            r#"{{"id":"x","metadata":{{"big":"{}"}}}}"#,
            "a".repeat(MAX_ENTRY_BYTES)
        );
        let entry = oversized_entry(&record, r#""ddsource":"auditlog""#);
        let value: serde_json::Value = serde_json::from_str(&entry).unwrap();
        assert_eq!(value["truncated"], true);
        assert_eq!(value["ddsource"], "auditlog");
        assert_eq!(value["id"], record.id.as_str());
        assert!(entry.len() < 1024);
    }
}
