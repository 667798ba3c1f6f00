//! `POST /audit_logs/events`: success through the official SDK, what gets stored, every
//! validation path, and the transport-level errors (400, 404, 413, 415).

use crate::common;

use common::{assert_json_with_request_id, event_body, field_errors, sdk_event, TestServer};
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

const ENV: &str = "default";

/// Sends `body` as JSON and returns status and the parsed JSON body.
async fn post_event(server: &TestServer, body: &Value) -> (u16, Value) {
    let response = server
        .post("/audit_logs/events")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_json_with_request_id(&response);
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn sdk_create_event_succeeds_and_stores_a_hashed_canonical_payload() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let other = server.create_org("Other").await;
    let client = server.workos();
    for (i, target) in [&org, &org, &other, &org, &other].into_iter().enumerate() {
        let response = client
            .audit_logs()
            .create_event(sdk_event(target, "2026-02-02T16:35:39.317Z"))
            .await
            .unwrap_or_else(|e| panic!("event {i}: {e}"));
        assert!(response.success);
    }
    let events = server.stored_events(ENV, &org).await;
    let others = server.stored_events(ENV, &other).await;
    // Sequence numbers are dense and start at 0 for each organization.
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(
        others.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [0, 1]
    );
    for event in events.iter().chain(&others) {
        assert!(event.id.starts_with("audit_log_event_"), "{}", event.id);
        assert_eq!(event.action, "user.signed_in");
        assert_eq!(event.actor_id, "user_1");
        assert_eq!(event.actor_name.as_deref(), Some("Jon Smith"));
        let payload = event.payload.as_deref().expect("payload");
        let value: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(value["id"], event.id.as_str());
        assert_eq!(value["organization_id"], event.organization_id.as_str());
        assert_eq!(value["v"], 1);
        assert_eq!(value["version"], 1);
        assert_eq!(value["occurred_at"], "2026-02-02T16:35:39.317Z");
        assert_eq!(
            value["actor"],
            json!({"id": "user_1", "type": "user", "name": "Jon Smith",
                   "metadata": {"level": 3, "role": "admin", "sso": true}})
        );
        assert_eq!(value["targets"], json!([{"id": "team_1", "type": "team"}]));
        assert_eq!(
            value["context"],
            json!({"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"})
        );
        assert!(value.get("metadata").is_none(), "absent, not null");
        assert_canonical(&value);
        // Compact (no whitespace): re-serializing in the same key order gives the same bytes.
        assert_eq!(serde_json::to_string(&value).unwrap(), payload);
        let mut hasher = Sha256::new();
        hasher.update([0u8]);
        hasher.update(payload.as_bytes());
        assert_eq!(event.leaf_hash, <[u8; 32]>::from(hasher.finalize()));
    }
    let ids: std::collections::HashSet<_> = events.iter().chain(&others).map(|e| &e.id).collect();
    assert_eq!(ids.len(), 5, "every event has its own id");
    server.stop().await;
}

/// Keys of every object are sorted (RFC 8785 sorts by UTF-16 units; these are all ASCII).
fn assert_canonical(value: &Value) {
    match value {
        Value::Object(map) => {
            let keys: Vec<_> = map.keys().cloned().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
            map.values().for_each(assert_canonical);
        }
        Value::Array(items) => items.iter().for_each(assert_canonical),
        _ => {}
    }
}

