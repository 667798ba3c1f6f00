//! Retention and legal hold through the API and the official Rust SDK, and the
//! retention sweeper running inside a real server: what it redacts, what a legal hold keeps,
//! and that ingest keeps flowing while it works through a large backlog.

use crate::common;

use auditlog_domain::canonical::{canonical_bytes, canonical_value, leaf_hash};
use auditlog_domain::ids::{new_id, EVENT_PREFIX};
use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_domain::EventInput;
use auditlog_server::clock::now_micros;
use auditlog_store::{AppendOutcome, PendingEvent, StoredEvent};
use common::{assert_json_with_request_id, event_body, field_errors, TestServer};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workos::audit_logs::{
    Retention, UpdateOrganizationAuditLogsRetentionParams,
    UpdateOrganizationAuditLogsRetentionParamsBody,
};
use workos::{AuditLogConfigurationState, UpdateAuditLogsRetentionRetentionPeriod as Period};

const DAY: i64 = 86_400_000_000;
const UNKNOWN_ORG: &str = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ";

/// Every `retention_period` value and the days it stands for.
const PERIODS: [(&str, i64); 21] = [
    ("1_MONTH", 30),
    ("2_MONTHS", 60),
    ("3_MONTHS", 90),
    ("4_MONTHS", 120),
    ("5_MONTHS", 150),
    ("6_MONTHS", 180),
    ("7_MONTHS", 210),
    ("8_MONTHS", 240),
    ("9_MONTHS", 270),
    ("10_MONTHS", 300),
    ("11_MONTHS", 330),
    ("1_YEAR", 365),
    ("2_YEARS", 730),
    ("3_YEARS", 1095),
    ("4_YEARS", 1460),
    ("5_YEARS", 1825),
    ("6_YEARS", 2190),
    ("7_YEARS", 2555),
    ("8_YEARS", 2920),
    ("9_YEARS", 3285),
    ("10_YEARS", 3650),
];

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("send");
    assert_json_with_request_id(&response);
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

fn retention_path(id: &str) -> String {
    format!("/organizations/{id}/audit_logs_retention")
}

fn hold_path(id: &str) -> String {
    format!("/organizations/{id}/legal_hold")
}

fn sdk_update(retention: Retention) -> UpdateOrganizationAuditLogsRetentionParams {
    UpdateOrganizationAuditLogsRetentionParams::new(
        UpdateOrganizationAuditLogsRetentionParamsBody::new(retention),
    )
}

async fn sdk_retention(client: &workos::Client, id: &str) -> Option<i64> {
    client
        .audit_logs()
        .get_organization_audit_logs_retention(id)
        .await
        .expect("get retention")
        .retention_period_in_days
}

async fn set_retention_days(server: &TestServer, id: &str, days: i64) {
    let (status, body) = send(
        server
            .put(&retention_path(id))
            .json(&json!({"retention_period_in_days": days})),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"retention_period_in_days": days}))
    );
}

/// The record id of the server's default key: what legal-hold history names as the actor.
async fn key_id(server: &TestServer) -> String {
    let store = server.open_store().await;
    let record = store
        .find_api_key(&auditlog_server::keys::hash_key(&server.key))
        .await
        .expect("find key")
        .expect("the default key is stored");
    drop(store);
    record.id
}

/// A stored event as the API would have written it, for bulk inserts.
fn pending_event(organization_id: &str, occurred_at: i64, actor_id: &str) -> PendingEvent {
    let mut body = event_body(organization_id);
    body["event"]["occurred_at"] = json!(format_millis(from_micros(occurred_at)));
    body["event"]["actor"]["id"] = json!(actor_id);
    let input = EventInput::parse(&body).expect("valid event");
    let id = new_id(EVENT_PREFIX);
    let payload = canonical_bytes(&canonical_value(&id, &input));
    PendingEvent {
        leaf_hash: leaf_hash(&payload),
        payload: String::from_utf8(payload).expect("utf-8"),
        id,
        environment: "default".into(),
        organization_id: organization_id.into(),
        occurred_at,
        received_at: now_micros(),
        action: input.action.clone(),
        actor_id: input.actor.id.clone(),
        actor_name: input.actor.name.clone(),
        target_types: input.target_types(),
        target_count: input.targets.len() as i64,
        idempotency: None,
    }
}

/// Appends events through the store's bulk path, in chunks; returns their ids.
async fn bulk_insert(server: &TestServer, events: Vec<PendingEvent>) -> Vec<String> {
    let store = server.open_store().await;
    let ids = events.iter().map(|e| e.id.clone()).collect();
    for chunk in events.chunks(5_000) {
        let outcomes = store.append_events(chunk.to_vec()).await.expect("append");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, AppendOutcome::Stored { .. })),
            "bulk insert: {:?}",
            outcomes.first()
        );
    }
    drop(store);
    ids
}

/// Polls `condition` every 200 ms until it holds; panics after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if condition().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn payload_of<'a>(events: &'a [StoredEvent], id: &str) -> Option<&'a str> {
    events
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("event {id} is not stored"))
        .payload
        .as_deref()
}

fn all_redacted(events: &[StoredEvent], ids: &[String]) -> bool {
    ids.iter().all(|id| payload_of(events, id).is_none())
}

fn sequences(events: &[StoredEvent]) -> Vec<(String, i64, [u8; 32])> {
    events
        .iter()
        .map(|e| (e.id.clone(), e.sequence, e.leaf_hash))
        .collect()
}

/// Creates an export of `[start, end)`; returns its id.
async fn create_export(server: &TestServer, organization_id: &str, start: i64, end: i64) -> String {
    let (status, export) = send(server.post("/audit_logs/exports").json(&json!({
        "organization_id": organization_id,
        "range_start": format_millis(from_micros(start)),
        "range_end": format_millis(from_micros(end)),
    })))
    .await;
    assert_eq!(status, 201, "{export}");
    export["id"].as_str().expect("export id").to_string()
}

/// Waits until the export is in `state` (never `error`).
async fn wait_export_state(server: &TestServer, id: &str, state: &str) {
    wait_until(
        &format!("export {id} to be {state}"),
        Duration::from_secs(20),
        || async {
            let export = export_state(server, id).await;
            assert_ne!(export["state"], "error", "{export}");
            export["state"] == state
        },
    )
    .await;
}

/// Creates an export of `[start, end)` and waits until it is ready; returns its id.
async fn ready_export(server: &TestServer, organization_id: &str, start: i64, end: i64) -> String {
    let id = create_export(server, organization_id, start, end).await;
    wait_export_state(server, &id, "ready").await;
    id
}

async fn export_state(server: &TestServer, id: &str) -> Value {
    let (status, export) = send(server.get(&format!("/audit_logs/exports/{id}"))).await;
    assert_eq!(status, 200, "{export}");
    export
}

/// The event ids (`id` column) of a ready export's CSV.
async fn export_event_ids(server: &TestServer, id: &str) -> BTreeSet<String> {
    let export = export_state(server, id).await;
    assert_eq!(export["state"], "ready", "{export}");
    let url = export["url"].as_str().expect("url of a ready export");
    let response = server.http.get(url).send().await.expect("download");
    assert_eq!(response.status(), 200, "downloading {url}");
    let bytes = response.bytes().await.expect("csv");
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let header = reader.headers().expect("header").clone();
    let column = header.iter().position(|h| h == "id").expect("an id column");
    reader
        .records()
        .map(|r| r.expect("csv record")[column].to_string())
        .collect()
}

mod get_put;
mod ingest_during_sweep;
mod legal_hold;
mod sweeper;
