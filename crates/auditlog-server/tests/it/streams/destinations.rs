//! Datadog and Splunk against local receivers that check their documented intake formats.

use super::receiver::{Receiver, Reply};
use super::{create_stream, post_events, server, wait_for_stream};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn datadog_gets_logs_intake_v2_batches() {
    let server = server().await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Accept(202));
    let org = server.create_org("Acme").await;
    let stream = create_stream(
        &server,
        &org,
        json!({"type": "Datadog",
               "settings": {"url": receiver.url, "service": "acme-app", "tags": "env:prod,team:sec"},
               "secrets": {"api_key": "dd_api_key_1"}, "start": "beginning"}),
    )
    .await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 12).await;
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 11
    })
    .await;
    let mut sequences = Vec::new();
    for received in receiver.accepted() {
        // POST /api/v2/logs with DD-API-KEY and a JSON array of at most 1000 entries, 5 MB.
        assert_eq!(received.path, "/api/v2/logs");
        assert_eq!(received.headers["dd-api-key"], "dd_api_key_1");
        assert_eq!(received.headers["content-type"], "application/json");
        assert!(received.body.len() <= 5 * 1024 * 1024);
        let entries: Vec<Value> = serde_json::from_slice(&received.body).unwrap();
        assert!(!entries.is_empty() && entries.len() <= 1000);
        for entry in entries {
            assert!(serde_json::to_vec(&entry).unwrap().len() <= 1024 * 1024);
            assert_eq!(entry["ddsource"], "auditlog");
            assert_eq!(entry["service"], "acme-app");
            assert_eq!(entry["ddtags"], "env:prod,team:sec");
            assert!(entry["message"]
                .as_str()
                .unwrap()
                .starts_with("document.updated by user_"));
            assert_eq!(entry["organization_id"], org.as_str());
            sequences.push(entry["sequence"].as_i64().unwrap());
        }
    }
    assert_eq!(sequences, (0..12).collect::<Vec<_>>());
}

#[tokio::test]
async fn splunk_gets_http_event_collector_events() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    let stream = create_stream(
        &server,
        &org,
        json!({"type": "Splunk",
               "settings": {"url": receiver.url, "index": "audit", "sourcetype": "acme:audit"},
               "secrets": {"token": "hec-token-1"}, "start": "beginning"}),
    )
    .await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 7).await;
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 6
    })
    .await;
    let mut sequences = Vec::new();
    for received in receiver.accepted() {
        assert_eq!(received.path, "/services/collector/event");
        assert_eq!(received.headers["authorization"], "Splunk hec-token-1");
        // Concatenated event objects, each with its time and the event.
        let objects = serde_json::Deserializer::from_slice(&received.body).into_iter::<Value>();
        for object in objects {
            let object = object.unwrap();
            assert_eq!(object["index"], "audit");
            assert_eq!(object["sourcetype"], "acme:audit");
            assert_eq!(object["source"], "auditlog");
            // 2026-03-01T10:00:00Z
            assert_eq!(object["time"].as_f64().unwrap(), 1_772_359_200.0);
            sequences.push(object["event"]["sequence"].as_i64().unwrap());
        }
    }
    assert_eq!(sequences, (0..7).collect::<Vec<_>>());
}