#[tokio::test]
async fn occurred_at_with_offset_or_without_one_is_stored_as_utc() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();
    let cases = [
        ("2026-02-02T18:35:39.317+02:00", "2026-02-02T16:35:39.317Z"),
        ("2026-02-02T16:35:39.317", "2026-02-02T16:35:39.317Z"),
        ("2026-02-02T16:35:39Z", "2026-02-02T16:35:39.000Z"),
        (
            "2026-02-02T11:35:39.123456-05:00",
            "2026-02-02T16:35:39.123456Z",
        ),
    ];
    for (sent, _) in cases {
        let response = client
            .audit_logs()
            .create_event(sdk_event(&org, sent))
            .await
            .unwrap_or_else(|e| panic!("{sent}: {e}"));
        assert!(response.success);
    }
    let events = server.stored_events(ENV, &org).await;
    assert_eq!(events.len(), cases.len());
    for (event, (sent, expected)) in events.iter().zip(cases) {
        let payload: Value = serde_json::from_str(event.payload.as_deref().unwrap()).unwrap();
        assert_eq!(payload["occurred_at"], expected, "sent {sent}");
        let micros = chrono::DateTime::parse_from_rfc3339(expected)
            .unwrap()
            .timestamp_micros();
        assert_eq!(event.occurred_at, micros, "sent {sent}");
    }
    server.stop().await;
}

