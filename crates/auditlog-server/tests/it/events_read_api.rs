//! The read API (extension): list, fetch and tail events; meta-audit of reads and exports.

use crate::common;

use common::{event_body, TestServer};
use serde_json::{json, Value};
use std::collections::HashSet;

async fn send_event(
    server: &TestServer,
    org: &str,
    action: &str,
    actor: &str,
    occurred_at: &str,
    target_type: &str,
) {
    let mut body = event_body(org);
    body["event"]["action"] = json!(action);
    body["event"]["actor"]["id"] = json!(actor);
    body["event"]["actor"]["name"] = json!(format!("Name {actor}"));
    body["event"]["occurred_at"] = json!(occurred_at);
    body["event"]["targets"] = json!([{"id": "t", "type": target_type}]);
    let response = server
        .post("/audit_logs/events")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn list(server: &TestServer, query: &str) -> (u16, Value) {
    let response = server
        .get(&format!("/audit_logs/events?{query}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_filter_and_fetch_events() {
    let server = TestServer::start().await;
    let org = server.create_org("Readers").await;
    for day in 1..=9 {
        let action = if day % 2 == 0 {
            "doc.viewed"
        } else {
            "user.signed_in"
        };
        send_event(
            &server,
            &org,
            action,
            &format!("u{}", day % 3),
            &format!("2026-03-0{day}T00:00:00.000Z"),
            if day < 5 { "doc" } else { "team" },
        )
        .await;
    }
    // Newest first, pages of 4 following `after` until it is null.
    let mut seen = Vec::new();
    let mut query = format!("organization_id={org}&limit=4");
    loop {
        let (status, page) = list(&server, &query).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["object"], "list");
        seen.extend(ids(&page));
        match page["list_metadata"]["after"].as_str() {
            Some(cursor) => query = format!("organization_id={org}&limit=4&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 9);
    let (_, all) = list(
        &server,
        &format!("organization_id={org}&limit=100&order=asc"),
    )
    .await;
    let times: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let mut reversed = ids(&all);
    reversed.reverse();
    assert_eq!(seen, reversed, "desc pages are the asc order reversed");

    // Filters: AND across fields, OR within one; range is [start, end).
    let (_, page) = list(
        &server,
        &format!("organization_id={org}&limit=100&actions=doc.viewed&targets=doc"),
    )
    .await;
    assert_eq!(ids(&page).len(), 2, "days 2 and 4");
    let (_, page) = list(
        &server,
        &format!("organization_id={org}&limit=100&actor_ids=u0&actor_ids=u1"),
    )
    .await;
    assert_eq!(ids(&page).len(), 6);
    let (_, page) = list(&server, &format!("organization_id={org}&limit=100&range_start=2026-03-02T00:00:00Z&range_end=2026-03-04T00:00:00Z")).await;
    assert_eq!(ids(&page).len(), 2);

    // One event, with every field a verifier needs.
    let first = &all["data"][0];
    let id = first["id"].as_str().unwrap();
    let fetched: Value = server
        .get(&format!("/audit_logs/events/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(&fetched, first);
    for field in [
        "object",
        "id",
        "organization_id",
        "sequence",
        "occurred_at",
        "received_at",
        "action",
        "version",
        "actor",
        "targets",
        "context",
        "metadata",
    ] {
        assert!(!fetched[field].is_null(), "{field} missing: {fetched}");
    }
    assert_eq!(fetched["object"], "audit_log_event");
    server.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_422_and_other_environments_see_nothing() {
    let server = TestServer::start().await;
    let org = server.create_org("Scoped").await;
    send_event(&server, &org, "a.b", "u", "2026-03-01T00:00:00Z", "doc").await;
    for query in [
        "",
        "organization_id=ORG&limit=0",
        "organization_id=ORG&order=sideways",
        "organization_id=ORG&after=garbage",
        "organization_id=ORG&range_start=yesterday",
        "organization_id=ORG&after_sequence=-2",
        "organization_id=ORG&after_sequence=1&order=asc",
    ] {
        let (status, body) = list(&server, &query.replace("ORG", &org)).await;
        assert_eq!(status, 422, "{query}: {body}");
    }
    let (status, _) = list(&server, "organization_id=org_01HZZZZZZZZZZZZZZZZZZZZZZZ").await;
    assert_eq!(status, 404);
    let other = server.key_for_environment("other").await;
    let response = server
        .http
        .get(server.url(&format!("/audit_logs/events?organization_id={org}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let (_, page) = list(&server, &format!("organization_id={org}")).await;
    let id = page["data"][0]["id"].as_str().unwrap();
    let response = server
        .http
        .get(server.url(&format!("/audit_logs/events/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        server
            .get("/audit_logs/events/audit_log_event_nope")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_poller_sees_every_event_exactly_once_under_concurrent_writers() {
    let server = TestServer::start().await;
    let org = server.create_org("Tail").await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (http, url, key, org) = (
                server.http.clone(),
                server.url("/audit_logs/events"),
                server.key.clone(),
                org.clone(),
            );
            tokio::spawn(async move {
                for n in 0..40 {
                    let mut body = event_body(&org);
                    // Late events: occurred_at goes backwards, which must not hide them from the tail.
                    body["event"]["occurred_at"] =
                        json!(format!("2026-01-{:02}T00:00:00Z", 28 - (n % 27)));
                    body["event"]["metadata"] = json!({"marker": format!("{w}-{n}")});
                    let response = http
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                }
            })
        })
        .collect();
    // Poll while the writers run, remembering only the last sequence seen.
    let mut last = -1i64;
    let mut markers = Vec::new();
    let mut sequences = Vec::new();
    let mut writers_done = false;
    loop {
        let (status, page) = list(
            &server,
            &format!("organization_id={org}&after_sequence={last}&limit=7"),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        for event in page["data"].as_array().unwrap() {
            markers.push(event["metadata"]["marker"].as_str().unwrap().to_string());
            sequences.push(event["sequence"].as_i64().unwrap());
        }
        last = page["list_metadata"]["last_sequence"].as_i64().unwrap();
        if writers_done && page["data"].as_array().unwrap().is_empty() {
            break;
        }
        if !writers_done && writers.iter().all(|w| w.is_finished()) {
            writers_done = true;
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(markers.len(), 320, "every event once");
    assert_eq!(
        markers.iter().collect::<HashSet<_>>().len(),
        320,
        "no duplicates"
    );
    assert_eq!(
        sequences,
        (0..320).collect::<Vec<i64>>(),
        "in sequence order without gaps"
    );
    server.stop().await;
}

#[tokio::test]
async fn reads_exports_and_downloads_are_recorded_in_the_meta_audit_trail() {
    let server = TestServer::start().await;
    let org = server.create_org("Watched").await;
    send_event(&server, &org, "a.b", "u", "2026-03-01T00:00:00Z", "doc").await;
    let (_, page) = list(&server, &format!("organization_id={org}&actions=a.b")).await;
    let event_id = page["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .get(&format!("/audit_logs/events/{event_id}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let export: Value = server
        .post("/audit_logs/exports")
        .json(&json!({"organization_id": org, "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-12-01T00:00:00Z"}))
        .send().await.unwrap().json().await.unwrap();
    let export_id = export["id"].as_str().unwrap().to_string();
    let url = loop {
        let state: Value = server
            .get(&format!("/audit_logs/exports/{export_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(url) = state["url"].as_str() {
            break url.to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);

    let trail: Value = server
        .get("/audit_logs/meta_audit")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(trail["enabled"], true);
    let trail_org = trail["organization_id"].as_str().unwrap().to_string();
    let refused = server
        .delete(&format!("/organizations/{trail_org}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409, "the trail cannot be deleted");
    let (status, recorded) = list(
        &server,
        &format!("organization_id={trail_org}&limit=100&order=asc"),
    )
    .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = recorded["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "auditlog.events.listed",
            "auditlog.event.read",
            "auditlog.export.created",
            "auditlog.export.downloaded"
        ]
    );
    let listed = &recorded["data"][0];
    assert_eq!(listed["targets"][0]["id"], org.as_str());
    assert!(
        listed["metadata"]["filters"]
            .as_str()
            .unwrap()
            .contains("a.b"),
        "{listed}"
    );
    assert!(listed["actor"]["id"].as_str().unwrap().starts_with("key_"));
    // Reading the trail is not itself recorded.
    let (_, again) = list(&server, &format!("organization_id={trail_org}&limit=100")).await;
    assert_eq!(again["data"].as_array().unwrap().len(), 4);
    server.stop().await;

    let quiet = TestServer::start_with(|c| c.meta_audit = false).await;
    let trail: Value = quiet
        .get("/audit_logs/meta_audit")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        trail,
        json!({"object": "meta_audit_trail", "enabled": false, "organization_id": null})
    );
    quiet.stop().await;
}
