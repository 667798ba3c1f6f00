//! Exports: `POST /audit_logs/exports`, `GET /audit_logs/exports/{id}` and the
//! self-authenticating download link. What a user would check: the object and its states,
//! the CSV (layout, quoting, unicode, formula protection), filters and range edges, errors,
//! link tampering and expiry, file expiry, restarts, failing jobs, a many-page export, and the
//! official Rust SDK.

use crate::common;

use auditlog_domain::canonical::{canonical_bytes, canonical_value, leaf_hash};
use auditlog_domain::ids::{new_id, EVENT_PREFIX};
use auditlog_domain::timestamp::to_micros;
use auditlog_domain::EventInput;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{AppendOutcome, PendingEvent, Store};
use common::{assert_json_with_request_id, field_errors, sdk_event, TestServer};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

const ENV: &str = "default";
/// A range that holds every event these tests send.
const WIDE_START: &str = "2026-01-01T00:00:00.000Z";
const WIDE_END: &str = "2027-01-01T00:00:00.000Z";
const BASE_COLUMNS: [&str; 10] = [
    "occurred_at",
    "action",
    "version",
    "actor_id",
    "actor_type",
    "actor_name",
    "actor_metadata",
    "context_location",
    "context_user_agent",
    "metadata",
];
/// Polls of a pending export, and the pause between two.
const POLLS: usize = 200;
const POLL_PAUSE: Duration = Duration::from_millis(50);

