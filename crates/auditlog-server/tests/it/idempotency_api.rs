//! `Idempotency-Key` on POSTs: replays, conflicts, scoping per environment, concurrency.

use crate::common;

use common::{assert_json_with_request_id, event_body, sdk_event, TestServer};
use serde_json::{json, Value};
use workos::RequestOptions;

const REPLAYED: &str = "idempotent-replayed";

struct Answer {
    status: u16,
    replayed: bool,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap()
    }
}

/// POSTs `body` to `path` with the given API key and idempotency key.
async fn post(server: &TestServer, api_key: &str, path: &str, key: &str, body: &Value) -> Answer {
    let response = server
        .http
        .post(server.url(path))
        .bearer_auth(api_key)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_json_with_request_id(&response);
    let replayed = match response.headers().get(REPLAYED) {
        None => false,
        Some(value) => {
            assert_eq!(value, "true");
            true
        }
    };
    Answer {
        status: response.status().as_u16(),
        replayed,
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

#[tokio::test]
async fn same_key_twice_replays_the_same_answer_and_stores_once() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = event_body(&org);
    let first = post(&server, &server.key, "/audit_logs/events", "key-1", &body).await;
    assert_eq!((first.status, first.replayed), (200, false));
    assert_eq!(first.json(), json!({"success": true}));
    let second = post(&server, &server.key, "/audit_logs/events", "key-1", &body).await;
    assert_eq!((second.status, second.replayed), (200, true));
    assert_eq!(second.bytes, first.bytes, "byte-identical replay");
    assert_eq!(server.count_events(&org).await, 1);

    // Without a key, the same body is simply another event.
    for _ in 0..2 {
        let response = server
            .post("/audit_logs/events")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get(REPLAYED).is_none());
    }
    assert_eq!(server.count_events(&org).await, 3);
    server.stop().await;
}

#[tokio::test]
async fn sdk_retry_with_the_same_idempotency_key_stores_one_event() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();
    let options = RequestOptions::new().idempotency_key("0b6e8a4e-6d55-4b43-9a6c-2f7c1d1a9e01");
    // The same parameters value sent again, as an application retry would.
    let params = sdk_event(&org, "2026-02-02T16:35:39.317Z");
    for _ in 0..3 {
        let response = client
            .audit_logs()
            .create_event_with_options(params.clone(), Some(&options))
            .await
            .unwrap();
        assert!(response.success);
    }
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn sdk_rebuilt_request_with_the_same_key_replays() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();
    let options = RequestOptions::new().idempotency_key("5f0c3c1e-2f7a-4d8e-9b1a-7e3c2d1f0a99");
    // Each call builds its parameters anew; the SDK's metadata is a HashMap, so the key order
    // of the serialized body differs from call to call.
    for attempt in 0..5 {
        let result = client
            .audit_logs()
            .create_event_with_options(sdk_event(&org, "2026-02-02T16:35:39.317Z"), Some(&options))
            .await;
        assert!(result.is_ok(), "attempt {attempt}: {result:?}");
    }
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn same_json_in_another_key_order_or_spacing_replays() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let compact = serde_json::to_string(&event_body(&org)).unwrap();
    let pretty = serde_json::to_string_pretty(&event_body(&org)).unwrap();
    let reordered = format!(
        r#"{{"event":{},"organization_id":"{org}"}}"#,
        serde_json::to_string(&event_body(&org)["event"]).unwrap()
    );
    let mut answers = Vec::new();
    for text in [compact, pretty, reordered] {
        let response = server
            .post("/audit_logs/events")
            .header("content-type", "application/json")
            .header("idempotency-key", "same-json")
            .body(text)
            .send()
            .await
            .unwrap();
        answers.push(response.status().as_u16());
    }
    assert_eq!(answers, [200, 200, 200]);
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn same_key_with_another_request_is_a_409() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = event_body(&org);
    let first = post(&server, &server.key, "/audit_logs/events", "key-1", &body).await;
    assert_eq!(first.status, 200);

    let mut changed = body.clone();
    changed["event"]["action"] = json!("user.signed_out");
    let conflict = post(
        &server,
        &server.key,
        "/audit_logs/events",
        "key-1",
        &changed,
    )
    .await;
    assert_eq!((conflict.status, conflict.replayed), (409, false));
    assert_eq!(conflict.json()["code"], "idempotency_key_reused");
    assert!(conflict.json()["message"].is_string());

    // The same key on another endpoint is another request too.
    let elsewhere = post(
        &server,
        &server.key,
        "/organizations",
        "key-1",
        &json!({"name": "X"}),
    )
    .await;
    assert_eq!(elsewhere.status, 409);
    assert_eq!(elsewhere.json()["code"], "idempotency_key_reused");

    // The original request still replays, and only one event exists.
    let again = post(&server, &server.key, "/audit_logs/events", "key-1", &body).await;
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(server.count_events(&org).await, 1);
    let events = server.stored_events("default", &org).await;
    assert_eq!(events[0].action, "user.signed_in");
    server.stop().await;
}

