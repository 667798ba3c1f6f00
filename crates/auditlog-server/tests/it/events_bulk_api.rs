//! `POST /audit_logs/events/bulk` (extension): JSON arrays and NDJSON stored all or nothing in
//! request order, every item's errors at once with its index, idempotent replay, the
//! transport errors, and the bulk's events in the read API and the organization's log.

use crate::common;
use crate::tlog_support::{get_json, hash_of};

use common::{assert_json_with_request_id, event_body, field_errors, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

const PATH: &str = "/audit_logs/events/bulk";

struct Answer {
    status: u16,
    replayed: bool,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.bytes)))
    }
}

async fn post_raw(
    server: &TestServer,
    content_type: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = server
        .post(PATH)
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    assert_json_with_request_id(&response);
    Answer {
        status: response.status().as_u16(),
        replayed: response.headers().get("idempotent-replayed").is_some(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

async fn post_array(server: &TestServer, items: &[Value]) -> Answer {
    post_raw(
        server,
        "application/json",
        None,
        serde_json::to_vec(items).unwrap(),
    )
    .await
}

fn ndjson(items: &[Value]) -> Vec<u8> {
    items
        .iter()
        .map(|item| serde_json::to_string(item).unwrap() + "\n")
        .collect::<String>()
        .into_bytes()
}

/// A valid item for `org`, marked `marker` (in its metadata).
fn item(org: &str, marker: &str) -> Value {
    let mut body = event_body(org);
    body["event"]["metadata"] = json!({ "marker": marker });
    body
}

/// Markers and sequence numbers of `org`'s events, read through the list API in order.
async fn listed(server: &TestServer, org: &str) -> Vec<(String, i64)> {
    let (status, page) = get_json(
        server,
        &format!("/audit_logs/events?organization_id={org}&order=asc&limit=100"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["metadata"]["marker"].as_str().unwrap_or("").to_string(),
                e["sequence"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_json_array_is_stored_in_request_order_with_consecutive_sequences() {
    let server = TestServer::start().await;
    let (a, b) = (server.create_org("A").await, server.create_org("B").await);
    // A single event first: the bulk continues A's numbers.
    let first = post_array(&server, &[item(&a, "single")]).await;
    assert_eq!(first.status, 200);
    let items: Vec<Value> = (0..10)
        .map(|n| item(if n % 3 == 1 { &b } else { &a }, &format!("m{n}")))
        .collect();
    let answer = post_array(&server, &items).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    assert_eq!(answer.bytes, br#"{"success":true,"count":10}"#);
    assert_eq!(
        listed(&server, &a).await,
        [
            ("single", 0),
            ("m0", 1),
            ("m2", 2),
            ("m3", 3),
            ("m5", 4),
            ("m6", 5),
            ("m8", 6),
            ("m9", 7)
        ]
        .map(|(m, s)| (m.to_string(), s))
    );
    assert_eq!(
        listed(&server, &b).await,
        [("m1", 0), ("m4", 1), ("m7", 2)].map(|(m, s)| (m.to_string(), s))
    );
    // Stored exactly as a single event is: canonical payload and its leaf hash.
    let stored = server.stored_events("default", &b).await;
    let payload: Value = serde_json::from_str(stored[0].payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["id"], stored[0].id.as_str());
    assert_eq!(payload["metadata"], json!({"marker": "m1"}));
    server.stop().await;
}

#[tokio::test]
async fn ndjson_and_jsonl_are_stored_the_same_way() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let items: Vec<Value> = (0..5).map(|n| item(&org, &format!("n{n}"))).collect();
    // Blank lines and CRLF line ends are fine; the last line needs no newline.
    let mut body = b"\n".to_vec();
    body.extend(ndjson(&items[..3]).iter().flat_map(|&byte| {
        if byte == b'\n' {
            vec![b'\r', b'\n', b' ', b'\n']
        } else {
            vec![byte]
        }
    }));
    body.extend(serde_json::to_vec(&items[3]).unwrap());
    let answer = post_raw(&server, "application/x-ndjson", None, body).await;
    assert_eq!(answer.status, 200, "{}", answer.json());
    assert_eq!(answer.json(), json!({"success": true, "count": 4}));
    let answer = post_raw(
        &server,
        "application/jsonl; charset=utf-8",
        None,
        ndjson(&items[4..]),
    )
    .await;
    assert_eq!(answer.json(), json!({"success": true, "count": 1}));
    let expected: Vec<(String, i64)> = (0..5).map(|n| (format!("n{n}"), n)).collect();
    assert_eq!(listed(&server, &org).await, expected);
    server.stop().await;
}

#[tokio::test]
async fn invalid_items_are_a_422_naming_each_index_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let mut items: Vec<Value> = (0..50).map(|n| item(&org, &format!("{n}"))).collect();
    items[17]["event"]["actor"]
        .as_object_mut()
        .unwrap()
        .remove("id");
    items[30]["event"]["occurred_at"] = json!("yesterday");
    items[41] = json!("not an object");
    for body in [serde_json::to_vec(&items).unwrap(), ndjson(&items)] {
        let content_type = if body[0] == b'[' {
            "application/json"
        } else {
            "application/x-ndjson"
        };
        let answer = post_raw(&server, content_type, None, body).await;
        assert_eq!(answer.status, 422, "{}", answer.json());
        let body = answer.json();
        assert_eq!(body["code"], "validation_failed");
        let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["17.event.actor.id", "30.event.occurred_at", "41"],
            "{body}"
        );
    }
    assert_eq!(server.count_events(&org).await, 0);

    // U+0000 anywhere is refused as for single events, named by item index too.
    let mut items: Vec<Value> = (0..3).map(|n| item(&org, &format!("{n}"))).collect();
    items[1]["event"]["actor"]["name"] = json!("a\u{0}b");
    for (content_type, body) in [
        ("application/json", serde_json::to_vec(&items).unwrap()),
        ("application/x-ndjson", ndjson(&items)),
    ] {
        let answer = post_raw(&server, content_type, None, body).await;
        assert_eq!(answer.status, 422);
        assert_eq!(
            field_errors(&answer.json()),
            [("1.event.actor.name".to_string(), "invalid".to_string())]
        );
    }
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_schema_violation_in_one_item_refuses_the_bulk() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let response = server
        .post("/audit_logs/actions/doc.viewed/schemas")
        .json(&json!({"targets": [{"type": "document"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let viewed = |target_type: &str| {
        let mut body = item(&org, "x");
        body["event"]["action"] = json!("doc.viewed");
        body["event"]["targets"] = json!([{"id": "t1", "type": target_type}]);
        body
    };
    let mut items: Vec<Value> = (0..6).map(|_| viewed("document")).collect();
    items[0] = item(&org, "no schema: accepted");
    items[3] = viewed("team");
    let answer = post_array(&server, &items).await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["code"], "invalid_audit_log_event", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Event 3"),
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["instancePath"], "/3/event/targets");
    assert_eq!(errors[0]["keyword"], "contains");
    assert_eq!(server.count_events(&org).await, 0);

    items[3] = viewed("document");
    let answer = post_array(&server, &items).await;
    assert_eq!(answer.json(), json!({"success": true, "count": 6}));
    server.stop().await;
}

#[tokio::test]
async fn empty_and_oversized_bulks_are_422() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let many: Vec<Value> = (0..1001).map(|n| item(&org, &format!("{n}"))).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("application/json", b"[]".to_vec(), "required"),
        ("application/x-ndjson", b"\n\n".to_vec(), "required"),
        ("application/x-ndjson", Vec::new(), "required"),
        (
            "application/json",
            serde_json::to_vec(&many).unwrap(),
            "too_many_items",
        ),
        ("application/x-ndjson", ndjson(&many), "too_many_items"),
        ("application/json", b"{}".to_vec(), "invalid_type"),
    ];
    for (content_type, body, code) in cases {
        let answer = post_raw(&server, content_type, None, body).await;
        assert_eq!(answer.status, 422);
        assert_eq!(
            field_errors(&answer.json()),
            [("body".to_string(), code.to_string())]
        );
    }
    assert_eq!(server.count_events(&org).await, 0);
    // Exactly 1,000 is fine.
    let answer = post_array(&server, &many[..1000]).await;
    assert_eq!(answer.json(), json!({"success": true, "count": 1000}));
    assert_eq!(server.count_events(&org).await, 1000);
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_or_deleted_organization_is_404_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let gone = server.create_org("Gone").await;
    let response = server
        .delete(&format!("/organizations/{gone}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let unknown = "org_01AAAAAAAAAAAAAAAAAAAAAAAA";
    for missing in [unknown, gone.as_str()] {
        let items = [item(&org, "0"), item(missing, "1"), item(&org, "2")];
        let answer = post_array(&server, &items).await;
        assert_eq!(answer.status, 404);
        assert_eq!(
            answer.json(),
            json!({"message": format!("Organization not found: '{missing}'."), "code": "not_found"})
        );
    }
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn one_idempotency_key_replays_the_bulk_and_stores_it_once() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let items: Vec<Value> = (0..3).map(|n| item(&org, &format!("{n}"))).collect();
    let body = ndjson(&items);
    let first = post_raw(
        &server,
        "application/x-ndjson",
        Some("bulk-1"),
        body.clone(),
    )
    .await;
    assert_eq!((first.status, first.replayed), (200, false));
    let again = post_raw(&server, "application/x-ndjson", Some("bulk-1"), body).await;
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(again.bytes, first.bytes, "byte-identical replay");
    assert_eq!(server.count_events(&org).await, 3);
    // The same events as a JSON array, spaced and ordered otherwise: the same request.
    let array = serde_json::to_vec_pretty(&items).unwrap();
    let again = post_raw(&server, "application/json", Some("bulk-1"), array).await;
    assert_eq!((again.status, again.replayed), (200, true));
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(server.count_events(&org).await, 3);

    // The same key with another bulk is a conflict; nothing more is stored.
    let other = ndjson(&items[..2]);
    let conflict = post_raw(&server, "application/x-ndjson", Some("bulk-1"), other).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.json()["code"], "idempotency_key_reused");
    assert_eq!(server.count_events(&org).await, 3);

    // A refused bulk's answer is kept for its key too, as for single events.
    let refused = ndjson(&[item("org_01AAAAAAAAAAAAAAAAAAAAAAAA", "x")]);
    let first = post_raw(
        &server,
        "application/x-ndjson",
        Some("bulk-2"),
        refused.clone(),
    )
    .await;
    assert_eq!(first.status, 404);
    let again = post_raw(&server, "application/x-ndjson", Some("bulk-2"), refused).await;
    assert_eq!(
        (again.status, again.replayed, again.bytes),
        (404, true, first.bytes)
    );
    server.stop().await;
}

#[tokio::test]
async fn transport_errors_are_json_4xx() {
    let server = TestServer::start_with(|c| {
        // Below a bulk of 20 events: the single-event limit does not apply to the bulk route.
        c.limits.max_body_bytes = 2048;
        c.limits.max_bulk_body_bytes = 64 * 1024;
    })
    .await;
    let org = server.create_org("Acme").await;
    let items: Vec<Value> = (0..20).map(|n| item(&org, &format!("{n}"))).collect();
    let body = ndjson(&items);
    assert!(body.len() > 2048);
    for key in [None, Some("under-the-bulk-limit")] {
        let answer = post_raw(&server, "application/x-ndjson", key, body.clone()).await;
        assert_eq!(answer.status, 200, "{}", answer.json());
    }

    let big: Vec<Value> = (0..400).map(|n| item(&org, &format!("{n}"))).collect();
    let big = ndjson(&big);
    assert!(big.len() > 64 * 1024);
    for key in [None, Some("over-the-bulk-limit")] {
        let answer = post_raw(&server, "application/x-ndjson", key, big.clone()).await;
        assert_eq!(answer.status, 413);
        assert_eq!(answer.json()["code"], "payload_too_large");
    }

    let answer = post_raw(&server, "text/plain", None, body.clone()).await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.json()["code"], "unsupported_media_type");

    let answer = post_raw(
        &server,
        "application/x-ndjson",
        None,
        b"{\"organization_id\":1}\n\n{oops}\n".to_vec(),
    )
    .await;
    assert_eq!(answer.status, 400);
    let message = answer.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("line 3"), "{message}");
    let answer = post_raw(&server, "application/json", None, b"[{".to_vec()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["code"], "invalid_json");

    assert_eq!(server.count_events(&org).await, 40);
    server.stop().await;
}

#[tokio::test]
async fn bulk_events_enter_the_organizations_log() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    let items: Vec<Value> = (0..30).map(|n| item(&org, &format!("{n}"))).collect();
    assert_eq!(post_array(&server, &items).await.status, 200);
    let stored = server.stored_events("default", &org).await;
    assert_eq!(
        stored.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (0..30).collect::<Vec<i64>>()
    );
    for _ in 0..100 {
        let (status, checkpoint) =
            get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
        if status == 200 && checkpoint["tree_size"] == 30 {
            // The last event's inclusion proof is served: it is the log's leaf 29.
            let (status, proof) = get_json(
                &server,
                &format!(
                    "/audit_logs/events/{}/inclusion_proof?tree_size=30",
                    stored[29].id
                ),
            )
            .await;
            assert_eq!(status, 200, "{proof}");
            assert_eq!(proof["leaf_index"], 29);
            assert_eq!(hash_of(&proof["leaf_hash"]), stored[29].leaf_hash);
            server.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of 30 leaves within 10 s");
}

#[tokio::test]
async fn bulks_beyond_the_concurrency_limit_wait_their_turn() {
    let server = TestServer::start_with(|c| c.limits.bulk_concurrency = 1).await;
    let org = server.create_org("Acme").await;
    let requests = (0..4).map(|n| {
        let items: Vec<Value> = (0..50).map(|i| item(&org, &format!("{n}-{i}"))).collect();
        let key = (n % 2 == 0).then(|| format!("concurrent-{n}"));
        let server = &server;
        async move {
            post_raw(
                server,
                "application/x-ndjson",
                key.as_deref(),
                ndjson(&items),
            )
            .await
        }
    });
    for answer in futures::future::join_all(requests).await {
        assert_eq!(answer.json(), json!({"success": true, "count": 50}));
    }
    // Each bulk's events are consecutive (its own transaction).
    let listed = server.stored_events("default", &org).await;
    assert_eq!(listed.len(), 200);
    for chunk in listed.chunks(50) {
        let payload = |e: &auditlog_store::StoredEvent| -> String {
            let value: Value = serde_json::from_str(e.payload.as_deref().unwrap()).unwrap();
            value["metadata"]["marker"]
                .as_str()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_string()
        };
        let first = payload(&chunk[0]);
        assert!(
            chunk.iter().all(|e| payload(e) == first),
            "one bulk per 50 numbers"
        );
    }
    server.stop().await;
}