/// Sets (or with `None` removes) the member at JSON `pointer`; `""` replaces the whole body.
fn edit(body: &mut Value, pointer: &str, value: Option<Value>) {
    if pointer.is_empty() {
        *body = value.unwrap_or(Value::Null);
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (parent, value) {
        (Value::Object(map), Some(value)) => drop(map.insert(key.to_string(), value)),
        (Value::Object(map), None) => drop(map.remove(key)),
        (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("cannot edit {pointer}"),
    }
}

/// Posts a valid body with one edit and expects a 422 naming `(field, code)`.
async fn expect_422(
    server: &TestServer,
    org: &str,
    pointer: &str,
    value: Option<Value>,
    field: &str,
    code: &str,
) {
    let mut body = event_body(org);
    edit(&mut body, pointer, value);
    let (status, response) = post_event(server, &body).await;
    assert_eq!(status, 422, "{pointer} -> ({field}, {code}): {response}");
    assert_eq!(response["message"], "Validation failed.");
    assert_eq!(response["code"], "validation_failed");
    let errors = field_errors(&response);
    assert!(
        errors.contains(&(field.to_string(), code.to_string())),
        "{pointer}: expected ({field}, {code}) in {errors:?}"
    );
}

#[tokio::test]
async fn every_missing_or_ill_typed_field_is_a_422_naming_the_field() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let many_targets = json!(vec![json!({"id": "t", "type": "x"}); 101]);
    #[rustfmt::skip]
    let cases: Vec<(&str, Option<Value>, &str, &str)> = vec![
        ("/organization_id", None, "organization_id", "required"),
        ("/organization_id", Some(json!(5)), "organization_id", "invalid_type"),
        ("/organization_id", Some(json!("")), "organization_id", "required"),
        ("/event", None, "event", "required"),
        ("/event", Some(json!("user.signed_in")), "event", "invalid_type"),
        ("/event/action", None, "event.action", "required"),
        ("/event/action", Some(json!("")), "event.action", "required"),
        ("/event/action", Some(json!(null)), "event.action", "required"),
        ("/event/action", Some(json!(7)), "event.action", "invalid_type"),
        ("/event/action", Some(json!("a".repeat(1001))), "event.action", "too_long"),
        ("/event/occurred_at", None, "event.occurred_at", "required"),
        ("/event/occurred_at", Some(json!(1_770_050_139)), "event.occurred_at", "invalid_type"),
        ("/event/occurred_at", Some(json!("last tuesday")), "event.occurred_at", "invalid_date"),
        ("/event/occurred_at", Some(json!("2026-02-30T00:00:00Z")), "event.occurred_at", "invalid_date"),
        ("/event/occurred_at", Some(json!("2026-02-02")), "event.occurred_at", "invalid_date"),
        ("/event/version", Some(json!(0)), "event.version", "invalid_value"),
        ("/event/version", Some(json!(-1)), "event.version", "invalid_value"),
        ("/event/version", Some(json!(1.5)), "event.version", "invalid_value"),
        ("/event/version", Some(json!("1")), "event.version", "invalid_type"),
        ("/event/actor", None, "event.actor", "required"),
        ("/event/actor", Some(json!("user_1")), "event.actor", "invalid_type"),
        ("/event/actor/id", None, "event.actor.id", "required"),
        ("/event/actor/type", None, "event.actor.type", "required"),
        ("/event/actor/id", Some(json!(1)), "event.actor.id", "invalid_type"),
        ("/event/actor/name", Some(json!(false)), "event.actor.name", "invalid_type"),
        ("/event/targets", None, "event.targets", "required"),
        ("/event/targets", Some(json!({"id": "t", "type": "team"})), "event.targets", "invalid_type"),
        ("/event/targets", Some(json!("team_1")), "event.targets", "invalid_type"),
        ("/event/targets", Some(json!([1])), "event.targets.0", "invalid_type"),
        ("/event/targets", Some(many_targets), "event.targets", "too_many_items"),
        ("/event/targets/0/id", None, "event.targets.0.id", "required"),
        ("/event/targets/0/type", Some(json!(3)), "event.targets.0.type", "invalid_type"),
        ("/event/context", None, "event.context", "required"),
        ("/event/context", Some(json!([])), "event.context", "invalid_type"),
        ("/event/context/location", None, "event.context.location", "required"),
        ("/event/context/location", Some(json!(1)), "event.context.location", "invalid_type"),
        ("/event/context/user_agent", Some(json!(1)), "event.context.user_agent", "invalid_type"),
        ("", Some(json!([1])), "body", "invalid_type"),
    ];
    for (pointer, value, field, code) in cases {
        expect_422(&server, &org, pointer, value, field, code).await;
    }
    assert_eq!(server.count_events(&org).await, 0, "a 422 stores nothing");
    server.stop().await;
}

#[tokio::test]
async fn metadata_limits_apply_to_event_actor_and_target_metadata() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let keys = |n: usize| -> Value {
        Value::Object(
            (0..n)
                .map(|i| (format!("k{i}"), json!(i)))
                .collect::<Map<_, _>>(),
        )
    };
    for (pointer, field) in [
        ("/event/metadata", "event.metadata"),
        ("/event/actor/metadata", "event.actor.metadata"),
        ("/event/targets/0/metadata", "event.targets.0.metadata"),
    ] {
        let long_key = "k".repeat(41);
        #[rustfmt::skip]
        let cases: Vec<(Value, String, &str)> = vec![
            (keys(51), field.to_string(), "too_many_keys"),
            (json!({"bad key": 1}), format!("{field}.bad key"), "invalid_key"),
            (json!({"é": 1}), format!("{field}.é"), "invalid_key"),
            (json!({ long_key.clone(): 1 }), format!("{field}.{long_key}"), "invalid_key"),
            (json!({"v": "x".repeat(501)}), format!("{field}.v"), "value_too_long"),
            (json!({"o": {"nested": true}}), format!("{field}.o"), "invalid_value"),
            (json!({"n": null}), format!("{field}.n"), "invalid_value"),
            (json!({"a": [1]}), format!("{field}.a"), "invalid_value"),
            (json!("owner"), field.to_string(), "invalid_type"),
            (json!([1]), field.to_string(), "invalid_type"),
        ];
        for (value, expected_field, code) in cases {
            expect_422(&server, &org, pointer, Some(value), &expected_field, code).await;
        }
    }
    assert_eq!(server.count_events(&org).await, 0);

    // The limits themselves are accepted: 50 keys of 40 characters with 500-character values,
    // an empty key, numbers and booleans, and 500 two-byte characters.
    let mut at_limit = Map::new();
    for i in 0..47 {
        at_limit.insert(format!("{i:0>40}"), json!("x".repeat(500)));
    }
    at_limit.insert(String::new(), json!(1.5));
    at_limit.insert("flag".into(), json!(false));
    at_limit.insert("accents".into(), json!("é".repeat(500)));
    assert_eq!(at_limit.len(), 50);
    let mut body = event_body(&org);
    for pointer in [
        "/event/metadata",
        "/event/actor/metadata",
        "/event/targets/0/metadata",
    ] {
        edit(&mut body, pointer, Some(Value::Object(at_limit.clone())));
    }
    let (status, response) = post_event(&server, &body).await;
    assert_eq!((status, response), (200, json!({"success": true})));
    let events = server.stored_events(ENV, &org).await;
    let payload: Value = serde_json::from_str(events[0].payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["metadata"].as_object().unwrap().len(), 50);
    assert_eq!(payload["actor"]["metadata"]["accents"], "é".repeat(500));
    assert_eq!(payload["targets"][0]["metadata"]["flag"], false);
    server.stop().await;
}

