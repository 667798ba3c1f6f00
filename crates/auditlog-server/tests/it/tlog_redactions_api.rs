//! `GET /audit_logs/log/{organization_id}/redactions`: the events the retention sweeper
//! redacted, in sequence order and paged, what they keep, and the 422s and 404s.

use crate::common::{assert_json_with_request_id, field_errors, TestServer};
use crate::tlog_support::{get_json, ingest_aged, sweep_to_retention};
use auditlog_domain::timestamp::{parse_timestamp, to_micros};
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{json, Value};

fn sequences(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {page}"))
        .iter()
        .map(|r| r["sequence"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn redactions_list_what_retention_removed_in_sequence_order() {
    let server = TestServer::start_with(|c| c.jobs.retention_sweep_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    let neighbour = server.create_org("Neighbour").await;
    // Past a 30-day retention: sequences 0, 2 and 4.
    ingest_aged(&server, &org, &[40, 0, 45, 1, 50]).await;
    ingest_aged(&server, &neighbour, &[40]).await;
    sweep_to_retention(&server, &org, 30, 3).await;
    let path = format!("/audit_logs/log/{org}/redactions");

    let (status, page) = get_json(&server, &path).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["object"], "list");
    assert_eq!(sequences(&page), [0, 2, 4]);
    assert_eq!(page["list_metadata"], json!({"last_sequence": 4}));
    let stored = server.stored_events("default", &org).await;
    for redaction in page["data"].as_array().unwrap() {
        let event = &stored[redaction["sequence"].as_u64().unwrap() as usize];
        assert!(event.payload.is_none());
        assert_eq!(redaction["object"], "redaction");
        assert_eq!(redaction["event_id"], event.id.as_str());
        assert_eq!(
            redaction["leaf_hash"],
            BASE64_STANDARD.encode(event.leaf_hash)
        );
        // RFC 3339 in milliseconds, as every timestamp of the API.
        let at = redaction["occurred_at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.len() == 24, "{at}");
        let micros = to_micros(parse_timestamp(at).unwrap());
        assert_eq!(micros, event.occurred_at / 1000 * 1000);
    }
    // The tail serves exactly the others; the neighbour's redacted event is not listed here.
    let (_, tail) = get_json(
        &server,
        &format!("/audit_logs/events?organization_id={org}&after_sequence=-1&limit=100"),
    )
    .await;
    assert_eq!(sequences(&tail), [1, 3]);

    // Paged by after_sequence and limit; an empty page keeps the given position.
    let (_, first) = get_json(&server, &format!("{path}?limit=2")).await;
    assert_eq!(sequences(&first), [0, 2]);
    assert_eq!(first["list_metadata"]["last_sequence"], 2);
    let (_, second) = get_json(&server, &format!("{path}?after_sequence=2&limit=2")).await;
    assert_eq!(sequences(&second), [4]);
    let (status, end) = get_json(&server, &format!("{path}?after_sequence=4")).await;
    assert_eq!(status, 200);
    assert_eq!(sequences(&end), Vec::<i64>::new());
    assert_eq!(end["list_metadata"]["last_sequence"], 4);
    let (_, all) = get_json(&server, &format!("{path}?after_sequence=-1&limit=1000")).await;
    assert_eq!(sequences(&all), [0, 2, 4]);
    server.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_422_and_other_organizations_404() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let path = format!("/audit_logs/log/{org}/redactions");
    let cases = [
        (
            "after_sequence=-2",
            vec![("after_sequence", "invalid_value")],
        ),
        (
            "after_sequence=x",
            vec![("after_sequence", "invalid_value")],
        ),
        ("limit=0", vec![("limit", "invalid_value")]),
        ("limit=1001", vec![("limit", "invalid_value")]),
        ("limit=ten", vec![("limit", "invalid_value")]),
        (
            "after_sequence=1.5&limit=-1",
            vec![
                ("after_sequence", "invalid_value"),
                ("limit", "invalid_value"),
            ],
        ),
    ];
    for (query, expected) in cases {
        let response = server.get(&format!("{path}?{query}")).send().await.unwrap();
        assert_eq!(response.status(), 422, "{query}");
        assert_json_with_request_id(&response);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "validation_failed", "{body}");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(field, code)| (field.to_string(), code.to_string()))
            .collect();
        assert_eq!(field_errors(&body), expected, "{query}");
    }

    // An unknown organization, and each environment asking for the other's.
    let other_key = server.key_for_environment("other").await;
    let response = server
        .http
        .post(server.url("/organizations"))
        .bearer_auth(&other_key)
        .json(&json!({"name": "Theirs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let theirs = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (
            server.key.clone(),
            "org_01UNKNOWN000000000000000000".to_string(),
        ),
        (server.key.clone(), theirs),
        (other_key, org.clone()),
    ];
    for (key, id) in cases {
        let response = server
            .http
            .get(server.url(&format!("/audit_logs/log/{id}/redactions")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{body}");
    }
    // Without an API key: 401.
    let response = server.http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    server.stop().await;
}
