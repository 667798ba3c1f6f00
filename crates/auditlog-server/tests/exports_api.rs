//! Exports (spec §5): `POST /audit_logs/exports`, `GET /audit_logs/exports/{id}` and the
//! self-authenticating download link. What a user would check: the object and its states,
//! the CSV (layout, quoting, unicode, formula protection), filters and range edges, errors,
//! link tampering and expiry, file expiry, restarts, failing jobs, a many-page export, and the
//! official Rust SDK.

mod common;

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
        let outcomes = store.append_events(chunk).await.expect("append");
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
        config.data_dir = path;
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

// ------------------------------------------------------------------ create, poll, download

#[tokio::test]
async fn create_poll_and_download_the_csv() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    // Two events share an occurred_at (ordered by id), one has two targets, one none.
    let bodies = [
        with_metadata(
            with_targets(
                event(
                    &org,
                    "user.signed_in",
                    "2026-03-01T10:00:02.000Z",
                    ("user_1", Some("Jon Smith")),
                ),
                &[("team_1", "team"), ("doc_1", "document")],
            ),
            json!({"owner": "user_2", "n": 3, "ok": true}),
        ),
        event(
            &org,
            "user.signed_out",
            "2026-03-01T10:00:01.000Z",
            ("user_2", None),
        ),
        with_targets(
            event(
                &org,
                "doc.viewed",
                "2026-03-01T10:00:01.000Z",
                ("user_3", Some("Ann")),
            ),
            &[("doc_2", "document")],
        ),
    ];
    for body in &bodies {
        post_event(&server, body).await;
    }

    let response = server
        .post("/audit_logs/exports")
        .json(&export_body(&org, WIDE_START, WIDE_END))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_json_with_request_id(&response);
    let created: Value = response.json().await.unwrap();
    let object = created.as_object().expect("an object");
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["object", "id", "state", "url", "created_at", "updated_at"]),
        "{created}"
    );
    assert_eq!(created["object"], "audit_log_export");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        auditlog_domain::ids::has_prefix_and_ulid(&id, "audit_log_export"),
        "{id}"
    );
    assert_eq!(created["state"], "pending");
    assert!(
        created["url"].is_null(),
        "url must be present and null: {created}"
    );
    assert_millis_timestamp(&created["created_at"]);
    assert_millis_timestamp(&created["updated_at"]);
    assert_eq!(created["created_at"], created["updated_at"]);

    let ready = settle_ready(&server, &id).await;
    assert_eq!(ready["id"], id.as_str());
    assert_eq!(ready["object"], "audit_log_export");
    assert_eq!(ready["created_at"], created["created_at"]);
    assert_millis_timestamp(&ready["updated_at"]);
    assert!(
        micros_of(ready["updated_at"].as_str().unwrap())
            >= micros_of(ready["created_at"].as_str().unwrap())
    );
    let first_url = ready["url"].as_str().expect("url").to_string();
    assert!(
        first_url.starts_with(&format!("{}/", server.base_url)),
        "{first_url}"
    );

    // Links carry a second-granular expiry: a GET one second later issues another link.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second_url = get_export(&server, &id).await["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_ne!(first_url, second_url, "every GET issues a fresh link");

    let stored = stored_in_export_order(&server, &org).await;
    assert_eq!(stored.len(), 3);
    let mut bodies_seen = Vec::new();
    for url in [&first_url, &second_url] {
        let file = download(url).await;
        assert_eq!(file.status, 200, "{}", String::from_utf8_lossy(&file.body));
        assert_eq!(file.content_type, "text/csv; charset=utf-8");
        assert_eq!(
            file.disposition.as_deref(),
            Some(format!("attachment; filename=\"{id}.csv\"").as_str())
        );
        assert_eq!(file.cache_control.as_deref(), Some("private, no-store"));
        assert_eq!(file.content_length, Some(file.body.len() as u64));
        assert!(file.body.ends_with(b"\r\n"), "rows end with CRLF");
        bodies_seen.push(file.body);
    }
    assert_eq!(
        bodies_seen[0], bodies_seen[1],
        "both links serve the same file"
    );

    let records = parse_csv(&bodies_seen[0]);
    assert_eq!(records[0], expected_header(2));
    let rows = &records[1..];
    assert_eq!(rows.len(), 3);
    let ids: Vec<&str> = rows.iter().map(|r| r.last().unwrap().as_str()).collect();
    let expected_ids: Vec<&str> = stored.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, expected_ids, "ordered by (occurred_at, id)");
    // The tie at 10:00:01 is broken by id; both come before 10:00:02.
    assert_eq!(rows[0][0], "2026-03-01T10:00:01.000Z");
    assert_eq!(rows[1][0], "2026-03-01T10:00:01.000Z");
    assert_eq!(rows[2][0], "2026-03-01T10:00:02.000Z");

    let full = &rows[2];
    let expected_full = [
        "2026-03-01T10:00:02.000Z",
        "user.signed_in",
        "1",
        "user_1",
        "user",
        "Jon Smith",
        "",
        "10.0.0.1",
        "",
    ];
    assert_eq!(full[..9], expected_full);
    let metadata: Value = serde_json::from_str(&full[9]).unwrap();
    assert_eq!(metadata, json!({"owner": "user_2", "n": 3, "ok": true}));
    assert_eq!(
        full[10..18],
        ["team_1", "team", "", "", "doc_1", "document", "", ""]
    );
    assert_eq!(full[18], stored[2].1);
    // Events with fewer targets leave the extra target columns empty.
    let names: BTreeSet<&str> = rows[..2].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, BTreeSet::from(["user.signed_out", "doc.viewed"]));
    for row in &rows[..2] {
        assert!(row[14..18].iter().all(String::is_empty), "{row:?}");
        assert_eq!(row[9], "", "absent metadata is an empty cell");
    }
    let signed_out = rows.iter().find(|r| r[1] == "user.signed_out").unwrap();
    assert_eq!(signed_out[5], "", "absent actor name is an empty cell");
    assert!(signed_out[10..14].iter().all(String::is_empty));
}

