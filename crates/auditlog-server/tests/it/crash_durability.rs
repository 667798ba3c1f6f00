//! Process test: events acknowledged with 2xx survive `kill -9` of the server, without
//! duplicates and without gaps in the organization's sequence numbers.

use auditlog_store::sqlite::SqliteStore;
use auditlog_store::EventStore;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "sk_test_crash_durability_7Qm2Xv9LpR4tZ8wK";

/// Starts `auditlog serve` on a free port and returns the process and its base URL.
fn start_server(data_dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("AUDITLOG_API_KEYS", KEY)
        .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
        .env("AUDITLOG_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditlog");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // The API's line; the metrics listener announces its own address first.
            if !line.contains("auditlog listening") {
                continue;
            }
            if let Some(rest) = line.split("address=").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = sender.send(address);
            }
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");
    (child, format!("http://{address}"))
}

async fn send_event(
    http: &reqwest::Client,
    base: &str,
    organization_id: &str,
    marker: u64,
) -> bool {
    let body = json!({
        "organization_id": organization_id,
        "event": {
            "action": "document.updated",
            "occurred_at": "2026-03-01T10:00:00.000Z",
            "actor": {"id": "user_1", "type": "user"},
            "targets": [{"id": "doc_1", "type": "document"}],
            "context": {"location": "10.0.0.1"},
            "metadata": {"marker": marker}
        }
    });
    matches!(
        http.post(format!("{base}/audit_logs/events")).bearer_auth(KEY).json(&body).send().await,
        Ok(response) if response.status() == 200
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_events_survive_sigkill() {
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_server(data_dir.path());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let created: Value = http
        .post(format!("{base}/organizations"))
        .bearer_auth(KEY)
        .json(&json!({"name": "Crash Co"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let organization_id = created["id"].as_str().unwrap().to_string();

    // 16 writers send distinct markers until the server dies under them.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..16u64 {
        let (http, base, org, acknowledged) = (
            http.clone(),
            base.clone(),
            organization_id.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let marker = writer * 1_000_000 + n;
                if send_event(&http, &base, &org, marker).await {
                    acknowledged.lock().unwrap().push(marker);
                } else {
                    break;
                }
            }
        }));
    }
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL"); // std's kill() sends SIGKILL on Unix.
    child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged: Vec<u64> = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 300,
        "only {} events were acknowledged",
        acknowledged.len()
    );

    // Restart on the same data dir: the server must come up and accept more events.
    let (mut child, base) = start_server(data_dir.path());
    assert!(send_event(&http, &base, &organization_id, 999_999_999).await);
    child.kill().unwrap();
    child.wait().unwrap();

    let store = SqliteStore::open(&data_dir.path().join("auditlog.db"))
        .await
        .unwrap();
    let events = store
        .list_events_by_sequence("default", &organization_id)
        .await
        .unwrap();
    let markers: Vec<u64> = events
        .iter()
        .map(|event| {
            let payload: Value = serde_json::from_str(event.payload.as_deref().unwrap()).unwrap();
            payload["metadata"]["marker"].as_u64().unwrap()
        })
        .collect();
    let stored: HashSet<u64> = markers.iter().copied().collect();
    assert_eq!(stored.len(), markers.len(), "an event was stored twice");
    let lost: Vec<&u64> = acknowledged
        .iter()
        .filter(|m| !stored.contains(m))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events were lost: {lost:?}",
        lost.len()
    );
    let sequences: Vec<i64> = events.iter().map(|event| event.sequence).collect();
    assert_eq!(
        sequences,
        (0..events.len() as i64).collect::<Vec<_>>(),
        "sequence numbers have gaps"
    );
    assert_eq!(
        *markers.last().unwrap(),
        999_999_999,
        "the event sent after restart comes last"
    );
    store.close().await;
}
