//! The NUL rule over HTTP: U+0000 in a JSON string or key is a 422 naming the field, in a query
//! parameter a 422 naming the parameter, in a path id a 404; never a 5xx, on either store, and
//! the other events of the same moment are stored.

use crate::common;

use common::{event_body, field_errors, TestServer};
use serde_json::{json, Value};

async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

fn nul_field(body: &Value) -> Vec<String> {
    assert_eq!(body["code"], "validation_failed", "{body}");
    field_errors(body)
        .into_iter()
        .map(|(field, code)| {
            assert_eq!(code, "invalid");
            field
        })
        .collect()
}

#[tokio::test]
async fn event_strings_and_keys_with_nul_are_refused_by_name() {
    let server = TestServer::start().await;
    let organization = server.create_org("Acme").await;

    let mut body = event_body(&organization);
    body["event"]["actor"]["id"] = json!("user\u{0}1");
    let (status, answer) = status_and_body(
        server
            .post("/audit_logs/events")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(nul_field(&answer), vec!["event.actor.id"]);
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("U+0000"));

    let mut body = event_body(&organization);
    body["event"]["metadata"] = json!({"ke\u{0}y": "v"});
    let (status, answer) = status_and_body(
        server
            .post("/audit_logs/events")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(nul_field(&answer), vec!["event.metadata.ke\\u0000y"]);

    // The valid event around them is stored; the refused ones are not.
    let response = server
        .post("/audit_logs/events")
        .json(&event_body(&organization))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.count_events(&organization).await, 1);
}

#[tokio::test]
async fn organization_and_legal_hold_fields_with_nul_are_refused_by_name() {
    let server = TestServer::start().await;
    let organization = server.create_org("Acme").await;
    for (body, field) in [
        (json!({"name": "Ac\u{0}me"}), "name"),
        (
            json!({"name": "Acme", "external_id": "x\u{0}"}),
            "external_id",
        ),
    ] {
        let (status, answer) = status_and_body(
            server
                .post("/organizations")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(nul_field(&answer), vec![field]);
    }
    let (status, answer) = status_and_body(
        server
            .post(&format!("/organizations/{organization}/legal_hold"))
            .json(&json!({"reason": "litigation\u{0}"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(nul_field(&answer), vec!["reason"]);
}

#[tokio::test]
async fn query_parameters_and_path_ids_with_nul_are_refused() {
    let server = TestServer::start().await;
    let organization = server.create_org("Acme").await;
    let (status, answer) = status_and_body(
        server
            .get(&format!(
                "/audit_logs/events?organization_id={organization}%00"
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(nul_field(&answer), vec!["organization_id"]);

    for path in [
        "/organizations/org_%00".to_string(),
        "/audit_logs/events/audit_log_event_%00".to_string(),
        "/audit_logs/exports/audit_log_export_%00".to_string(),
        format!("/organizations/{organization}%00/legal_hold"),
    ] {
        let (status, answer) = status_and_body(server.get(&path).send().await.unwrap()).await;
        assert_eq!(status, 404, "{path}: {answer}");
        assert_eq!(answer["code"], "not_found");
    }
}
