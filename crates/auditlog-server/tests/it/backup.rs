//! `auditlog backup` of a live SQLite deployment under ingest, and `auditlog restore`: every
//! event acknowledged before the backup began comes back, the sequence has no gap, the log
//! proves the restored events consistent with a checkpoint taken before, and a ready export's
//! file downloads from the restored node.

use crate::process::{start, KEY};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut request = http.request(method, url).bearer_auth(KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Runs this build's `auditlog COMMAND FLAG VALUE --data-dir DATA_DIR`.
fn auditlog(
    command: &str,
    flag: &str,
    value: impl AsRef<std::ffi::OsStr>,
    data_dir: &std::path::Path,
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args([command, flag])
        .arg(value)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run auditlog")
}

fn event(org: &str, n: u64) -> Value {
    json!({"organization_id": org, "event": {
        "action": "user.signed_in", "occurred_at": "2026-01-15T12:00:00.000Z",
        "actor": {"id": format!("user_{n}"), "type": "user"}, "targets": [],
        "context": {"location": "203.0.113.7"}}})
}

#[tokio::test]
async fn a_backup_under_ingest_restores_every_acknowledged_event_and_the_log() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let http = reqwest::Client::new();
    let api = node.api.clone();
    let url = |path: &str| format!("{api}{path}");
    let org = call(
        &http,
        reqwest::Method::POST,
        url("/organizations"),
        Some(json!({"name": "Backup"})),
    )
    .await;
    let org = org["id"].as_str().unwrap().to_string();
    for n in 0..20 {
        call(
            &http,
            reqwest::Method::POST,
            url("/audit_logs/events"),
            Some(event(&org, n)),
        )
        .await;
    }
    let before = call(
        &http,
        reqwest::Method::POST,
        url(&format!("/audit_logs/log/{org}/checkpoint")),
        None,
    )
    .await;
    let before_size = before["tree_size"].as_i64().unwrap();
    assert_eq!(before_size, 20);
    let export = call(
        &http,
        reqwest::Method::POST,
        url("/audit_logs/exports"),
        Some(json!({
        "organization_id": org, "range_start": "2026-01-01T00:00:00Z",
        "range_end": "2027-01-01T00:00:00Z"})),
    )
    .await;
    let export_path = format!("/audit_logs/exports/{}", export["id"].as_str().unwrap());
    let mut state = Value::Null;
    for _ in 0..200 {
        state = call(&http, reqwest::Method::GET, url(&export_path), None).await;
        if state["state"] == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state["state"], "ready");

    // Ingest keeps going while the backup runs.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (http, url, org) = (http.clone(), url("/audit_logs/events"), org.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 20;
            while !stop.load(Ordering::SeqCst) {
                let response = http
                    .post(&url)
                    .bearer_auth(KEY)
                    .json(&event(&org, n))
                    .send()
                    .await;
                if response.is_ok_and(|r| r.status() == 200) {
                    acknowledged.lock().unwrap().push(n);
                }
                n += 1;
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 30 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let acknowledged_before: BTreeSet<u64> = (0..20)
        .chain(acknowledged.lock().unwrap().iter().copied())
        .collect();
    let archive = data_dir
        .path()
        .parent()
        .unwrap()
        .join(format!("auditlog-backup-{}.tar", std::process::id()));
    let backup = auditlog("backup", "--to", &archive, data_dir.path());
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let said = String::from_utf8_lossy(&backup.stdout);
    // The export's CSV and its bundle, the checkpoints remembered outside the database, and
    // both keys: the restored deployment signs with the same key.
    assert!(said.contains(" 2 export files, "), "{said}");
    assert!(!said.contains(" 0 checkpoints"), "{said}");
    assert!(
        said.contains("link key included, log signing key included"),
        "{said}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let acknowledged_total = 20 + acknowledged.lock().unwrap().len();
    assert!(
        acknowledged_total > acknowledged_before.len(),
        "ingest ran during the backup"
    );
    node.stop();

    // A second backup to the same file is refused; a restore into a used directory too.
    let again = auditlog("backup", "--to", &archive, data_dir.path());
    assert!(!again.status.success());
    let over = auditlog("restore", "--from", &archive, data_dir.path());
    assert!(
        !over.status.success(),
        "restored over a live data directory"
    );

    let restored_dir = tempfile::tempdir().unwrap();
    let restore = auditlog("restore", "--from", &archive, restored_dir.path());
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    std::fs::remove_file(&archive).unwrap();

    let node = start(restored_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();
    let url = |path: &str| format!("{api}{path}");
    let mut actors = BTreeSet::new();
    let mut sequences = Vec::new();
    let mut after = -1;
    loop {
        let page = call(
            &http,
            reqwest::Method::GET,
            url(&format!(
                "/audit_logs/events?organization_id={org}&after_sequence={after}&limit=100"
            )),
            None,
        )
        .await;
        let events = page["data"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for event in events {
            sequences.push(event["sequence"].as_i64().unwrap());
            let actor = event["actor"]["id"].as_str().unwrap();
            actors.insert(actor.trim_start_matches("user_").parse::<u64>().unwrap());
        }
        after = page["list_metadata"]["last_sequence"].as_i64().unwrap();
    }
    let missing: Vec<_> = acknowledged_before.difference(&actors).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not restored: {missing:?}"
    );
    assert_eq!(
        sequences,
        (0..sequences.len() as i64).collect::<Vec<_>>(),
        "a gap in the sequence"
    );
    assert!(sequences.len() <= acknowledged_total);

    // The restored log extends the checkpoint signed before the backup.
    let now = call(
        &http,
        reqwest::Method::POST,
        url(&format!("/audit_logs/log/{org}/checkpoint")),
        None,
    )
    .await;
    assert_eq!(now["tree_size"].as_i64().unwrap(), sequences.len() as i64);
    let proof = call(
        &http,
        reqwest::Method::GET,
        url(&format!(
            "/audit_logs/log/{org}/consistency_proof?first={before_size}"
        )),
        None,
    )
    .await;
    assert_eq!(proof["first_checkpoint"], before["checkpoint"]);
    let first = call(
        &http,
        reqwest::Method::GET,
        url(&format!(
            "/audit_logs/events?organization_id={org}&after_sequence=-1&limit=1"
        )),
        None,
    )
    .await;
    let event_id = first["data"][0]["id"].as_str().unwrap();
    let inclusion = call(
        &http,
        reqwest::Method::GET,
        url(&format!("/audit_logs/events/{event_id}/inclusion_proof")),
        None,
    )
    .await;
    assert_eq!(inclusion["event_matches_leaf"], true);

    // The export taken before the backup still downloads.
    let export = call(&http, reqwest::Method::GET, url(&export_path), None).await;
    let link = export["url"].as_str().unwrap().replace(
        export["url"]
            .as_str()
            .unwrap()
            .split("/downloads/")
            .next()
            .unwrap(),
        &api,
    );
    let file = http.get(link).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let csv = file.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        21,
        "header and the 20 events of the export"
    );
}

#[tokio::test]
async fn a_backup_goes_to_s3_and_comes_back() {
    let Some(bucket) = crate::common::s3_blob_url() else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", node.api);
    let org = call(
        &http,
        reqwest::Method::POST,
        url("/organizations"),
        Some(json!({"name": "S3"})),
    )
    .await;
    let org = org["id"].as_str().unwrap().to_string();
    for n in 0..5 {
        call(
            &http,
            reqwest::Method::POST,
            url("/audit_logs/events"),
            Some(event(&org, n)),
        )
        .await;
    }
    let target = format!("{bucket}/backups/auditlog.tar");
    let backup = |target: &str| auditlog("backup", "--to", target, data_dir.path());
    let first = backup(&target);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        !backup(&target).status.success(),
        "an existing archive was overwritten"
    );
    node.stop();

    let restored_dir = tempfile::tempdir().unwrap();
    let restore = auditlog("restore", "--from", &target, restored_dir.path());
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let node = start(restored_dir.path(), &["--meta-audit", "false"]);
    let page = call(
        &http,
        reqwest::Method::GET,
        format!(
            "{}/audit_logs/events?organization_id={org}&after_sequence=-1&limit=100",
            node.api
        ),
        None,
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 5);
}