#[tokio::test]
async fn idempotency_key_on_create_replays_the_same_export() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = export_body(&org, WIDE_START, WIDE_END);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = server
            .post("/audit_logs/exports")
            .header("Idempotency-Key", "export-once")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids[0], ids[1]);
    // An empty organization gives a ready export with a header-only file.
    let (header, rows) = export_csv(&server, &ids[0]).await;
    assert_eq!(header, expected_header(0));
    assert!(rows.is_empty());
}

// ------------------------------------------------------------------ CSV fidelity

/// Values that break naive CSV writers or spreadsheets.
const AWKWARD: [&str; 20] = [
    "plain",
    "comma, separated, values",
    "say \"hello\" to \"them\"",
    "two\nlines",
    "crlf\r\nline",
    "emoji 🎉🔥 and é and 中文 and 日本語",
    "=SUM(A1:A9)",
    "+1-2",
    "-cmd",
    "@import",
    "'already quoted",
    "\ttab first",
    "\rcarriage first",
    "=HYPERLINK(\"http://x\",\"a,b\")\n",
    "é",
    "中文字符",
    "  leading spaces",
    "trailing space ",
    "\"quote first",
    "🎉",
];

fn awkward(i: usize) -> &'static str {
    AWKWARD[i % AWKWARD.len()]
}

/// Event `i` puts an awkward value in every string field; over `AWKWARD.len()` events every
/// value appears in every field.
fn awkward_event(org: &str, i: usize) -> Value {
    let at = format!("2026-03-01T10:00:{i:02}.000Z");
    json!({
        "organization_id": org,
        "event": {
            "action": awkward(i),
            "occurred_at": at,
            "actor": {"id": awkward(i + 1), "type": awkward(i + 2), "name": awkward(i + 3),
                      "metadata": {"v": awkward(i + 11), "n": -7}},
            "targets": [
                {"id": awkward(i + 4), "type": awkward(i + 5), "name": awkward(i + 6),
                 "metadata": {"v": awkward(i + 12), "f": false}},
                {"id": awkward(i + 13), "type": awkward(i + 14)}
            ],
            "context": {"location": awkward(i + 7), "user_agent": awkward(i + 8)},
            "metadata": {"v": awkward(i + 9), "w": awkward(i + 10), "x": 1.5, "b": true}
        }
    })
}

async fn awkward_values_round_trip(protection: bool) {
    let server = TestServer::start_with(|c| c.csv_formula_protection = protection).await;
    let org = server.create_org("Quoting Co").await;
    let bodies: Vec<Value> = (0..AWKWARD.len()).map(|i| awkward_event(&org, i)).collect();
    for body in &bodies {
        post_event(&server, body).await;
    }
    let stored = server.stored_events(ENV, &org).await; // sequence order = send order
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(2));
    assert_eq!(rows.len(), bodies.len());

    let text_cell = |cell: &str, original: &str, what: &str| {
        if protection {
            assert_eq!(cell, protected(original), "{what}: protected cell");
            assert_eq!(unprotect(cell), original, "{what}: after unprotect");
        } else {
            assert_eq!(cell, original, "{what}: verbatim");
        }
    };
    let json_cell = |cell: &str, original: &Value, what: &str| {
        assert!(
            cell.starts_with('{'),
            "{what}: JSON cells are never prefixed"
        );
        let parsed: Value =
            serde_json::from_str(cell).unwrap_or_else(|e| panic!("{what}: {cell:?}: {e}"));
        assert_eq!(&parsed, original, "{what}");
    };
    // Each event occurred one second after the previous one, so row i is event i.
    for (i, (row, body)) in rows.iter().zip(&bodies).enumerate() {
        let e = &body["event"];
        let s = |v: &Value| v.as_str().unwrap().to_string();
        assert_eq!(row[0], s(&e["occurred_at"]), "row {i} occurred_at");
        assert_eq!(row[2], "1");
        let texts = [
            (1, &e["action"], "action"),
            (3, &e["actor"]["id"], "actor_id"),
            (4, &e["actor"]["type"], "actor_type"),
            (5, &e["actor"]["name"], "actor_name"),
            (7, &e["context"]["location"], "context_location"),
            (8, &e["context"]["user_agent"], "context_user_agent"),
            (10, &e["targets"][0]["id"], "target_id_1"),
            (11, &e["targets"][0]["type"], "target_type_1"),
            (12, &e["targets"][0]["name"], "target_name_1"),
            (14, &e["targets"][1]["id"], "target_id_2"),
            (15, &e["targets"][1]["type"], "target_type_2"),
        ];
        for (index, original, name) in texts {
            text_cell(&row[index], &s(original), &format!("row {i} {name}"));
        }
        json_cell(
            &row[6],
            &e["actor"]["metadata"],
            &format!("row {i} actor_metadata"),
        );
        json_cell(&row[9], &e["metadata"], &format!("row {i} metadata"));
        json_cell(
            &row[13],
            &e["targets"][0]["metadata"],
            &format!("row {i} target_metadata_1"),
        );
        assert_eq!(row[16], "", "target_name_2 is absent");
        assert_eq!(row[17], "", "target_metadata_2 is absent");
        assert_eq!(row[18], stored[i].id, "row {i} id");
    }
}

#[tokio::test]
async fn awkward_values_round_trip_with_formula_protection() {
    awkward_values_round_trip(true).await;
}

#[tokio::test]
async fn awkward_values_are_verbatim_without_formula_protection() {
    awkward_values_round_trip(false).await;
}

// ------------------------------------------------------------------ filters and range

