//! `GET /metrics` on the metrics listener: after a known workload, each metric family says what
//! happened. The server runs as its own process, so the process-wide recorder holds exactly
//! this workload.

use crate::process::{start, KEY};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every sample of the exposition text, keyed by name and its sorted labels.
pub fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut found = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("label=value");
                (key.to_string(), value.trim_matches('"').to_string())
            })
            .collect();
        found.insert((name.to_string(), labels), value.parse().expect("a number"));
    }
    found
}

pub fn value(
    samples: &BTreeMap<(String, BTreeMap<String, String>), f64>,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples.get(&(name.to_string(), labels)).copied()
}

#[tokio::test]
async fn each_metric_family_counts_a_known_workload() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(
        data_dir.path(),
        &[
            "--meta-audit",
            "false",
            "--retention-sweep-interval-secs",
            "1",
        ],
    );
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", node.api);

    let org: Value = http
        .post(api("/organizations"))
        .bearer_auth(KEY)
        .json(&json!({"name": "Metrics"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = org["id"].as_str().unwrap().to_string();
    let event = |n: u32| {
        json!({"organization_id": org, "event": {
            "action": "user.signed_in", "occurred_at": format!("2026-01-15T12:00:0{n}.000Z"),
            "actor": {"id": "user_1", "type": "user"}, "targets": [],
            "context": {"location": "203.0.113.7"}}})
    };
    for n in 0..3 {
        let response = http
            .post(api("/audit_logs/events"))
            .bearer_auth(KEY)
            .json(&event(n))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // The same keyed event twice: stored once, replayed once.
    for _ in 0..2 {
        let response = http
            .post(api("/audit_logs/events"))
            .bearer_auth(KEY)
            .header("Idempotency-Key", "metrics-replay")
            .json(&event(9))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let unknown = http
        .get(api("/organizations/org_unknown"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let anonymous = http.get(api("/organizations")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let nowhere = http
        .get(api("/no/such/path"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), 404);
    let export: Value = http
        .post(api("/audit_logs/exports"))
        .bearer_auth(KEY)
        .json(
            &json!({"organization_id": org, "range_start": "2026-01-01T00:00:00Z",
                      "range_end": "2027-01-01T00:00:00Z"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let export_path = format!("/audit_logs/exports/{}", export["id"].as_str().unwrap());
    let mut ready = false;
    for _ in 0..200 {
        let state: Value = http
            .get(api(&export_path))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if state["state"] == "ready" {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the export became ready");

    // The retention sweeper runs every second here; wait for one sweep to be counted.
    let mut text = String::new();
    for _ in 0..100 {
        let response = http.get(&node.metrics).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        text = response.text().await.unwrap();
        let signed = samples(&text)
            .get(&(
                "auditlog_log_checkpoints_signed_total".to_string(),
                BTreeMap::new(),
            ))
            .copied();
        if text.contains("auditlog_retention_sweeps_total") && signed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = samples(&text);
    let requests = "auditlog_http_requests_total";
    let post_events = [
        ("method", "POST"),
        ("route", "/audit_logs/events"),
        ("status", "200"),
    ];
    assert_eq!(value(&found, requests, &post_events), Some(5.0), "{text}");
    let by_route = |method, route, status| {
        value(
            &found,
            requests,
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(by_route("POST", "/organizations", "201"), Some(1.0));
    assert_eq!(by_route("GET", "/organizations", "401"), Some(1.0));
    assert_eq!(
        by_route("GET", "/organizations/{organization_id}", "404"),
        Some(1.0)
    );
    assert_eq!(by_route("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(by_route("POST", "/audit_logs/exports", "201"), Some(1.0));
    // No label holds an id.
    assert!(!text.contains(&org), "an organization id became a label");
    assert_eq!(
        value(
            &found,
            "auditlog_http_request_duration_seconds_count",
            &post_events
        ),
        Some(5.0)
    );
    assert!(text.contains("auditlog_http_request_duration_seconds_bucket{"));

    // Ingest: four events stored, one replayed; every event went through a group commit.
    assert_eq!(
        value(&found, "auditlog_events_stored_total", &[]),
        Some(4.0)
    );
    assert_eq!(
        value(&found, "auditlog_idempotent_replays_total", &[]),
        Some(1.0)
    );
    let batched = value(&found, "auditlog_ingest_batch_events_sum", &[]).unwrap();
    assert!((4.0..=5.0).contains(&batched), "{batched}");
    let commits = value(&found, "auditlog_ingest_commit_duration_seconds_count", &[]).unwrap();
    assert!(commits >= 1.0);
    assert_eq!(value(&found, "auditlog_ingest_queue_depth", &[]), Some(0.0));

    // Exports and retention.
    let ready_label = [("outcome", "ready")];
    assert_eq!(
        value(&found, "auditlog_export_jobs_total", &ready_label),
        Some(1.0)
    );
    assert_eq!(
        value(
            &found,
            "auditlog_export_duration_seconds_count",
            &ready_label
        ),
        Some(1.0)
    );
    assert!(value(&found, "auditlog_retention_sweeps_total", &[]).unwrap() >= 1.0);
    assert_eq!(
        value(&found, "auditlog_retention_events_redacted_total", &[]),
        Some(0.0)
    );
    // The log builder signed the organization's checkpoint, and looked at what waited for one.
    // (More than one when a round fell between the events.)
    assert!(value(&found, "auditlog_log_checkpoints_signed_total", &[]).unwrap() >= 1.0);
    let unsigned = value(&found, "auditlog_log_unsigned_events", &[]).unwrap();
    assert!((0.0..=4.0).contains(&unsigned), "{unsigned}");
    // The SQLite store's reader pool, read at the scrape: the workload opened connections.
    let pool = |state| {
        value(
            &found,
            "auditlog_store_connections",
            &[("pool", "readers"), ("state", state)],
        )
        .unwrap_or_else(|| panic!("no {state} reader connections in\n{text}"))
    };
    assert!(pool("idle") + pool("in_use") >= 1.0);
    // The API listener does not serve metrics.
    let api_metrics = http.get(api("/metrics")).send().await.unwrap();
    assert_eq!(api_metrics.status(), 401);
}
