//! Retention (spec §6, §7) and legal hold through the API and the official Rust SDK, and the
//! retention sweeper running inside a real server: what it redacts, what a legal hold keeps,
//! and that ingest keeps flowing while it works through a large backlog.

mod common;

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
        let outcomes = store.append_events(chunk).await.expect("append");
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

// ---------------------------------------------------------------- GET / PUT

#[tokio::test]
async fn get_returns_the_default_retention() {
    let server = TestServer::start().await;
    let id = server.create_org("Default retention").await;
    let (status, body) = send(server.get(&retention_path(&id))).await;
    assert_eq!(
        (status, body),
        (200, json!({"retention_period_in_days": 365}))
    );
    assert_eq!(sdk_retention(&server.workos(), &id).await, Some(365));

    let short = TestServer::start_with(|c| c.default_retention_days = 30).await;
    let id = short.create_org("Short default").await;
    let (status, body) = send(short.get(&retention_path(&id))).await;
    assert_eq!(
        (status, body),
        (200, json!({"retention_period_in_days": 30}))
    );
    let client = short.workos();
    assert_eq!(sdk_retention(&client, &id).await, Some(30));
    let config = client
        .organizations()
        .get_audit_log_configuration(&id)
        .await
        .expect("configuration");
    assert_eq!(config.retention_period_in_days, 30);
    assert_eq!(config.organization_id, id);
    assert!(matches!(config.state, AuditLogConfigurationState::Active));
}

