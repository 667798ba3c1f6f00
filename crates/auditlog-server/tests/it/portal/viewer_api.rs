//! What the viewer's page asks the server for: pages, search, tail, proof, export, and that
//! each read and export is on the meta-audit trail as the portal session's.

use super::{api_json, download, post_events, Browser};
use crate::common::{event_body, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn search_matches_any_value_within_the_filters_and_pages_on() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for (i, (action, note)) in [
        ("user.signed_in", "Badge NEEDLE-1"),
        ("user.signed_in", "nothing here"),
        ("file.downloaded", "needle-2 in the file"),
        ("user.signed_in", "another Needle-3"),
    ]
    .iter()
    .enumerate()
    {
        let mut body = event_body(&org);
        body["event"]["action"] = json!(action);
        body["event"]["metadata"] = json!({"note": note});
        body["event"]["occurred_at"] = json!(format!("2026-02-02T16:35:0{i}.000Z"));
        assert_eq!(
            server
                .post("/audit_logs/events")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let browser = Browser::session(&server, &org, "audit_logs").await;
    let base = format!("/portal/api/organizations/{org}/events");
    let notes = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["metadata"]["note"].as_str().unwrap().to_string())
            .collect()
    };
    let all = browser.get_json(&format!("{base}?search=needle")).await;
    assert_eq!(
        notes(&all),
        ["another Needle-3", "needle-2 in the file", "Badge NEEDLE-1"]
    );
    assert_eq!(
        all["list_metadata"]["after"],
        Value::Null,
        "every event was looked at"
    );
    assert_eq!(all["list_metadata"]["scanned"], 4);
    let filtered = browser
        .get_json(&format!("{base}?search=needle&actions=user.signed_in"))
        .await;
    assert_eq!(notes(&filtered), ["another Needle-3", "Badge NEEDLE-1"]);
    let first = browser
        .get_json(&format!("{base}?search=NEEDLE&limit=2"))
        .await;
    assert_eq!(notes(&first).len(), 2);
    let after = first["list_metadata"]["after"].as_str().unwrap();
    let rest = browser
        .get_json(&format!("{base}?search=NEEDLE&limit=2&after={after}"))
        .await;
    assert_eq!(notes(&rest), ["Badge NEEDLE-1"]);
    let none = browser
        .get_json(&format!("{base}?search=absent-text"))
        .await;
    assert_eq!(none["data"], json!([]));
    let bad = browser
        .get(&format!("{base}?search=x&after=not-a-cursor"))
        .await;
    assert_eq!(bad.status(), 422);
    let bad_range = browser.get(&format!("{base}?range_start=yesterday")).await;
    assert_eq!(bad_range.status(), 422);
}

#[tokio::test]
async fn the_viewer_tails_proves_and_exports_like_the_api() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 3, "Jon Smith").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    let session = browser.get_json("/portal/api/session").await;
    assert_eq!(session["organization"], json!({"id": org, "name": "Acme"}));
    assert_eq!(session["intent"], "audit_logs");
    assert_eq!(session["last_sequence"], 2);
    let base = format!("/portal/api/organizations/{org}");

    let quiet = browser
        .get_json(&format!("{base}/events?after_sequence=2"))
        .await;
    assert_eq!(
        quiet["data"],
        json!([]),
        "nothing new yet (and nothing recorded)"
    );
    post_events(&server, &org, 1, "Late Arrival").await;
    let tail = browser
        .get_json(&format!("{base}/events?after_sequence=2"))
        .await;
    assert_eq!(tail["data"][0]["actor"]["name"], "Late Arrival");
    assert_eq!(tail["list_metadata"]["last_sequence"], 3);

    let event_id = tail["data"][0]["id"].as_str().unwrap().to_string();
    let event = browser.get_json(&format!("{base}/events/{event_id}")).await;
    assert_eq!(event["sequence"], 3);
    let proof = loop {
        let response = browser
            .get(&format!("{base}/events/{event_id}/inclusion_proof"))
            .await;
        if response.status() == 200 {
            break response.json::<Value>().await.unwrap();
        }
        assert_eq!(response.status(), 409, "not yet in the log, then in it");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(proof["leaf_index"], 3);
    assert!(proof["checkpoint"].as_str().unwrap().contains(&org));

    let range = json!({"range_start": "2026-01-01T00:00:00Z", "range_end": "2027-01-01T00:00:00Z", "actor_names": ["Jon Smith"]});
    let created = browser
        .send(Method::POST, &format!("{base}/exports"), &range)
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let export_path = format!("{base}/exports/{}", created["id"].as_str().unwrap());
    let ready = loop {
        let export = browser.get_json(&export_path).await;
        if export["state"] == "ready" {
            break export;
        }
        assert_eq!(export["state"], "pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["rows"], 3);
    let portal_csv = download(&server, ready["url"].as_str().unwrap()).await;
    let mut api_body = range.clone();
    api_body["organization_id"] = json!(org);
    let api_export: Value = server
        .post("/audit_logs/exports")
        .json(&api_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_export_path = format!("/audit_logs/exports/{}", api_export["id"].as_str().unwrap());
    let api_url = loop {
        let export = api_json(&server, &api_export_path).await;
        if let Some(url) = export["url"].as_str() {
            break url.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let api_csv = download(&server, &api_url).await;
    assert_eq!(portal_csv, api_csv, "the portal's export is the API's");
    assert_eq!(portal_csv.lines().count(), 4, "a header and three rows");

    // The trail: who opened the portal, and each read and export as the session's.
    let trail = api_json(&server, "/audit_logs/meta_audit").await;
    let trail_org = trail["organization_id"].as_str().unwrap();
    let recorded = api_json(
        &server,
        &format!("/audit_logs/events?organization_id={trail_org}&limit=100&order=asc"),
    )
    .await;
    let by_portal: Vec<(String, String)> = recorded["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["actor"]["type"] == "portal_session" || e["action"] == "auditlog.portal_link.created"
        })
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"]["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("auditlog.portal_link.created", "api_key"),
        ("auditlog.portal_session.started", "portal_session"),
        ("auditlog.events.listed", "portal_session"),
        ("auditlog.event.read", "portal_session"),
        ("auditlog.export.created", "portal_session"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect();
    assert_eq!(by_portal, expected);
    let session_id = &recorded["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "auditlog.portal_session.started")
        .unwrap()["actor"]["id"];
    assert!(session_id.as_str().unwrap().starts_with("portal_session_"));
}
