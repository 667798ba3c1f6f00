//! Log streams against local receivers that check each destination's documented wire format,
//! and answer with scripted faults.

mod api;
mod delivery;
mod destinations;
mod failover;
pub mod receiver;
mod s3;
mod stream_metrics;
mod syslog;

use crate::common::TestServer;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A Standard Webhooks secret (`whsec_` + base64 of 32 bytes).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=";

/// A server whose streams may reach the local receivers, with fast retries.
pub async fn server() -> TestServer {
    TestServer::start_with(|config| {
        config.streams.stream_allow_plaintext = true;
        config.streams.stream_allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
        config.streams.stream_interval_ms = 50;
        config.streams.stream_max_backoff_secs = 1;
        config.streams.stream_timeout_secs = 2;
    })
    .await
}

pub async fn post_events(server: &TestServer, org: &str, count: usize) {
    for n in 0..count {
        let response = server
            .post("/audit_logs/events")
            .json(&json!({"organization_id": org, "event": {
                "action": "document.updated", "occurred_at": "2026-03-01T10:00:00.000Z",
                "actor": {"id": format!("user_{n}"), "type": "user"},
                "targets": [{"id": "doc_1", "type": "document"}],
                "context": {"location": "203.0.113.7"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

pub async fn create_stream(server: &TestServer, org: &str, body: Value) -> Value {
    let response = server
        .post(&format!("/organizations/{org}/log_streams"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// `GET path` with the server's key; asserts a 200 and returns the JSON body.
pub async fn get_json(server: &TestServer, path: &str) -> Value {
    let response = server.get(path).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

pub async fn get_stream(server: &TestServer, org: &str, id: &str) -> Value {
    get_json(server, &format!("/organizations/{org}/log_streams/{id}")).await
}

/// `PATCH`es the stream with `body` and returns the updated stream (asserting a 200).
pub async fn update_stream(server: &TestServer, org: &str, id: &str, body: Value) -> Value {
    let response = server
        .http
        .patch(server.url(&format!("/organizations/{org}/log_streams/{id}")))
        .bearer_auth(&server.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Polls the stream until `done` holds for it, or panics after `within`.
pub async fn wait_for_stream(
    server: &TestServer,
    org: &str,
    id: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let stream = get_stream(server, org, id).await;
        if done(&stream) {
            return stream;
        }
        assert!(
            Instant::now() < deadline,
            "stream never got there: {stream:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The sequences of the events a JSON-array delivery carried, in order.
pub fn sequences_of_array(body: &[u8]) -> Vec<i64> {
    let events: Vec<Value> = serde_json::from_slice(body).unwrap();
    events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect()
}

/// Asserts what at-least-once in order means for what the receiver accepted: every batch is
/// in ascending order; each batch starts at or before the sequence after the highest one
/// accepted so far (a re-delivery, never a gap); and together they are exactly `0..count`.
pub fn assert_complete_in_order(batches: &[Vec<i64>], count: i64) {
    let mut next = 0;
    for batch in batches {
        assert!(
            batch.windows(2).all(|w| w[1] == w[0] + 1),
            "batch not contiguous: {batch:?}"
        );
        if let Some(first) = batch.first() {
            assert!(
                *first <= next,
                "gap: expected {next}, batch starts at {first}: {batches:?}"
            );
            next = next.max(batch.last().unwrap() + 1);
        }
    }
    assert_eq!(
        next, count,
        "delivered up to {next} of {count}: {batches:?}"
    );
}