#[tokio::test]
async fn boundaries_that_are_accepted() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let accepted: Vec<(&str, Value)> = vec![
        ("/event/targets", json!([])),
        (
            "/event/targets",
            json!(vec![json!({"id": "t", "type": "x"}); 100]),
        ),
        ("/event/version", json!(2)),
        ("/event/metadata", json!(null)),
        ("/event/action", json!("a".repeat(1000))),
    ];
    for (i, (pointer, value)) in accepted.into_iter().enumerate() {
        let mut body = event_body(&org);
        edit(&mut body, pointer, Some(value));
        let (status, response) = post_event(&server, &body).await;
        assert_eq!(
            (status, response),
            (200, json!({"success": true})),
            "{pointer}"
        );
        assert_eq!(server.count_events(&org).await, i + 1);
    }
    server.stop().await;
}

#[tokio::test]
async fn an_integral_version_written_as_a_float_is_accepted() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let mut body = event_body(&org);
    body["event"]["version"] = json!(2.0);
    let (status, response) = post_event(&server, &body).await;
    assert_eq!((status, response), (200, json!({"success": true})));
    let events = server.stored_events(ENV, &org).await;
    let payload: Value = serde_json::from_str(events[0].payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["version"], 2);
    server.stop().await;
}

#[tokio::test]
async fn unknown_or_deleted_organization_is_404_with_the_workos_message() {
    let server = TestServer::start().await;
    let missing = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    let (status, body) = post_event(&server, &event_body(missing)).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        format!("Organization not found: '{missing}'.")
    );
    assert_eq!(server.count_events(missing).await, 0);

    let org = server.create_org("Doomed").await;
    let (status, _) = post_event(&server, &event_body(&org)).await;
    assert_eq!(status, 200);
    let deleted = server
        .delete(&format!("/organizations/{org}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, body) = post_event(&server, &event_body(&org)).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], format!("Organization not found: '{org}'."));
    // The event accepted before the deletion is kept; nothing was added after it.
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

/// Sends raw bytes with a content type and returns status and JSON body.
async fn post_raw(server: &TestServer, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = server.post("/audit_logs/events").body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_json_with_request_id(&response);
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn malformed_bodies_and_content_types_are_json_4xx_that_store_nothing() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let json_type = Some("application/json");

    let (status, body) = post_raw(&server, json_type, br#"{"organization_id": "#.to_vec()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_json")),
        "{body}"
    );
    assert!(body["message"].is_string());

    // Valid JSON structure, but a string holding bytes that are not UTF-8.
    let mut invalid_utf8 = br#"{"organization_id": ""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
    let (status, body) = post_raw(&server, json_type, invalid_utf8).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_json")),
        "{body}"
    );

    let valid = serde_json::to_vec(&event_body(&org)).unwrap();
    let (status, body) = post_raw(&server, Some("text/plain"), valid.clone()).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["code"], "unsupported_media_type");
    let (status, _) = post_raw(
        &server,
        Some("application/x-www-form-urlencoded"),
        valid.clone(),
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(server.count_events(&org).await, 0, "4xx stores nothing");

    // JSON content types with parameters or a +json suffix, and no content type at all, are fine.
    for content_type in [
        Some("application/json; charset=utf-8"),
        Some("application/vnd.api+json"),
        None,
    ] {
        let (status, body) = post_raw(&server, content_type, valid.clone()).await;
        assert_eq!(
            (status, body),
            (200, json!({"success": true})),
            "{content_type:?}"
        );
    }
    assert_eq!(server.count_events(&org).await, 3);
    server.stop().await;
}

/// A valid event body padded with whitespace to exactly `size` bytes.
fn padded_event(org: &str, size: usize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&event_body(org)).unwrap();
    assert!(bytes.len() <= size);
    bytes.resize(size, b' ');
    bytes
}