// ------------------------------------------------------------------ helpers

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: exactly three fractional digits and `Z`.
fn assert_millis_timestamp(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes[i].is_ascii_digit();
    let ok = bytes.len() == 24
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
            .into_iter()
            .all(digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[19] == b'.'
        && bytes[23] == b'Z';
    assert!(ok, "{text:?} is not a millisecond UTC timestamp");
    assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
}

fn micros_of(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_micros()
}

/// An event body; `targets` are `(id, type)` pairs.
fn event(org: &str, action: &str, occurred_at: &str, actor: (&str, Option<&str>)) -> Value {
    let mut actor_value = json!({"id": actor.0, "type": "user"});
    if let Some(name) = actor.1 {
        actor_value["name"] = json!(name);
    }
    json!({
        "organization_id": org,
        "event": {
            "action": action,
            "occurred_at": occurred_at,
            "actor": actor_value,
            "targets": [],
            "context": {"location": "10.0.0.1"},
        }
    })
}

fn with_targets(mut body: Value, targets: &[(&str, &str)]) -> Value {
    body["event"]["targets"] = targets
        .iter()
        .map(|(id, kind)| json!({"id": id, "type": kind}))
        .collect();
    body
}

fn with_metadata(mut body: Value, metadata: Value) -> Value {
    body["event"]["metadata"] = metadata;
    body
}

async fn post_event_with_key(server: &TestServer, key: &str, body: &Value) {
    let response = server
        .http
        .post(server.url("/audit_logs/events"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "event not accepted: {text}\n{body}");
}

async fn post_event(server: &TestServer, body: &Value) {
    post_event_with_key(server, &server.key, body).await;
}

fn export_body(org: &str, start: &str, end: &str) -> Value {
    json!({"organization_id": org, "range_start": start, "range_end": end})
}

async fn create_export_with_key(server: &TestServer, key: &str, body: &Value) -> (u16, Value) {
    let response = server
        .http
        .post(server.url("/audit_logs/exports"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_json_with_request_id(&response);
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn create_export(server: &TestServer, body: &Value) -> (u16, Value) {
    create_export_with_key(server, &server.key, body).await
}

/// Creates an export that must be accepted and returns its id.
async fn start_export(server: &TestServer, body: &Value) -> String {
    let (status, created) = create_export(server, body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

async fn get_export_with_key(server: &TestServer, key: &str, id: &str) -> (u16, Value) {
    let response = server
        .http
        .get(server.url(&format!("/audit_logs/exports/{id}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_json_with_request_id(&response);
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get_export(server: &TestServer, id: &str) -> Value {
    let (status, body) = get_export_with_key(server, &server.key, id).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls until the export leaves `pending`; returns the last GET body.
async fn settle(server: &TestServer, id: &str) -> Value {
    for _ in 0..POLLS {
        let body = get_export(server, id).await;
        if body["state"] != "pending" {
            return body;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("export {id} still pending after {POLLS} polls");
}

async fn settle_ready(server: &TestServer, id: &str) -> Value {
    let body = settle(server, id).await;
    assert_eq!(body["state"], "ready", "{body}");
    body
}

/// The download URL of a ready export (from a fresh GET).
async fn ready_url(server: &TestServer, id: &str) -> String {
    let body = settle_ready(server, id).await;
    body["url"]
        .as_str()
        .expect("ready export has a url")
        .to_string()
}

struct Download {
    status: u16,
    content_type: String,
    disposition: Option<String>,
    cache_control: Option<String>,
    content_length: Option<u64>,
    body: Vec<u8>,
}

/// GET without any API key, as a browser or `fetch(url)` would.
async fn download(url: &str) -> Download {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let disposition = header(CONTENT_DISPOSITION);
    let cache_control = header(CACHE_CONTROL);
    let content_length = header(CONTENT_LENGTH).and_then(|v| v.parse().ok());
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap().to_vec();
    Download {
        status,
        content_type,
        disposition,
        cache_control,
        content_length,
        body,
    }
}

/// Every record, the header included; all records must have the same length.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    reader
        .records()
        .map(|record| {
            record
                .expect("well-formed CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Downloads a ready export and returns its header and rows.
async fn export_csv(server: &TestServer, id: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let url = ready_url(server, id).await;
    let file = download(&url).await;
    assert_eq!(file.status, 200, "{}", String::from_utf8_lossy(&file.body));
    let mut records = parse_csv(&file.body).into_iter();
    let header = records.next().expect("a header row");
    (header, records.collect())
}

fn expected_header(targets: usize) -> Vec<String> {
    let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|c| c.to_string()).collect();
    for n in 1..=targets {
        for part in ["id", "type", "name", "metadata"] {
            columns.push(format!("target_{part}_{n}"));
        }
    }
    columns.push("id".into());
    columns
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The documented protection rule, as an independent oracle: a cell starting with `=`, `+`,
/// `-`, `@`, tab, carriage return or `'` gets one `'` prepended.
fn protected(original: &str) -> String {
    match original.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{original}"),
        _ => original.to_string(),
    }
}

/// Reverses the protection: strips exactly one leading `'`.
fn unprotect(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// The events of an organization as stored, in the export's order: `(occurred_at, id)`.
async fn stored_in_export_order(server: &TestServer, org: &str) -> Vec<(i64, String)> {
    let mut events: Vec<(i64, String)> = server
        .stored_events(ENV, org)
        .await
        .into_iter()
        .map(|e| (e.occurred_at, e.id))
        .collect();
    events.sort();
    events
}

fn blob_path(data_dir: &Path, export_id: &str) -> PathBuf {
    data_dir
        .join("blobs")
        .join("exports")
        .join(format!("{export_id}.csv"))
}

/// Every file under `<data_dir>/blobs/exports/` (finished files and upload leftovers).
fn leftover_files(data_dir: &Path) -> Vec<String> {
    match std::fs::read_dir(data_dir.join("blobs").join("exports")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs one statement with the sqlite3 CLI (the tests have no SQL client of their own).
fn sqlite(database: &Path, sql: &str) -> String {
    let output = std::process::Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 10000")
        .arg(database)
        .arg(sql)
        .output()
        .expect("the sqlite3 command-line shell is needed by this test");
    assert!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The export's job row as `state|attempts|lease_owner`.
fn job_row(database: &Path, export_id: &str) -> String {
    sqlite(
        database,
        &format!(
            "SELECT state || '|' || attempts || '|' || IFNULL(lease_owner, '') FROM jobs \
             WHERE json_extract(payload, '$.export_id') = '{export_id}'"
        ),
    )
}

/// The job row once the runner has finished with it: an export turns ready or error before its
/// job is marked done or failed (two writes), so a row read right after the export settled can
/// still say `running`.
fn settled_job_row(database: &Path, export_id: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let row = job_row(database, export_id);
        if !row.starts_with("running|") || std::time::Instant::now() > deadline {
            return row;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// An event exactly as `POST /audit_logs/events` would store it (see `pending_event` in
/// routes/events_create.rs), for writing many events through the store directly.
fn pending_event(environment: &str, body: &Value) -> PendingEvent {
    let input = EventInput::parse(body).unwrap_or_else(|e| panic!("invalid test event: {e:?}"));
    let id = new_id(EVENT_PREFIX);
    let payload = canonical_bytes(&canonical_value(&id, &input));
    PendingEvent {
        leaf_hash: leaf_hash(&payload),
        payload: String::from_utf8(payload).unwrap(),
        id,
        environment: environment.to_string(),
        organization_id: input.organization_id.clone(),
        occurred_at: to_micros(input.occurred_at),
        received_at: chrono::Utc::now().timestamp_micros(),
        action: input.action.clone(),
        actor_id: input.actor.id.clone(),
        actor_name: input.actor.name.clone(),
        target_types: input.target_types(),
        target_count: input.targets.len() as i64,
        idempotency: None,
    }
}

async fn append(store: &dyn Store, events: &[PendingEvent]) {
    for chunk in events.chunks(2000) {
        let outcomes = store.append_events(chunk.to_vec()).await.expect("append");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, AppendOutcome::Stored { .. })),
            "not every event was stored"
        );
    }
}

/// `count` events of `org`, `per_ms` of them sharing each millisecond, in shuffled time order.
fn bulk_events(org: &str, count: usize, per_ms: usize) -> Vec<PendingEvent> {
    let base = micros_of("2026-04-01T00:00:00.000Z");
    let slots = count.div_ceil(per_ms);
    (0..count)
        .map(|i| {
            // A permutation of the slots, so insertion order is not time order.
            let slot = (i * 7919) % slots;
            let at = chrono::DateTime::from_timestamp_micros(base + slot as i64 * 1000)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let targets: Vec<(String, String)> = (0..i % 4)
                .map(|t| (format!("t{i}_{t}"), format!("type{t}")))
                .collect();
            let mut body = event(
                org,
                "bulk.written",
                &at,
                (&format!("user_{i}"), Some("Bulk")),
            );
            body["event"]["targets"] = targets
                .iter()
                .map(|(id, kind)| json!({"id": id, "type": kind}))
                .collect();
            body["event"]["metadata"] = json!({"i": i});
            pending_event(ENV, &body)
        })
        .collect()
}

/// Starts a server on an existing data dir (a restart); `TestServer::data_dir` of the result
/// is a fresh, unused directory, so use `data_dir` itself for paths.
async fn start_on(
    data_dir: &TempDir,
    configure: impl FnOnce(&mut auditlog_server::config::Config),
) -> TestServer {
    let path = data_dir.path().to_path_buf();
    TestServer::start_with(move |config| {
        config.storage.data_dir = path;
        configure(config);
    })
    .await
}

/// The same link served by another server (after a restart the port changes).
fn rebase(url: &str, base_url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    format!(
        "{base_url}{}?{}",
        parsed.path(),
        parsed.query().unwrap_or_default()
    )
}

/// A 404 JSON answer that carries no file content.
fn assert_link_refused(file: &Download, what: &str) {
    let text = String::from_utf8_lossy(&file.body);
    assert_eq!(file.status, 404, "{what}: {text}");
    assert!(
        file.content_type.starts_with("application/json"),
        "{what}: content type {}",
        file.content_type
    );
    let body: Value = serde_json::from_slice(&file.body).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(body["message"].is_string(), "{what}: {body}");
    assert!(
        !text.contains("occurred_at") && !text.contains("audit_log_event_"),
        "{what}: file content leaked: {text}"
    );
}

mod create;
mod csv_fidelity;
mod errors;
mod filters;
mod links;
mod rust_sdk;
mod size;
mod states;