#[tokio::test]
async fn put_maps_every_retention_period() {
    let server = TestServer::start().await;
    let client = server.workos();
    let id = server.create_org("Periods").await;
    let config_path = format!("/organizations/{id}/audit_log_configuration");

    // Raw `retention_period`, each enum value.
    for (period, days) in PERIODS {
        let (status, body) = send(
            server
                .put(&retention_path(&id))
                .json(&json!({"retention_period": period})),
        )
        .await;
        assert_eq!(
            (status, body),
            (200, json!({"retention_period_in_days": days})),
            "{period}"
        );
        let (_, got) = send(server.get(&retention_path(&id))).await;
        assert_eq!(got, json!({"retention_period_in_days": days}), "{period}");
        let (_, config) = send(server.get(&config_path)).await;
        assert_eq!(config["retention_period_in_days"], days, "{period}");
    }

    // Through the SDK's `Retention::Period`, each enum value.
    for (period, days) in PERIODS {
        let enum_value = Period::from(period);
        assert!(!matches!(enum_value, Period::Unknown(_)), "{period}");
        let updated = client
            .audit_logs()
            .update_organization_audit_logs_retention(
                &id,
                sdk_update(Retention::Period {
                    retention_period: enum_value,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{period}: {e:?}"));
        assert_eq!(updated.retention_period_in_days, Some(days), "{period}");
        assert_eq!(sdk_retention(&client, &id).await, Some(days), "{period}");
        let config = client
            .organizations()
            .get_audit_log_configuration(&id)
            .await
            .expect("configuration");
        assert_eq!(config.retention_period_in_days, days, "{period}");
    }

    // `retention_period_in_days`: every allowed value, raw and through the SDK.
    for (_, days) in PERIODS.iter().rev() {
        let (status, body) = send(
            server
                .put(&retention_path(&id))
                .json(&json!({"retention_period_in_days": days})),
        )
        .await;
        assert_eq!(
            (status, body),
            (200, json!({"retention_period_in_days": days}))
        );
        let updated = client
            .audit_logs()
            .update_organization_audit_logs_retention(
                &id,
                sdk_update(Retention::PeriodInDays {
                    retention_period_in_days: *days,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{days}: {e:?}"));
        assert_eq!(updated.retention_period_in_days, Some(*days));
        assert_eq!(sdk_retention(&client, &id).await, Some(*days));
        let (_, config) = send(server.get(&config_path)).await;
        assert_eq!(
            config,
            json!({"organization_id": id, "retention_period_in_days": days, "state": "active", "log_stream": null})
        );
    }

    // Another organization keeps the default.
    let other = server.create_org("Untouched").await;
    assert_eq!(sdk_retention(&client, &other).await, Some(365));
}

#[tokio::test]
async fn put_rejects_invalid_bodies_with_422() {
    let server = TestServer::start().await;
    let id = server.create_org("Invalid").await;
    set_retention_days(&server, &id, 90).await;
    let bad = [
        // neither
        json!({}),
        json!({"retention_period": null}),
        json!({"retention_period_in_days": null}),
        json!({"retention": "1_YEAR"}),
        json!([]),
        json!("1_YEAR"),
        json!(365),
        // both
        json!({"retention_period": "1_YEAR", "retention_period_in_days": 365}),
        json!({"retention_period": "1_MONTH", "retention_period_in_days": 365}),
        // unknown enum values
        json!({"retention_period": "FOREVER"}),
        json!({"retention_period": "12_MONTHS"}),
        json!({"retention_period": "11_YEARS"}),
        json!({"retention_period": "0_MONTHS"}),
        json!({"retention_period": "1_MONTHS"}),
        json!({"retention_period": "2_YEAR"}),
        json!({"retention_period": "01_YEAR"}),
        json!({"retention_period": "1_year"}),
        json!({"retention_period": " 1_YEAR"}),
        json!({"retention_period": ""}),
        // disallowed day counts
        json!({"retention_period_in_days": 0}),
        json!({"retention_period_in_days": -30}),
        json!({"retention_period_in_days": 1}),
        json!({"retention_period_in_days": 31}),
        json!({"retention_period_in_days": 360}),
        json!({"retention_period_in_days": 366}),
        json!({"retention_period_in_days": 400}),
        json!({"retention_period_in_days": 3651}),
        json!({"retention_period_in_days": 4015}),
        json!({"retention_period_in_days": 9_223_372_036_854_775_807_i64}),
        // wrong types
        json!({"retention_period_in_days": "30"}),
        json!({"retention_period_in_days": 30.5}),
        json!({"retention_period_in_days": true}),
        json!({"retention_period_in_days": [30]}),
        json!({"retention_period_in_days": {"days": 30}}),
        json!({"retention_period": 365}),
        json!({"retention_period": true}),
        json!({"retention_period": ["1_YEAR"]}),
    ];
    for body in &bad {
        let (status, error) = send(server.put(&retention_path(&id)).json(body)).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert!(error["message"].is_string(), "{error}");
        let fields = field_errors(&error);
        assert!(
            fields
                .iter()
                .any(|(field, _)| field.starts_with("retention_period")),
            "{body} → {error}"
        );
    }
    // Nothing changed.
    let (_, got) = send(server.get(&retention_path(&id))).await;
    assert_eq!(got, json!({"retention_period_in_days": 90}));

    // The SDK sees typed 422s.
    let client = server.workos();
    for retention in [
        Retention::Period {
            retention_period: Period::Unknown("FOREVER".into()),
        },
        Retention::PeriodInDays {
            retention_period_in_days: 31,
        },
    ] {
        let error = client
            .audit_logs()
            .update_organization_audit_logs_retention(&id, sdk_update(retention.clone()))
            .await
            .expect_err("invalid retention");
        assert_eq!(error.status(), Some(422), "{retention:?}: {error:?}");
    }
    assert_eq!(sdk_retention(&client, &id).await, Some(90));
}

#[tokio::test]
async fn unknown_and_foreign_organizations_are_404() {
    let server = TestServer::start().await;
    let mine = server.create_org("Mine").await;
    let other_key = server.key_for_environment("other").await;
    let (status, theirs) = send(
        server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Theirs"})),
    )
    .await;
    assert_eq!(status, 201);
    let theirs = theirs["id"].as_str().unwrap().to_string();

    let valid = json!({"retention_period_in_days": 30});
    let reason = json!({"reason": "litigation"});
    // (key, organization): unknown ids, and each environment asking for the other's organization.
    let cases = [
        (server.key.clone(), UNKNOWN_ORG.to_string()),
        (server.key.clone(), theirs.clone()),
        (other_key.clone(), mine.clone()),
    ];
    for (key, id) in &cases {
        let requests = [
            server.http.get(server.url(&retention_path(id))),
            server
                .http
                .put(server.url(&retention_path(id)))
                .json(&valid),
            server
                .http
                .get(server.url(&format!("/organizations/{id}/audit_log_configuration"))),
            server.http.get(server.url(&hold_path(id))),
            server.http.post(server.url(&hold_path(id))).json(&reason),
            server.http.delete(server.url(&hold_path(id))).json(&reason),
        ];
        for request in requests {
            let request = request.bearer_auth(key).build().unwrap();
            let what = format!("{} {}", request.method(), request.url().path());
            let response = server.http.execute(request).await.unwrap();
            assert_json_with_request_id(&response);
            assert_eq!(response.status(), 404, "{what}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["message"],
                format!("Organization not found: '{id}'."),
                "{what}"
            );
        }
    }

    // Through the SDK.
    let client = server.workos();
    let error = client
        .audit_logs()
        .get_organization_audit_logs_retention(UNKNOWN_ORG)
        .await
        .expect_err("unknown org");
    assert_eq!(error.status(), Some(404));
    let error = client
        .audit_logs()
        .update_organization_audit_logs_retention(
            &theirs,
            sdk_update(Retention::Period {
                retention_period: Period::V1Year,
            }),
        )
        .await
        .expect_err("another environment's org");
    assert_eq!(error.status(), Some(404));
    let error = client
        .organizations()
        .get_audit_log_configuration(&theirs)
        .await
        .expect_err("another environment's org");
    assert_eq!(error.status(), Some(404));

    // The foreign attempts changed nothing.
    assert_eq!(sdk_retention(&client, &mine).await, Some(365));
    let (_, hold) = send(server.get(&hold_path(&mine))).await;
    assert_eq!(hold["active"], false);
    assert_eq!(hold["history"], json!([]));
    let (_, got) = send(
        server
            .http
            .get(server.url(&retention_path(&theirs)))
            .bearer_auth(&other_key),
    )
    .await;
    assert_eq!(got, json!({"retention_period_in_days": 365}));
}

// ---------------------------------------------------------------- the sweeper

#[tokio::test]
async fn sweeper_redacts_events_past_retention() {
    let server = TestServer::start_with(|c| c.retention_sweep_interval_secs = 1).await;
    let monthly = server.create_org("Thirty days").await;
    let default = server.create_org("Default retention").await;
    set_retention_days(&server, &monthly, 30).await;
    let now = now_micros();

    // Through the store's bulk path: 31 days old (past 30) and 29 days old (within).
    let mut batch = Vec::new();
    for n in 0..5 {
        batch.push(pending_event(
            &monthly,
            now - 31 * DAY - n,
            &format!("old_{n}"),
        ));
        batch.push(pending_event(
            &monthly,
            now - 29 * DAY - n,
            &format!("new_{n}"),
        ));
    }
    // The default (365 days) applies to the organization with none set.
    batch.push(pending_event(&default, now - 366 * DAY, "old_default"));
    batch.push(pending_event(&default, now - 364 * DAY, "new_default"));
    batch.push(pending_event(&default, now - 31 * DAY, "month_default"));
    let ids = bulk_insert(&server, batch).await;
    // Through the API as well.
    for (days, actor) in [(31, "old_api"), (29, "new_api")] {
        let mut body = event_body(&monthly);
        body["event"]["occurred_at"] = json!(format_millis(from_micros(now - days * DAY)));
        body["event"]["actor"]["id"] = json!(actor);
        let (status, ok) = send(server.post("/audit_logs/events").json(&body)).await;
        assert_eq!((status, ok), (200, json!({"success": true})));
    }
    let before = server.stored_events("default", &monthly).await;
    let before_default = server.stored_events("default", &default).await;
    assert_eq!(before.len(), 12);
    let actor_of = |e: &StoredEvent| e.actor_id.clone();
    let old: Vec<String> = before
        .iter()
        .filter(|e| actor_of(e).starts_with("old_"))
        .map(|e| e.id.clone())
        .collect();
    let recent: Vec<String> = before
        .iter()
        .filter(|e| actor_of(e).starts_with("new_"))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!((old.len(), recent.len()), (6, 6));

    wait_until("the sweeper", Duration::from_secs(20), || async {
        all_redacted(&server.stored_events("default", &monthly).await, &old)
    })
    .await;
    let after = server.stored_events("default", &monthly).await;
    assert_eq!(
        sequences(&after),
        sequences(&before),
        "sequences and leaf hashes stay"
    );
    for event in &before {
        let kept = payload_of(&after, &event.id);
        if recent.contains(&event.id) {
            assert_eq!(kept, event.payload.as_deref(), "recent {}", event.actor_id);
        } else {
            assert_eq!(kept, None);
        }
    }
    wait_until("the default retention", Duration::from_secs(20), || async {
        let events = server.stored_events("default", &default).await;
        payload_of(&events, &ids[10]).is_none()
    })
    .await;
    let after_default = server.stored_events("default", &default).await;
    assert_eq!(sequences(&after_default), sequences(&before_default));
    assert!(
        payload_of(&after_default, &ids[11]).is_some(),
        "364 days < 365"
    );
    assert!(
        payload_of(&after_default, &ids[12]).is_some(),
        "31 days < 365"
    );

    // An export over the whole range holds only what is left.
    let export = ready_export(&server, &monthly, now - 40 * DAY, now_micros() + DAY).await;
    let exported = export_event_ids(&server, &export).await;
    assert_eq!(exported, recent.iter().cloned().collect::<BTreeSet<_>>());

    // Sequences keep counting after a sweep.
    let (status, _) = send(
        server
            .post("/audit_logs/events")
            .json(&event_body(&monthly)),
    )
    .await;
    assert_eq!(status, 200);
    let last = server.stored_events("default", &monthly).await;
    assert_eq!(last.last().unwrap().sequence, 12);
}

// ---------------------------------------------------------------- legal hold

#[tokio::test]
async fn legal_hold_validation_history_and_conflicts() {
    let server = TestServer::start().await;
    let id = server.create_org("Hold").await;
    let actor = key_id(&server).await;
    let path = hold_path(&id);

    let (status, hold) = send(server.get(&path)).await;
    assert_eq!(status, 200);
    assert_eq!(
        hold,
        json!({"object": "legal_hold", "organization_id": id, "active": false, "reason": null,
               "placed_at": null, "history": []})
    );

    let too_long = "x".repeat(1001);
    for body in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": "   "}),
        json!({"reason": null}),
        json!({"reason": 42}),
        json!({"reason": ["litigation"]}),
        json!({"reason": too_long}),
        json!([]),
    ] {
        let (status, error) = send(server.post(&path).json(&body)).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert_eq!(
            field_errors(&error),
            [("reason".to_string(), "required".to_string())]
        );
    }
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold["active"], false, "a rejected request places nothing");

    let (status, placed) = send(server.post(&path).json(&json!({"reason": "Case 2026-17"}))).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["object"], "legal_hold");
    assert_eq!(placed["active"], true);
    assert_eq!(placed["reason"], "Case 2026-17");
    assert!(placed["placed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(placed["history"].as_array().unwrap().len(), 1);

    let (status, conflict) = send(server.post(&path).json(&json!({"reason": "again"}))).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["code"], "legal_hold_unchanged");
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold, placed, "the second placing changed nothing");

    // Releasing needs a reason too.
    let (status, _) = send(server.delete(&path).json(&json!({}))).await;
    assert_eq!(status, 422);
    let (status, released) = send(
        server
            .delete(&path)
            .json(&json!({"reason": "Case settled"})),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["active"], false);
    assert_eq!(released["reason"], Value::Null);
    assert_eq!(released["placed_at"], Value::Null);
    let history = released["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{released}");
    assert_eq!(history[0]["action"], "placed");
    assert_eq!(history[0]["reason"], "Case 2026-17");
    assert_eq!(history[0]["actor"], actor.as_str());
    assert_eq!(history[0]["at"], placed["placed_at"]);
    assert_eq!(history[1]["action"], "released");
    assert_eq!(history[1]["reason"], "Case settled");
    assert_eq!(history[1]["actor"], actor.as_str());
    assert!(history[1]["at"].as_str().unwrap() >= history[0]["at"].as_str().unwrap());
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold, released);

    let (status, conflict) = send(server.delete(&path).json(&json!({"reason": "again"}))).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["code"], "legal_hold_unchanged");

    // A hold can be placed again, and is recorded again.
    let (status, again) = send(server.post(&path).json(&json!({"reason": "Case 2"}))).await;
    assert_eq!(status, 201);
    assert_eq!(again["history"].as_array().unwrap().len(), 3);
    // Retention can still be changed while on hold; the hold does not show in the retention API.
    set_retention_days(&server, &id, 60).await;
    let (_, config) =
        send(server.get(&format!("/organizations/{id}/audit_log_configuration"))).await;
    assert_eq!(config["retention_period_in_days"], 60);
}

#[tokio::test]
async fn legal_hold_stops_the_sweeper_and_export_expiry() {
    let server = TestServer::start_with(|c| {
        c.retention_sweep_interval_secs = 1;
        c.maintenance_interval_secs = 1;
        c.export_file_ttl_secs = 1;
    })
    .await;
    let held = server.create_org("Held").await;
    let free = server.create_org("Free").await;
    for id in [&held, &free] {
        set_retention_days(&server, id, 30).await;
    }
    let (status, placed) = send(
        server
            .post(&hold_path(&held))
            .json(&json!({"reason": "Subpoena"})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");

    let now = now_micros();
    let mut batch = Vec::new();
    for org in [&held, &free] {
        for n in 0..3 {
            batch.push(pending_event(org, now - 31 * DAY - n, &format!("old_{n}")));
            batch.push(pending_event(org, now - 29 * DAY - n, &format!("new_{n}")));
        }
    }
    let ids = bulk_insert(&server, batch).await;
    let old_held: Vec<String> = ids[..6].iter().step_by(2).cloned().collect();
    let old_free: Vec<String> = ids[6..].iter().step_by(2).cloned().collect();
    let before_held = server.stored_events("default", &held).await;

    let range = (now - 40 * DAY, now + DAY);
    let held_export = ready_export(&server, &held, range.0, range.1).await;
    // Its file lives 1 s: it may be ready and expired between two polls.
    let free_export = create_export(&server, &free, range.0, range.1).await;

    // The free organization shows both jobs are running: its old events go, its file expires.
    wait_until(
        "the free organization's sweep",
        Duration::from_secs(20),
        || async { all_redacted(&server.stored_events("default", &free).await, &old_free) },
    )
    .await;
    wait_export_state(&server, &free_export, "expired").await;
    // One more round of each, for good measure.
    tokio::time::sleep(Duration::from_millis(2_200)).await;

    // The held organization kept everything.
    assert_eq!(
        server.stored_events("default", &held).await,
        before_held,
        "nothing is redacted while on hold"
    );
    let held_state = export_state(&server, &held_export).await;
    assert_eq!(held_state["state"], "ready", "{held_state}");
    let exported = export_event_ids(&server, &held_export).await;
    assert_eq!(exported, ids[..6].iter().cloned().collect::<BTreeSet<_>>());
    let url = export_state(&server, &held_export).await["url"]
        .as_str()
        .unwrap()
        .to_string();

    // Released: the sweep resumes and the file expires.
    let (status, released) = send(
        server
            .delete(&hold_path(&held))
            .json(&json!({"reason": "Subpoena withdrawn"})),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["active"], false);
    wait_until(
        "the held organization's sweep",
        Duration::from_secs(20),
        || async { all_redacted(&server.stored_events("default", &held).await, &old_held) },
    )
    .await;
    let after = server.stored_events("default", &held).await;
    assert_eq!(sequences(&after), sequences(&before_held));
    assert_eq!(after.iter().filter(|e| e.payload.is_some()).count(), 3);
    wait_export_state(&server, &held_export, "expired").await;
    assert_eq!(
        export_state(&server, &held_export).await["url"],
        Value::Null
    );
    let response = server.http.get(&url).send().await.unwrap();
    assert_eq!(
        response.status(),
        404,
        "the file of an expired export is gone"
    );
}

// ---------------------------------------------------------------- ingest during a sweep

/// Bulk-inserts `BACKLOG` events 31 days old, lowers the retention to 30 days while API
/// clients send events without pause, and lets the sweeper (batches of 500) remove the
/// backlog: every request must finish with a 200 and every acknowledged event be stored.
async fn ingest_during_sweep<const BACKLOG: usize>() {
    const SENDERS: usize = 8;
    let server = TestServer::start_with(|c| {
        c.retention_sweep_interval_secs = 1;
        c.retention_batch = 500;
    })
    .await;
    let id = server.create_org("Backlog").await;
    // 31 days old: kept under the default 365 days until the retention is lowered.
    let now = now_micros();
    let backlog: Vec<PendingEvent> = (0..BACKLOG)
        .map(|n| pending_event(&id, now - 31 * DAY - n as i64, "backlog"))
        .collect();
    bulk_insert(&server, backlog).await;

    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let senders: Vec<_> = (0..SENDERS)
        .map(|worker| {
            let (server, stop, acknowledged, http) = (
                server.clone(),
                stop.clone(),
                acknowledged.clone(),
                http.clone(),
            );
            let id = id.clone();
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut sent = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let mut body = event_body(&id);
                    body["event"]["occurred_at"] = json!(format_millis(from_micros(now_micros())));
                    body["event"]["actor"]["id"] = json!(format!("live_{worker}_{sent}"));
                    sent += 1;
                    // Every request must finish (the client gives up after 30 s) with a 200.
                    match http
                        .post(server.url("/audit_logs/events"))
                        .bearer_auth(&server.key)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(response) if response.status() == 200 => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(response) => failures.push(format!(
                            "status {}: {}",
                            response.status(),
                            response.text().await.unwrap_or_default()
                        )),
                        Err(error) => failures.push(format!("request did not finish: {error}")),
                    }
                }
                (sent, failures)
            })
        })
        .collect();

    wait_until("ingest to start", Duration::from_secs(20), || async {
        acknowledged.load(Ordering::Relaxed) >= 20
    })
    .await;
    let (status, _) = send(
        server
            .put(&retention_path(&id))
            .json(&json!({"retention_period": "1_MONTH"})),
    )
    .await;
    assert_eq!(status, 200);
    let acknowledged_when_lowered = acknowledged.load(Ordering::Relaxed);

    let redacted = || async {
        server
            .stored_events("default", &id)
            .await
            .iter()
            .filter(|e| e.payload.is_none())
            .count()
    };
    let mut seen_partial = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = redacted().await;
        seen_partial |= count > 0 && count < BACKLOG;
        if count == BACKLOG {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sweep did not finish the backlog: {count} of {BACKLOG} redacted"
        );
        // Listing every event is itself heavy at this size: poll gently.
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let acknowledged_when_swept = acknowledged.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);

    let mut sent = 0;
    let mut failures = Vec::new();
    for sender in senders {
        let (n, f) = sender.await.expect("sender task");
        sent += n;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    assert_eq!(acknowledged, sent, "every request was acknowledged");
    assert!(
        acknowledged_when_swept > acknowledged_when_lowered,
        "events were acknowledged while the sweep ran"
    );
    eprintln!(
        "ingest during sweep: {sent} events sent, {} while the sweep ran (partial sweep observed: {seen_partial})",
        acknowledged_when_swept - acknowledged_when_lowered
    );

    // Everything acknowledged is stored, with its payload, and the chain has no gap.
    let events = server.stored_events("default", &id).await;
    assert_eq!(events.len(), BACKLOG + acknowledged);
    let live: Vec<&StoredEvent> = events.iter().filter(|e| e.payload.is_some()).collect();
    assert_eq!(live.len(), acknowledged, "live events are all kept");
    let actors: HashSet<&str> = live.iter().map(|e| e.actor_id.as_str()).collect();
    assert_eq!(actors.len(), acknowledged, "each live event stored once");
    assert!(actors.iter().all(|a| a.starts_with("live_")));
    let numbers: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(numbers, (0..events.len() as i64).collect::<Vec<_>>());
    assert!(events[..BACKLOG].iter().all(|e| e.payload.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_keeps_flowing_during_a_sweep() {
    ingest_during_sweep::<5_000>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_keeps_flowing_during_a_large_sweep() {
    ingest_during_sweep::<50_000>().await;
}