#[tokio::test]
async fn bodies_over_the_configured_limit_are_413() {
    let limit = 2048;
    let server = TestServer::start_with(|config| config.limits.max_body_bytes = limit).await;
    let org = server.create_org("Acme").await;
    let json_type = Some("application/json");
    let (status, body) = post_raw(&server, json_type, padded_event(&org, limit)).await;
    assert_eq!(
        (status, body),
        (200, json!({"success": true})),
        "exactly at the limit"
    );
    let (status, body) = post_raw(&server, json_type, padded_event(&org, limit + 1)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    // Also when the idempotency layer reads the body first.
    let response = server
        .post("/audit_logs/events")
        .header(CONTENT_TYPE, "application/json")
        .header("idempotency-key", "too-big")
        .body(padded_event(&org, 10 * limit))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_json_with_request_id(&response);
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_limit_above_two_mebibytes_is_honoured() {
    // axum's own default body limit is 2 MiB; the configured limit must win over it.
    let server =
        TestServer::start_with(|config| config.limits.max_body_bytes = 4 * 1024 * 1024).await;
    let org = server.create_org("Acme").await;
    let (status, body) = post_raw(
        &server,
        Some("application/json"),
        padded_event(&org, 3 * 1024 * 1024),
    )
    .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn sdk_maps_422_and_404_to_api_errors() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();

    let error = client
        .audit_logs()
        .create_event(sdk_event(&org, "not a date"))
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status, 422);
    assert_eq!(api.code.as_deref(), Some("validation_failed"));
    assert_eq!(api.message, "Validation failed.");
    assert!(api
        .request_id
        .as_deref()
        .is_some_and(|id| id.starts_with("req_")));
    let raw: Value = serde_json::from_slice(&api.raw_body).unwrap();
    assert_eq!(
        field_errors(&raw),
        [("event.occurred_at".to_string(), "invalid_date".to_string())]
    );

    let missing = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    let error = client
        .audit_logs()
        .create_event(sdk_event(missing, "2026-02-02T16:35:39.317Z"))
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.message, format!("Organization not found: '{missing}'."));
    assert!(api.request_id.is_some());
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn every_error_is_reported_at_once() {
    let server = TestServer::start().await;
    let body = json!({
        "organization_id": 1,
        "event": {
            "action": "",
            "occurred_at": "soon",
            "version": 0,
            "actor": {"id": "u"},
            "targets": [{"type": "team"}],
            "context": {},
            "metadata": {"bad key": {}}
        }
    });
    let (status, response) = post_event(&server, &body).await;
    assert_eq!(status, 422);
    let mut errors = field_errors(&response);
    errors.sort();
    #[rustfmt::skip]
    let mut expected: Vec<(String, String)> = [
        ("organization_id", "invalid_type"), ("event.action", "required"),
        ("event.occurred_at", "invalid_date"), ("event.version", "invalid_value"),
        ("event.actor.type", "required"), ("event.targets.0.id", "required"),
        ("event.context.location", "required"), ("event.metadata.bad key", "invalid_key"),
        ("event.metadata.bad key", "invalid_value"),
    ].iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
    expected.sort();
    assert_eq!(errors, expected);
    for error in response["errors"].as_array().unwrap() {
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    server.stop().await;
}
