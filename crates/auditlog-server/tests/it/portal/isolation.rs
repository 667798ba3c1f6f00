//! A session reads and changes only its own organization, with its own intent: any other id in
//! a URL or a body is answered as if it did not exist.

use super::{post_events, Browser};
use crate::common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn a_session_sees_only_its_organization() {
    let server = TestServer::start().await;
    let ours = server.create_org("Ours").await;
    let theirs = server.create_org("Theirs").await;
    post_events(&server, &ours, 2, "Ours Admin").await;
    let their_events = post_events(&server, &theirs, 2, "Their Admin").await;
    let their_export: Value = server
        .post("/audit_logs/exports")
        .json(&json!({"organization_id": theirs, "range_start": "2026-01-01T00:00:00Z", "range_end": "2027-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let browser = Browser::session(&server, &ours, "audit_logs").await;
    let their_event = &their_events[0];
    let export_id = their_export["id"].as_str().unwrap();
    for path in [
        format!("/portal/api/organizations/{theirs}/events"),
        format!("/portal/api/organizations/{theirs}/events/{their_event}"),
        format!("/portal/api/organizations/{ours}/events/{their_event}"),
        format!("/portal/api/organizations/{ours}/events/{their_event}/inclusion_proof"),
        format!("/portal/api/organizations/{ours}/exports/{export_id}"),
        format!("/portal/api/organizations/{ours}/log_streams"),
    ] {
        let response = browser.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].is_string(), "{path}: {body}");
    }
    let created = browser
        .send(
            Method::POST,
            &format!("/portal/api/organizations/{theirs}/exports"),
            &json!({"range_start": "2026-01-01T00:00:00Z", "range_end": "2027-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(created.status(), 404);
    // An organization id slipped into the query or body is replaced by the session's.
    let listed = browser
        .get_json(&format!(
            "/portal/api/organizations/{ours}/events?organization_id={theirs}&limit=100"
        ))
        .await;
    let orgs: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["organization_id"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, [ours.as_str(), ours.as_str()]);
    let export = browser
        .send(
            Method::POST,
            &format!("/portal/api/organizations/{ours}/exports"),
            &json!({"organization_id": theirs, "range_start": "2026-01-01T00:00:00Z", "range_end": "2027-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(export.status(), 201);
    let export: Value = export.json().await.unwrap();
    let stored = server
        .open_store()
        .await
        .get_export("default", export["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.organization_id, ours);

    let streams = Browser::session(&server, &ours, "log_streams").await;
    for path in [
        format!("/portal/api/organizations/{theirs}/log_streams"),
        format!("/portal/api/organizations/{ours}/events"),
    ] {
        assert_eq!(streams.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(
        streams
            .get(&format!("/portal/api/organizations/{ours}/log_streams"))
            .await
            .status(),
        200
    );
}