/// (tag, action, actor id, actor name, target types)
type FilterEvent<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a [&'a str]);

#[tokio::test]
async fn filters_are_and_across_fields_and_or_within_one() {
    let server = TestServer::start().await;
    let org = server.create_org("Filters").await;
    let events: [FilterEvent; 5] = [
        ("e1", "a.one", "u1", Some("Alice"), &["team"]),
        ("e2", "a.two", "u2", Some("Bob"), &["document"]),
        (
            "e3",
            "a.one",
            "u2",
            Some("Bob"),
            &["team", "document", "team"],
        ),
        ("e4", "a.three", "u3", None, &["user"]),
        ("e5", "a.two", "u1", Some("Alice"), &[]),
    ];
    for (i, (tag, action, actor_id, actor_name, types)) in events.iter().enumerate() {
        let at = format!("2026-03-01T10:00:0{i}.000Z");
        let targets: Vec<(String, &str)> = types
            .iter()
            .enumerate()
            .map(|(n, kind)| (format!("{tag}_t{n}"), *kind))
            .collect();
        let targets: Vec<(&str, &str)> = targets.iter().map(|(id, k)| (id.as_str(), *k)).collect();
        let body = with_metadata(
            with_targets(event(&org, action, &at, (actor_id, *actor_name)), &targets),
            json!({"tag": tag}),
        );
        post_event(&server, &body).await;
    }
    // (filters, expected tags, expected target column groups)
    let mut cases: Vec<(Value, Vec<&str>, usize)> = vec![
        (json!({}), vec!["e1", "e2", "e3", "e4", "e5"], 3),
        (
            json!({"actions": [], "actor_names": [], "actor_ids": [], "targets": [], "actors": []}),
            vec!["e1", "e2", "e3", "e4", "e5"],
            3,
        ),
        (json!({"actions": ["a.one"]}), vec!["e1", "e3"], 3),
        (
            json!({"actions": ["a.one", "a.three"]}),
            vec!["e1", "e3", "e4"],
            3,
        ),
        (json!({"actor_names": ["Bob"]}), vec!["e2", "e3"], 3),
        (json!({"actors": ["Alice"]}), vec!["e1", "e5"], 1),
        (
            json!({"actors": ["Alice"], "actor_names": ["Bob"]}),
            vec!["e1", "e2", "e3", "e5"],
            3,
        ),
        (json!({"actor_ids": ["u3"]}), vec!["e4"], 1),
        (
            json!({"actor_ids": ["u1", "u3"]}),
            vec!["e1", "e4", "e5"],
            1,
        ),
        (json!({"targets": ["document"]}), vec!["e2", "e3"], 3),
        (
            json!({"targets": ["team", "user"]}),
            vec!["e1", "e3", "e4"],
            3,
        ),
        (
            json!({"actions": ["a.one"], "actor_names": ["Bob"]}),
            vec!["e3"],
            3,
        ),
        (
            json!({"actions": ["a.two"], "targets": ["document"], "actor_ids": ["u2"]}),
            vec!["e2"],
            1,
        ),
        (
            json!({"actions": ["a.two"], "actor_ids": ["u3"]}),
            vec![],
            0,
        ),
        (json!({"actions": ["nothing.matches"]}), vec![], 0),
        (json!({"actor_names": ["alice"]}), vec![], 0),
        (
            json!({"actions": null, "actor_names": null, "targets": null}),
            vec!["e1", "e2", "e3", "e4", "e5"],
            3,
        ),
    ];
    // The most values a list may hold, in every list at once.
    let full = |keep: &str| -> Vec<String> {
        let mut values: Vec<String> = (1..100).map(|i| format!("filler {i}")).collect();
        values.push(keep.to_string());
        values
    };
    cases.push((
        json!({"actions": full("a.one"), "actor_names": full("Bob"), "actor_ids": full("u2"),
               "targets": full("document")}),
        vec!["e3"],
        3,
    ));
    let mut exports = Vec::new();
    for (filters, _, _) in &cases {
        let mut body = export_body(&org, WIDE_START, WIDE_END);
        for (key, value) in filters.as_object().unwrap() {
            body[key] = value.clone();
        }
        exports.push(start_export(&server, &body).await);
    }
    for ((filters, tags, targets), id) in cases.iter().zip(&exports) {
        let (header, rows) = export_csv(&server, id).await;
        assert_eq!(header, expected_header(*targets), "{filters}");
        let metadata = column(&header, "metadata");
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                let value: Value = serde_json::from_str(&r[metadata]).unwrap();
                value["tag"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(got, *tags, "filters {filters}");
    }
}

#[tokio::test]
async fn range_is_start_inclusive_end_exclusive_and_scoped_to_the_organization() {
    let server = TestServer::start().await;
    let org = server.create_org("Range").await;
    let other = server.create_org("Other").await;
    let other_key = server.key_for_environment("other").await;
    let foreign = {
        let response = server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Other env"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    };
    let times = [
        ("before_start", "2026-03-01T09:59:59.999999Z"),
        ("at_start", "2026-03-01T10:00:00.000Z"),
        ("inside", "2026-03-01T10:30:00.000001Z"),
        ("just_before_end", "2026-03-01T10:59:59.999999Z"),
        ("at_end", "2026-03-01T11:00:00.000Z"),
        ("after_end", "2026-03-01T11:00:00.001Z"),
    ];
    for (tag, at) in times {
        let body = with_metadata(
            event(&org, "range.test", at, ("u", None)),
            json!({"tag": tag}),
        );
        post_event(&server, &body).await;
        // The same instants in another organization and in another environment.
        let mut elsewhere = body.clone();
        elsewhere["organization_id"] = json!(other);
        post_event(&server, &elsewhere).await;
        elsewhere["organization_id"] = json!(foreign);
        post_event_with_key(&server, &other_key, &elsewhere).await;
    }
    let tags = |rows: &[Vec<String>]| -> Vec<String> {
        rows.iter()
            .map(|r| {
                let value: Value = serde_json::from_str(&r[9]).unwrap();
                value["tag"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // The same range written with an offset.
    let ranges = [
        ("2026-03-01T10:00:00.000Z", "2026-03-01T11:00:00.000Z"),
        ("2026-03-01T11:00:00+01:00", "2026-03-01T07:00:00-04:00"),
    ];
    for (start, end) in ranges {
        let id = start_export(&server, &export_body(&org, start, end)).await;
        let (_, rows) = export_csv(&server, &id).await;
        assert_eq!(
            tags(&rows),
            ["at_start", "inside", "just_before_end"],
            "[{start}, {end})"
        );
        assert_eq!(rows[0][0], "2026-03-01T10:00:00.000Z");
        assert_eq!(rows[1][0], "2026-03-01T10:30:00.000001Z");
        assert_eq!(rows[2][0], "2026-03-01T10:59:59.999999Z");
        let own: BTreeSet<String> = server
            .stored_events(ENV, &org)
            .await
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert!(rows.iter().all(|r| own.contains(r.last().unwrap())));
    }
    // One microsecond before the start is excluded; starting there includes it.
    let id = start_export(
        &server,
        &export_body(
            &org,
            "2026-03-01T09:59:59.999999Z",
            "2026-03-01T10:00:00.000001Z",
        ),
    )
    .await;
    assert_eq!(
        tags(&export_csv(&server, &id).await.1),
        ["before_start", "at_start"]
    );
    // An empty range (start = end) is ready with a header-only file.
    let id = start_export(
        &server,
        &export_body(&org, "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z"),
    )
    .await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(0));
    assert!(rows.is_empty());
}

// ------------------------------------------------------------------ errors

#[tokio::test]
async fn invalid_ranges_are_400_invalid_audit_log_export_range_date() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let cases = [
        ("2026-03-02T00:00:00.000Z", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01T00:00:00.000001Z", "2026-03-01T00:00:00.000Z"),
        ("yesterday", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z"),
        ("", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01", "2026-03-02"),
    ];
    for (start, end) in cases {
        let (status, body) = create_export(&server, &export_body(&org, start, end)).await;
        assert_eq!(status, 400, "[{start}, {end}): {body}");
        assert_eq!(
            body["code"], "invalid_audit_log_export_range_date",
            "{body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(body.get("error").is_none(), "no NestJS `error` key: {body}");
    }
}

#[tokio::test]
async fn missing_or_ill_typed_fields_are_422() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let start = "2026-03-01T00:00:00.000Z";
    let end = "2026-03-02T00:00:00.000Z";
    let base = export_body(&org, start, end);
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let too_many: Vec<String> = (0..101).map(|i| format!("a{i}")).collect();
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({}),
            vec![
                ("organization_id", "required"),
                ("range_start", "required"),
                ("range_end", "required"),
            ],
        ),
        (
            json!({"organization_id": org, "range_start": start}),
            vec![("range_end", "required")],
        ),
        (
            with("organization_id", json!(42)),
            vec![("organization_id", "invalid_type")],
        ),
        (
            with("organization_id", json!("")),
            vec![("organization_id", "required")],
        ),
        (
            with("range_start", json!(1_700_000_000)),
            vec![("range_start", "invalid_type")],
        ),
        (
            with("actions", json!("a.one")),
            vec![("actions", "invalid_type")],
        ),
        (
            with("actors", json!("Jon")),
            vec![("actors", "invalid_type")],
        ),
        (
            with("actor_names", json!({"name": "Jon"})),
            vec![("actor_names", "invalid_type")],
        ),
        (
            with("actor_ids", json!([1])),
            vec![("actor_ids.0", "invalid_type")],
        ),
        (
            with("targets", json!(true)),
            vec![("targets", "invalid_type")],
        ),
        (
            with("actions", json!(too_many)),
            vec![("actions", "too_many_items")],
        ),
        (
            json!(["not", "an", "object"]),
            vec![("body", "invalid_type")],
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = create_export(&server, &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["message"], "Validation failed.");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(field_errors(&answer), expected, "{body}");
    }
    // Not JSON at all.
    let response = server
        .post("/audit_logs/exports")
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_json_with_request_id(&response);
}

#[tokio::test]
async fn unknown_organizations_exports_and_foreign_environments_are_404() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = export_body(
        "org_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "2026-03-01T00:00:00.000Z",
        "2026-03-02T00:00:00.000Z",
    );
    let (status, answer) = create_export(&server, &body).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        "Organization not found: 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ'."
    );

    let unknown = "audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ";
    let (status, answer) = get_export_with_key(&server, &server.key, unknown).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        format!("Audit Log Export not found: '{unknown}'.")
    );

    // Another environment sees neither the organization nor its exports.
    let other_key = server.key_for_environment("other").await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let (status, answer) = get_export_with_key(&server, &other_key, &id).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        format!("Audit Log Export not found: '{id}'.")
    );
    let (status, answer) = create_export_with_key(
        &server,
        &other_key,
        &export_body(&org, WIDE_START, WIDE_END),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    // And the other way round.
    let response = server
        .http
        .post(server.url("/organizations"))
        .bearer_auth(&other_key)
        .json(&json!({"name": "B"}))
        .send()
        .await
        .unwrap();
    let foreign_org: Value = response.json().await.unwrap();
    let foreign_org = foreign_org["id"].as_str().unwrap();
    let (status, created) = create_export_with_key(
        &server,
        &other_key,
        &export_body(foreign_org, WIDE_START, WIDE_END),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let foreign_export = created["id"].as_str().unwrap();
    let (status, _) = get_export_with_key(&server, &server.key, foreign_export).await;
    assert_eq!(status, 404);
    let (status, answer) = get_export_with_key(&server, &other_key, foreign_export).await;
    assert_eq!(status, 200, "{answer}");

    // A deleted organization cannot be exported any more.
    let doomed = server.create_org("Doomed").await;
    let response = server
        .delete(&format!("/organizations/{doomed}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, answer) =
        create_export(&server, &export_body(&doomed, WIDE_START, WIDE_END)).await;
    assert_eq!(status, 404, "{answer}");

    // No key at all.
    let response = server
        .http
        .get(server.url(&format!("/audit_logs/exports/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = server
        .http
        .post(server.url("/audit_logs/exports"))
        .json(&export_body(&org, WIDE_START, WIDE_END))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

// ------------------------------------------------------------------ link security

#[tokio::test]
async fn tampered_foreign_or_incomplete_links_are_404_without_content() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "secret.read", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let first = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let second = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &first).await;
    let other_url = ready_url(&server, &second).await;
    assert_eq!(download(&url).await.status, 200);
    assert_eq!(download(&other_url).await.status, 200);

    let parsed = reqwest::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<String, String> =
        parsed.query_pairs().into_owned().collect();
    let expires: i64 = query["expires"].parse().expect("numeric expires");
    let signature = query["signature"].clone();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 590..=now + 601).contains(&expires),
        "default link lifetime is 10 minutes: {expires} vs now {now}"
    );
    let flipped = {
        let mut chars: Vec<char> = signature.chars().collect();
        chars[0] = if chars[0] == '0' { '1' } else { '0' };
        chars.into_iter().collect::<String>()
    };
    let path = |id: &str| format!("{}/downloads/exports/{id}.csv", server.base_url);
    let base = path(&first);
    let cases = [
        (
            "tampered signature",
            format!("{base}?expires={expires}&signature={flipped}"),
        ),
        (
            "truncated signature",
            format!(
                "{base}?expires={expires}&signature={}",
                &signature[..signature.len() - 2]
            ),
        ),
        (
            "non-hex signature",
            format!("{base}?expires={expires}&signature=zz{}", &signature[2..]),
        ),
        (
            "empty signature",
            format!("{base}?expires={expires}&signature="),
        ),
        (
            "later expiry",
            format!("{base}?expires={}&signature={signature}", expires + 1),
        ),
        (
            "far expiry",
            format!(
                "{base}?expires={}&signature={signature}",
                expires + 10_000_000
            ),
        ),
        (
            "earlier expiry",
            format!("{base}?expires={}&signature={signature}", expires - 1),
        ),
        (
            "non-numeric expiry",
            format!("{base}?expires=soon&signature={signature}"),
        ),
        ("missing signature", format!("{base}?expires={expires}")),
        ("missing expiry", format!("{base}?signature={signature}")),
        ("no query", base.clone()),
        (
            "signature of another export",
            format!("{}?expires={expires}&signature={signature}", path(&second)),
        ),
        (
            "unknown export",
            format!(
                "{}?expires={expires}&signature={signature}",
                path("audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ")
            ),
        ),
        (
            "no .csv suffix",
            format!(
                "{}/downloads/exports/{first}?expires={expires}&signature={signature}",
                server.base_url
            ),
        ),
    ];
    for (what, link) in &cases {
        assert_link_refused(&download(link).await, what);
    }
    // The other export's own link opens only its own file.
    let other_query = reqwest::Url::parse(&other_url).unwrap();
    let other_pairs: std::collections::HashMap<String, String> =
        other_query.query_pairs().into_owned().collect();
    let swapped = format!(
        "{base}?expires={}&signature={}",
        other_pairs["expires"], other_pairs["signature"]
    );
    assert_link_refused(&download(&swapped).await, "link of export B on export A");
    // An API key does not stand in for a signature.
    let response = server
        .http
        .get(&base)
        .bearer_auth(&server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The genuine link still works after all this.
    assert_eq!(download(&url).await.status, 200);
}

#[tokio::test]
async fn links_expire_after_download_link_ttl_secs() {
    let server = TestServer::start_with(|c| c.download_link_ttl_secs = 2).await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &id).await;
    let parsed = reqwest::Url::parse(&url).unwrap();
    let expires: i64 = parsed
        .query_pairs()
        .find(|(k, _)| k == "expires")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let now = chrono::Utc::now();
    assert!(expires - now.timestamp() <= 2, "{expires} vs {now}");
    // Issued with two seconds to live, so at least one second of validity is left.
    assert_eq!(download(&url).await.status, 200);
    // Sleep until the expiry second has begun.
    let until =
        chrono::DateTime::from_timestamp(expires, 0).unwrap() + chrono::Duration::milliseconds(100);
    let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    assert_link_refused(&download(&url).await, "expired link");
    // A new GET issues a working link for the same file.
    let fresh = get_export(&server, &id).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(fresh, url);
    assert_eq!(download(&fresh).await.status, 200);
}

#[tokio::test]
async fn links_depend_on_the_download_secret() {
    if common::skip_on_postgres("links_depend_on_the_download_secret") {
        return;
    }
    const SECRET_A: &str = "first-download-secret-0123456789abcdef";
    const SECRET_B: &str = "second-download-secret-0123456789abcdef";
    // A data dir this test owns, so it outlives each server.
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |c| c.download_secret = Some(SECRET_A.into())).await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &id).await;
    assert_eq!(download(&url).await.status, 200);
    drop(server.stop().await);

    // Another secret: the old link is refused, a new one works.
    let server = start_on(&data_dir, |c| c.download_secret = Some(SECRET_B.into())).await;
    let old = rebase(&url, &server.base_url);
    assert_link_refused(&download(&old).await, "link signed with another secret");
    let fresh = ready_url(&server, &id).await;
    assert_eq!(download(&fresh).await.status, 200);
    drop(server.stop().await);

    // The first secret again: its links survive a restart.
    let server = start_on(&data_dir, |c| c.download_secret = Some(SECRET_A.into())).await;
    assert_eq!(download(&rebase(&url, &server.base_url)).await.status, 200);
    assert_link_refused(
        &download(&rebase(&fresh, &server.base_url)).await,
        "link signed with secret B",
    );
    drop(server.stop().await);

    // Without a configured secret the generated one is kept in the data dir.
    let server = start_on(&data_dir, |_| {}).await;
    let generated = ready_url(&server, &id).await;
    assert_eq!(download(&generated).await.status, 200);
    drop(server.stop().await);
    let server = start_on(&data_dir, |_| {}).await;
    assert_eq!(
        download(&rebase(&generated, &server.base_url)).await.status,
        200,
        "a generated secret survives a restart"
    );
    assert_link_refused(
        &download(&rebase(&url, &server.base_url)).await,
        "link of the configured secret under the generated one",
    );
    drop(server.stop().await);
}

// ------------------------------------------------------------------ state transitions

#[tokio::test]
async fn files_expire_and_the_export_becomes_expired() {
    let server = TestServer::start_with(|c| {
        c.export_file_ttl_secs = 1;
        c.maintenance_interval_secs = 1;
    })
    .await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let ready = settle_ready(&server, &id).await;
    let seen_ready = std::time::Instant::now();
    let url = ready["url"].as_str().unwrap().to_string();
    let file = blob_path(server.data_dir.path(), &id);
    // The file lives at least a second after the export became ready (checked only while
    // that is certain, so a slow machine does not make this flaky).
    let exists = file.exists();
    let served = download(&url).await.status;
    if seen_ready.elapsed() < Duration::from_millis(800) {
        assert!(exists, "{} missing while ready", file.display());
        assert_eq!(served, 200);
    }

    let mut expired = None;
    for _ in 0..100 {
        let body = get_export(&server, &id).await;
        if body["state"] == "expired" {
            expired = Some(body);
            break;
        }
        assert_eq!(body["state"], "ready", "{body}");
        tokio::time::sleep(POLL_PAUSE).await;
    }
    let expired = expired.expect("export expired within 5 s");
    assert!(
        expired["url"].is_null(),
        "expired export has url null: {expired}"
    );
    assert_eq!(expired["created_at"], ready["created_at"]);
    assert_millis_timestamp(&expired["updated_at"]);
    assert!(
        micros_of(expired["updated_at"].as_str().unwrap())
            >= micros_of(ready["updated_at"].as_str().unwrap())
    );
    assert!(!file.exists(), "{} still exists", file.display());
    assert_eq!(leftover_files(server.data_dir.path()), Vec::<String>::new());
    assert_link_refused(&download(&url).await, "link of an expired export");
    // The state is final.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get_export(&server, &id).await["state"], "expired");
}

#[tokio::test]
async fn an_export_created_just_before_shutdown_is_ready_after_restart() {
    if common::skip_on_postgres("an_export_created_just_before_shutdown_is_ready_after_restart") {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |_| {}).await;
    let org = server.create_org("Acme").await;
    for i in 0..3 {
        post_event(
            &server,
            &event(
                &org,
                "a.b",
                &format!("2026-03-01T10:00:0{i}.000Z"),
                ("u", None),
            ),
        )
        .await;
    }
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    drop(server.stop().await);
    let database = data_dir.path().join("auditlog.db");
    let state = sqlite(
        &database,
        &format!("SELECT state FROM exports WHERE id = '{id}'"),
    );
    assert!(state == "pending" || state == "ready", "{state}");

    let server = start_on(&data_dir, |_| {}).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(0));
    assert_eq!(rows.len(), 3);
    assert!(job_row(&database, &id).starts_with("done|"));
    drop(server.stop().await);
}

#[tokio::test]
async fn a_job_interrupted_by_shutdown_is_handed_back_and_finished_after_restart() {
    if common::skip_on_postgres(
        "a_job_interrupted_by_shutdown_is_handed_back_and_finished_after_restart",
    ) {
        return;
    }
    const EVENTS: usize = 4000;
    let data_dir = tempfile::tempdir().unwrap();
    // One row per page makes the job slow enough to be caught mid-run.
    let server = start_on(&data_dir, |c| c.export_page_rows = 1).await;
    let org = server.create_org("Slow").await;
    let store = SqliteStore::open(&data_dir.path().join("auditlog.db"))
        .await
        .unwrap();
    append(&store, &bulk_events(&org, EVENTS, 2)).await;
    store.close().await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = data_dir.path().join("auditlog.db");
    let mut running = false;
    for _ in 0..200 {
        let row = job_row(&database, &id);
        if row.starts_with("running|") {
            running = true;
            break;
        }
        assert!(row.starts_with("queued|"), "job finished too fast: {row}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(running, "the job never started");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_export(&server, &id).await["state"], "pending");
    drop(server.stop().await);

    // Handed back: queued again, no lease, the attempt not counted; no file.
    assert_eq!(job_row(&database, &id), "queued|0|");
    assert_eq!(
        sqlite(
            &database,
            &format!("SELECT state FROM exports WHERE id = '{id}'")
        ),
        "pending"
    );
    assert!(!blob_path(data_dir.path(), &id).exists());
    assert_eq!(
        leftover_files(data_dir.path()),
        Vec::<String>::new(),
        "the aborted upload left no partial files behind"
    );

    // The next start picks it up at once (not after the 30 s lease) and finishes it.
    let server = start_on(&data_dir, |c| c.export_page_rows = 1000).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(3));
    assert_eq!(rows.len(), EVENTS);
    assert!(job_row(&database, &id).starts_with("done|1|"));
    drop(server.stop().await);
}

#[tokio::test]
async fn a_slow_job_keeps_its_lease_by_heartbeat_and_runs_once() {
    if common::skip_on_postgres("a_slow_job_keeps_its_lease_by_heartbeat_and_runs_once") {
        return;
    }
    const EVENTS: usize = 2500;
    // A two-second lease, and a job that takes about twice as long.
    let server = TestServer::start_with(|c| {
        c.job_lease_secs = 2;
        c.export_page_rows = 1;
    })
    .await;
    let org = server.create_org("Slow").await;
    let store = server.open_store().await;
    append(store.as_ref(), &bulk_events(&org, EVENTS, 2)).await;
    drop(store);
    let started = std::time::Instant::now();
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let mut body = get_export(&server, &id).await;
    while body["state"] == "pending" && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(POLL_PAUSE).await;
        body = get_export(&server, &id).await;
    }
    let took = started.elapsed();
    assert_eq!(body["state"], "ready", "{body}");
    eprintln!("a {EVENTS}-page export took {took:?}");
    let (_, rows) = export_csv(&server, &id).await;
    assert_eq!(rows.len(), EVENTS);
    let job = job_row(&server.database_path(), &id);
    assert!(
        job.starts_with("done|1|"),
        "ran once, never re-claimed: {job}"
    );
}

/// Exports are cut at the organization's last sequence when they are created, so an event
/// stored while the export runs is not exported (and never with its targets cut off).
#[tokio::test]
async fn an_event_stored_during_the_export_is_never_truncated() {
    if common::skip_on_postgres("an_event_stored_during_the_export_is_never_truncated") {
        return;
    }
    const EVENTS: usize = 1500;
    let server = TestServer::start_with(|c| c.export_page_rows = 1).await;
    let org = server.create_org("Racy").await;
    let base = micros_of("2026-03-01T10:00:00.000Z");
    let at = |offset_ms: i64| {
        chrono::DateTime::from_timestamp_micros(base + offset_ms * 1000)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let early: Vec<PendingEvent> = (0..EVENTS as i64)
        .map(|i| pending_event(ENV, &event(&org, "plain", &at(i), ("u", None))))
        .collect();
    let store = server.open_store().await;
    append(store.as_ref(), &early).await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = server.database_path();
    for _ in 0..200 {
        if job_row(&database, &id).starts_with("running|") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Later than every other event, so the running export still reaches it.
    let late = pending_event(
        ENV,
        &with_targets(
            event(&org, "late", &at(3_600_000), ("u", None)),
            &[("t1", "team"), ("t2", "team"), ("t3", "doc")],
        ),
    );
    append(store.as_ref(), std::slice::from_ref(&late)).await;
    drop(store);
    assert_eq!(
        get_export(&server, &id).await["state"],
        "pending",
        "inconclusive: the export finished before the late event was stored"
    );
    let (header, rows) = export_csv(&server, &id).await;
    if let Some(row) = rows.iter().find(|r| r.last() == Some(&late.id)) {
        assert_eq!(
            header,
            expected_header(3),
            "the late event was exported, so its three targets need columns; row: {row:?}"
        );
    }
    // The export is cut at the events stored when it was created.
    assert!(
        rows.iter().all(|r| r.last() != Some(&late.id)),
        "an event stored after the export was created is not part of it"
    );
    assert_eq!(rows.len(), EVENTS);
}

#[tokio::test]
async fn a_job_leased_by_a_dead_node_is_taken_over_once_the_lease_expires() {
    if common::skip_on_postgres("a_job_leased_by_a_dead_node_is_taken_over_once_the_lease_expires")
    {
        return;
    }
    use auditlog_domain::export::ExportFilters;
    use auditlog_store::{ExportRecord, ExportState, ExportStore, JobStore, NewJob};

    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |_| {}).await;
    let org = server.create_org("Orphan").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    drop(server.stop().await);

    // While no server runs: an export whose job another node claimed, then died.
    let store = SqliteStore::open(&data_dir.path().join("auditlog.db"))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_micros();
    let id = new_id("audit_log_export");
    let record = ExportRecord {
        id: id.clone(),
        environment: ENV.into(),
        organization_id: org.clone(),
        state: ExportState::Pending,
        filters: ExportFilters {
            range_start: micros_of(WIDE_START),
            range_end: micros_of(WIDE_END),
            actions: vec![],
            actor_names: vec![],
            actor_ids: vec![],
            targets: vec![],
            max_sequence: None,
        },
        blob_key: None,
        row_count: None,
        byte_count: None,
        error: None,
        created_at: now,
        updated_at: now,
        file_expires_at: None,
    };
    let job = NewJob {
        id: new_id("job"),
        kind: auditlog_server::jobs::EXPORT_JOB.into(),
        payload: auditlog_server::jobs::export::payload(ENV, &id),
        run_after: now,
    };
    store.create_export(&record, &job).await.unwrap();
    let lease = Duration::from_secs(2);
    let claimed = store
        .claim_job(
            &[auditlog_server::jobs::EXPORT_JOB],
            "node_dead",
            now,
            now + lease.as_micros() as i64,
        )
        .await
        .unwrap()
        .expect("the job is claimable");
    assert_eq!(claimed.id, job.id);
    store.close().await;
    let claimed_at = std::time::Instant::now();

    let server = start_on(&data_dir, |_| {}).await;
    // Not taken while the dead node's lease runs…
    tokio::time::sleep(Duration::from_millis(800)).await;
    if claimed_at.elapsed() < lease - Duration::from_millis(300) {
        assert_eq!(get_export(&server, &id).await["state"], "pending");
    }
    // …but soon after it ends.
    let (_, rows) = export_csv(&server, &id).await;
    assert!(claimed_at.elapsed() >= lease - Duration::from_millis(100));
    assert_eq!(rows.len(), 1);
    let job = job_row(&data_dir.path().join("auditlog.db"), &id);
    assert!(job.starts_with("done|2|"), "{job}");
    drop(server.stop().await);
}

#[tokio::test]
async fn a_transient_storage_failure_is_retried_until_it_succeeds() {
    if common::skip_on_postgres("a_transient_storage_failure_is_retried_until_it_succeeds") {
        return;
    }
    let server = TestServer::start().await;
    let org = server.create_org("Flaky").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    // A plain file where the export directory belongs: writing the export fails.
    let blocker = server.data_dir.path().join("blobs").join("exports");
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"in the way").unwrap();
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = server.database_path();
    // `queued|<attempts>|`: a failed attempt was handed back for a later retry.
    let attempts =
        |row: &str| -> Option<i64> { row.strip_prefix("queued|")?.strip_suffix('|')?.parse().ok() };
    let mut retried = String::new();
    for _ in 0..100 {
        retried = job_row(&database, &id);
        if attempts(&retried).is_some_and(|n| n >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        attempts(&retried).is_some_and(|n| n >= 1),
        "a failed attempt is re-queued, not given up: {retried}"
    );
    let last_error = sqlite(
        &database,
        &format!("SELECT IFNULL(last_error, '') FROM jobs WHERE json_extract(payload, '$.export_id') = '{id}'"),
    );
    assert!(!last_error.is_empty(), "the failure reason is recorded");
    assert_eq!(get_export(&server, &id).await["state"], "pending");
    // The problem goes away; the retry (after a 2 s backoff) succeeds.
    std::fs::remove_file(&blocker).unwrap();
    let (_, rows) = export_csv(&server, &id).await;
    assert_eq!(rows.len(), 1);
    let job = job_row(&database, &id);
    assert!(
        job.starts_with("done|") && !job.starts_with("done|1|"),
        "finished by a retry: {job}"
    );
}

#[tokio::test]
async fn an_unreadable_stored_event_ends_the_export_in_error() {
    if common::skip_on_postgres("an_unreadable_stored_event_ends_the_export_in_error") {
        return;
    }
    let server = TestServer::start().await;
    let org = server.create_org("Broken").await;
    post_event(
        &server,
        &event(&org, "fine.event", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    // A row whose payload is not JSON (disk corruption, a bad manual edit…).
    let mut broken = pending_event(
        ENV,
        &event(
            &org,
            "broken.event",
            "2026-03-01T12:00:00.000Z",
            ("u", None),
        ),
    );
    broken.payload = "{this is not json".into();
    let store = server.open_store().await;
    append(store.as_ref(), &[broken]).await;
    drop(store);

    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let failed = settle(&server, &id).await;
    assert_eq!(failed["state"], "error", "{failed}");
    assert!(failed["url"].is_null(), "{failed}");
    assert_millis_timestamp(&failed["updated_at"]);
    // Given up at once (a permanent failure is not retried) and without a file.
    let job = job_row(&server.database_path(), &id);
    assert!(job.starts_with("failed|1|"), "{job}");
    assert!(!blob_path(server.data_dir.path(), &id).exists());
    assert_eq!(leftover_files(server.data_dir.path()), Vec::<String>::new());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(get_export(&server, &id).await["state"], "error");

    // Exports that do not reach the broken row are unaffected.
    let fine = start_export(
        &server,
        &export_body(&org, WIDE_START, "2026-03-01T11:00:00.000Z"),
    )
    .await;
    let (_, rows) = export_csv(&server, &fine).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], "fine.event");
}

// ------------------------------------------------------------------ size

#[tokio::test]
async fn a_many_page_export_has_every_row_once_in_order() {
    const EVENTS: usize = 12_000;
    let server = TestServer::start_with(|c| c.export_page_rows = 1000).await;
    let org = server.create_org("Big").await;
    let neighbour = server.create_org("Neighbour").await;
    let mut events = bulk_events(&org, EVENTS, 3);
    // Noise that must not show up: another organization, and outside the range.
    events.extend(bulk_events(&neighbour, 500, 1));
    events.push(pending_event(
        ENV,
        &event(&org, "too.late", "2026-06-01T00:00:00.000Z", ("u", None)),
    ));
    let store = server.open_store().await;
    append(store.as_ref(), &events).await;
    drop(store);

    let id = start_export(
        &server,
        &export_body(&org, "2026-04-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"),
    )
    .await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(3));
    assert_eq!(rows.len(), EVENTS);
    let mut expected: Vec<(i64, String)> = events[..EVENTS]
        .iter()
        .map(|e| (e.occurred_at, e.id.clone()))
        .collect();
    expected.sort();
    let got: Vec<&str> = rows.iter().map(|r| r.last().unwrap().as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(_, id)| id.as_str()).collect();
    if got != want {
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        panic!("order differs first at row {first:?}");
    }
    // Spot-check a row against its event.
    let sample = &events[4321];
    let row = rows
        .iter()
        .find(|r| r.last().unwrap() == &sample.id)
        .unwrap();
    let payload: Value = serde_json::from_str(&sample.payload).unwrap();
    assert_eq!(row[0], payload["occurred_at"].as_str().unwrap());
    assert_eq!(row[3], "user_4321");
    assert_eq!(row[9], r#"{"i":4321}"#);
    assert_eq!(row[10], "t4321_0");
}

// ------------------------------------------------------------------ official Rust SDK

#[tokio::test]
async fn sdk_create_export_poll_and_download() {
    use workos::audit_logs::CreateExportParams;
    use workos::{AuditLogExportCreation, AuditLogExportState};

    let server = TestServer::start().await;
    let org = server.create_org("SDK Co").await;
    let client = server.workos();
    for at in [
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:01.000Z",
        "2026-03-01T10:00:02.000Z",
    ] {
        client
            .audit_logs()
            .create_event(sdk_event(&org, at))
            .await
            .unwrap();
    }
    post_event(
        &server,
        &event(
            &org,
            "other.action",
            "2026-03-01T10:00:03.000Z",
            ("user_1", Some("Jon Smith")),
        ),
    )
    .await;

    #[allow(deprecated)]
    let creation = AuditLogExportCreation {
        organization_id: org.clone(),
        range_start: "2026-03-01T10:00:00.000Z".into(),
        range_end: "2026-03-01T10:00:02.000Z".into(),
        actions: Some(vec!["user.signed_in".into()]),
        actors: Some(vec!["Jon Smith".into()]),
        actor_names: None,
        actor_ids: Some(vec!["user_1".into()]),
        targets: Some(vec!["team".into()]),
    };
    let created = client
        .audit_logs()
        .create_export(CreateExportParams::new(creation))
        .await
        .unwrap();
    assert_eq!(created.object, "audit_log_export");
    assert_eq!(created.state, AuditLogExportState::Pending);
    assert!(created.url.is_none());
    assert_millis_timestamp(&json!(created.created_at));

    let mut export = created.clone();
    for _ in 0..POLLS {
        export = client.audit_logs().get_export(&created.id).await.unwrap();
        if export.state != AuditLogExportState::Pending {
            break;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    assert_eq!(export.state, AuditLogExportState::Ready);
    assert_eq!(export.id, created.id);
    let url = export.url.expect("a ready export has a url");
    let file = download(&url).await;
    assert_eq!(file.status, 200);
    let records = parse_csv(&file.body);
    assert_eq!(records[0], expected_header(1));
    let rows = &records[1..];
    assert_eq!(rows.len(), 2, "the range end excludes the third event");
    for row in rows {
        assert_eq!(row[1], "user.signed_in");
        assert_eq!(row[5], "Jon Smith");
        let actor_metadata: Value = serde_json::from_str(&row[6]).unwrap();
        assert_eq!(
            actor_metadata,
            json!({"role": "admin", "level": 3, "sso": true})
        );
        assert_eq!(row[7], "123.123.123.123");
        assert_eq!(row[8], "Chrome/104.0.0.0");
        assert_eq!(row[10..12], ["team_1", "team"]);
    }

    let error = client
        .audit_logs()
        .get_export("audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ")
        .await
        .unwrap_err();
    match error {
        workos::Error::Api(api) => {
            assert_eq!(api.status, 404);
            assert_eq!(api.code.as_deref(), Some("not_found"));
            assert!(api.request_id.is_some());
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}
