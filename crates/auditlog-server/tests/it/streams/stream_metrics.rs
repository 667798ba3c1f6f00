//! The log-stream metric families after a known delivery: one failure, then every event.

use super::failover::{create_org, post_events, STREAM_FLAGS};
use super::receiver::{Receiver, Reply};
use crate::metrics::{samples, value};
use crate::process::{start, KEY};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn stream_metrics_count_deliveries_failures_and_backlog() {
    let data_dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.script([Reply::Refuse(500, None, "down")]);
    let node = start(data_dir.path(), STREAM_FLAGS);
    let http = reqwest::Client::new();
    let org = &create_org(&node.api).await;
    post_events(&node.api, org, 0, 6).await;
    let response = http
        .post(format!("{}/organizations/{org}/log_streams", node.api))
        .bearer_auth(KEY)
        .json(&json!({"type": "GenericHttps", "start": "beginning",
            "settings": {"url": receiver.url}, "secrets": {"signing_secret": super::SECRET}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let generic = [("destination", "GenericHttps")];
    let active = [("destination", "GenericHttps"), ("state", "active")];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = http
            .get(&node.metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let found = samples(&text);
        let delivered = value(&found, "auditlog_stream_events_delivered_total", &generic);
        let streams = value(&found, "auditlog_streams", &active);
        let lag = value(&found, "auditlog_stream_lag_events", &active);
        if delivered == Some(6.0) && streams == Some(1.0) && lag == Some(0.0) {
            let outcome = |outcome: &str| {
                value(
                    &found,
                    "auditlog_stream_deliveries_total",
                    &[("destination", "GenericHttps"), ("outcome", outcome)],
                )
            };
            assert_eq!(outcome("retry"), Some(1.0), "{text}");
            assert!(outcome("delivered").unwrap() >= 1.0);
            let attempts = value(
                &found,
                "auditlog_stream_delivery_duration_seconds_count",
                &generic,
            );
            assert_eq!(
                attempts,
                Some(outcome("delivered").unwrap() + 1.0),
                "{text}"
            );
            assert_eq!(
                value(
                    &found,
                    "auditlog_streams",
                    &[("destination", "Splunk"), ("state", "error")]
                ),
                Some(0.0)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never showed the delivery:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn stream_secrets_never_reach_the_logs() {
    let data_dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Refuse(401, None, "unauthorized"));
    let node = start(data_dir.path(), STREAM_FLAGS);
    let http = reqwest::Client::new();
    let org = &create_org(&node.api).await;
    let secrets = [
        (
            "GenericHttps",
            json!({"url": receiver.url}),
            json!({"signing_secret": super::SECRET, "headers": {"Authorization": "Bearer hunter2-header"}}),
        ),
        (
            "Datadog",
            json!({"url": receiver.url}),
            json!({"api_key": "hunter2-datadog"}),
        ),
        (
            "Splunk",
            json!({"url": receiver.url}),
            json!({"token": "hunter2-splunk"}),
        ),
    ];
    for (kind, settings, secrets) in &secrets {
        let response = http
            .post(format!("{}/organizations/{org}/log_streams", node.api))
            .bearer_auth(KEY)
            .json(&json!({"type": kind, "settings": settings, "secrets": secrets}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.unwrap();
        // And a change of secrets, which the logs must not show either.
        let response = http
            .patch(format!(
                "{}/organizations/{org}/log_streams/{}",
                node.api,
                created["id"].as_str().unwrap()
            ))
            .bearer_auth(KEY)
            .json(&json!({"secrets": secrets}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    post_events(&node.api, org, 0, 1).await;
    // Every stream fails (401) and logs it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while node
        .log_text()
        .matches("log stream delivery failed")
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "{}", node.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = node.log_text();
    assert!(log.contains("log stream created"), "{log}");
    for secret in ["hunter2", &super::SECRET["whsec_".len()..]] {
        assert!(!log.contains(secret), "a secret is in the log:\n{log}");
    }
}
