//! `Splunk`: the HTTP Event Collector. Each batch is one `POST {url}/services/collector/event`
//! with `Authorization: Splunk <token>` and the events as concatenated JSON objects, each
//! `{"time": <occurred_at, epoch seconds>, "source", "sourcetype", "index"?, "host"?, "event":
//! {…}}`. HEC answers 200 `{"text":"Success","code":0}` when it accepted the batch.

use super::{Batch, BatchLimits, Fields};
use crate::outbound::OutboundPolicy;
use serde_json::json;

/// HEC's default `max_content_length` is far larger; 1 MB keeps every batch well inside it.
pub const LIMITS: BatchLimits = BatchLimits {
    max_events: 1000,
    max_bytes: 1024 * 1024,
};

#[derive(Debug, Clone)]
pub struct Splunk {
    endpoint: reqwest::Url,
    token: String,
    index: Option<String>,
    source: String,
    sourcetype: String,
    host: Option<String>,
}

impl Splunk {
    pub(super) fn parse(fields: &mut Fields, policy: &OutboundPolicy) -> Option<Splunk> {
        let url = fields.required_setting("url");
        let url = fields.url("url", url, policy);
        let index = fields.setting("index");
        let source = fields
            .setting("source")
            .unwrap_or_else(|| "auditlog".into());
        let sourcetype = fields
            .setting("sourcetype")
            .unwrap_or_else(|| "auditlog:event".into());
        let host = fields.setting("host");
        let token = fields.required_secret("token");
        let endpoint = url?
            .join("/services/collector/event")
            .expect("a path joins onto an http(s) URL");
        Some(Splunk {
            endpoint,
            token: token?,
            index,
            source,
            sourcetype,
            host,
        })
    }

    pub(super) fn request(
        &self,
        client: &reqwest::Client,
        batch: &Batch<'_>,
    ) -> reqwest::RequestBuilder {
        // The envelope's fields are the same for every event of the stream: written once.
        let mut envelope = json!({"source": self.source, "sourcetype": self.sourcetype});
        if let Some(index) = &self.index {
            envelope["index"] = index.clone().into();
        }
        if let Some(host) = &self.host {
            envelope["host"] = host.clone().into();
        }
        let envelope = envelope.to_string();
        let shared = &envelope[1..envelope.len() - 1];
        let mut body = String::with_capacity(batch.records.len() * 800);
        for record in batch.records {
            let time = record.occurred_at_micros as f64 / 1e6;
            body.push_str(&format!(
                r#"{{"time":{time},{shared},"event":{}}}"#,
                record.json
            ));
            body.push('\n');
        }
        client
            .post(self.endpoint.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Splunk {}", self.token),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
    }
}