#[tokio::test]
async fn keys_are_scoped_per_environment() {
    let server = TestServer::start().await;
    let other_key = server.key_for_environment("other").await;
    let org = server.create_org("Acme").await;
    let created = post(
        &server,
        &other_key,
        "/organizations",
        "org-key",
        &json!({"name": "O"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let other_org = created.json()["id"].as_str().unwrap().to_string();

    let first = post(
        &server,
        &server.key,
        "/audit_logs/events",
        "shared",
        &event_body(&org),
    )
    .await;
    assert_eq!((first.status, first.replayed), (200, false));
    // Another environment with the same key and another body: independent, not a 409.
    let body = event_body(&other_org);
    let other = post(&server, &other_key, "/audit_logs/events", "shared", &body).await;
    assert_eq!((other.status, other.replayed), (200, false));
    let replay = post(&server, &other_key, "/audit_logs/events", "shared", &body).await;
    assert_eq!((replay.status, replay.replayed), (200, true));

    assert_eq!(server.count_events(&org).await, 1);
    assert_eq!(server.stored_events("other", &other_org).await.len(), 1);
    // The "org-key" used in "other" is free in the default environment.
    let mine = post(
        &server,
        &server.key,
        "/organizations",
        "org-key",
        &json!({"name": "O"}),
    )
    .await;
    assert_eq!((mine.status, mine.replayed), (201, false));
    assert_ne!(mine.json()["id"], other_org.as_str());
    server.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_store_one_event() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = event_body(&org);
    let answers = futures::future::join_all(
        (0..20).map(|_| post(&server, &server.key, "/audit_logs/events", "race", &body)),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json(), json!({"success": true}));
    }
    let fresh = answers.iter().filter(|a| !a.replayed).count();
    assert_eq!(fresh, 1, "exactly one request did the work");
    assert_eq!(server.count_events(&org).await, 1);
    assert_eq!(server.stored_events("default", &org).await[0].sequence, 0);
    server.stop().await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_and_different_bodies_store_one_event() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| {
            let mut body = event_body(&org);
            body["event"]["actor"]["id"] = json!(format!("user_{i}"));
            body
        })
        .collect();
    let answers = futures::future::join_all(
        bodies
            .iter()
            .map(|body| post(&server, &server.key, "/audit_logs/events", "race", body)),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn idempotent_organization_create_replays_the_same_organization() {
    let server = TestServer::start().await;
    let body = json!({"name": "Acme", "external_id": "ext-1"});
    let first = post(&server, &server.key, "/organizations", "org-1", &body).await;
    assert_eq!((first.status, first.replayed), (201, false));
    let second = post(&server, &server.key, "/organizations", "org-1", &body).await;
    assert_eq!((second.status, second.replayed), (201, true));
    assert_eq!(second.bytes, first.bytes);
    let id = first.json()["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("org_"));

    let list: Value = server
        .get("/organizations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()], "one organization was created");
    server.stop().await;
}

#[tokio::test]
async fn concurrent_organization_creates_with_one_key_create_one_organization() {
    let server = TestServer::start().await;
    let body = json!({"name": "Acme"});
    let answers = futures::future::join_all(
        (0..20).map(|_| post(&server, &server.key, "/organizations", "org-race", &body)),
    )
    .await;
    assert!(answers.iter().all(|a| a.status == 201));
    assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| a.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "every answer names the same organization");
    let list: Value = server
        .get("/organizations?limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn client_errors_are_replayed_too() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let mut invalid = event_body(&org);
    invalid["event"]["action"] = json!("");
    let first = post(&server, &server.key, "/audit_logs/events", "bad", &invalid).await;
    assert_eq!((first.status, first.replayed), (422, false));
    let second = post(&server, &server.key, "/audit_logs/events", "bad", &invalid).await;
    assert_eq!((second.status, second.replayed), (422, true));
    assert_eq!(second.bytes, first.bytes);
    assert_eq!(second.json()["errors"][0]["field"], "event.action");

    // A corrected body under the same key is another request.
    let fixed = post(
        &server,
        &server.key,
        "/audit_logs/events",
        "bad",
        &event_body(&org),
    )
    .await;
    assert_eq!(fixed.status, 409);

    let missing = event_body("org_01EHWNCE74X7JSDV0X3SZ3KJNY");
    let first = post(&server, &server.key, "/audit_logs/events", "gone", &missing).await;
    assert_eq!((first.status, first.replayed), (404, false));
    let second = post(&server, &server.key, "/audit_logs/events", "gone", &missing).await;
    assert_eq!((second.status, second.replayed), (404, true));
    assert_eq!(second.bytes, first.bytes);
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn invalid_keys_are_a_400_and_store_nothing() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = event_body(&org);
    for key in ["k".repeat(300), "k".repeat(256), " ".to_string()] {
        let answer = post(&server, &server.key, "/audit_logs/events", &key, &body).await;
        assert_eq!(answer.status, 400, "key of {} chars", key.len());
        assert_eq!(answer.json()["code"], "invalid_idempotency_key");
    }
    assert_eq!(server.count_events(&org).await, 0);
    // 255 characters is the longest key accepted.
    let longest = post(
        &server,
        &server.key,
        "/audit_logs/events",
        &"k".repeat(255),
        &body,
    )
    .await;
    assert_eq!(longest.status, 200);
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn the_key_is_ignored_on_reads_and_updates() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for name in ["First", "Second"] {
        let response = server
            .put(&format!("/organizations/{org}"))
            .header("idempotency-key", "put-key")
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get(REPLAYED).is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["name"], name);
    }
    for _ in 0..2 {
        let response = server
            .get(&format!("/organizations/{org}"))
            .header("idempotency-key", "get-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get(REPLAYED).is_none());
    }
    server.stop().await;
}
