//! Portal sessions: timeouts, sign-out, CSRF, and the headers every portal answer carries.

use super::Browser;
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let server = TestServer::start_with(|c| c.portal.portal_session_idle_secs = 1).await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let api = browser.get("/portal/api/session").await;
    assert_eq!(api.status(), 401);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["code"], "portal_session_ended");
    let page = browser.get("/portal/audit-logs").await;
    assert_eq!(page.status(), 401);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Your session has ended"));
}

#[tokio::test]
async fn activity_keeps_a_session_open_and_the_pages_timers_do_not() {
    // Idle 3 s: requests 300 ms apart keep it open even on a busy machine.
    let server = TestServer::start_with(|c| c.portal.portal_session_idle_secs = 3).await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            browser.get("/portal/api/session").await.status(),
            200,
            "the admin is active"
        );
    }
    let tail = format!("/portal/api/organizations/{org}/events?after_sequence=-1");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let response = browser
            .request(Method::GET, &tail)
            .header("x-portal-background", "1")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses.first(), Some(&200));
    assert_eq!(
        statuses.last(),
        Some(&401),
        "an open tab alone does not keep it: {statuses:?}"
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_end_however_active() {
    let server = TestServer::start_with(|c| c.portal.portal_session_max_secs = 1).await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(browser.get("/portal/api/session").await.status().as_u16());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(statuses.first(), Some(&200));
    assert_eq!(statuses.last(), Some(&401), "{statuses:?}");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    let out = browser
        .send(Method::POST, "/portal/api/logout", &json!({}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(browser.get("/portal/api/session").await.status(), 401);
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token_and_this_origin() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    let path = format!("/portal/api/organizations/{org}/exports");
    let body = json!({"range_start": "2026-01-01T00:00:00Z", "range_end": "2027-01-01T00:00:00Z"});
    let without = browser
        .request(Method::POST, &path)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let answer: Value = without.json().await.unwrap();
    assert_eq!(answer["code"], "csrf_check_failed");
    let wrong = browser
        .request(Method::POST, &path)
        .header("x-csrf-token", "guess")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let cross_site = browser
        .request(Method::POST, &path)
        .header("x-csrf-token", &browser.csrf)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "a request from another origin");
    let host = server.base_url.trim_start_matches("http://");
    let same_site = browser
        .request(Method::POST, &path)
        .header("x-csrf-token", &browser.csrf)
        .header("origin", format!("http://{host}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 201);
    let logout = browser
        .request(Method::POST, "/portal/api/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403, "signing out is a state change too");
}

#[tokio::test]
async fn every_portal_answer_carries_a_strict_content_security_policy() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let browser = Browser::session(&server, &org, "audit_logs").await;
    for path in [
        "/portal/audit-logs",
        "/portal/api/session",
        "/portal/assets/viewer.js",
        "/portal/launch?secret=nope",
        "/portal/log-streams",
    ] {
        let response = browser.get(path).await;
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // No inline script anywhere: every <script> has a src on this server.
    for page in ["/portal/audit-logs", "/portal/signed-out"] {
        let html = browser.get(page).await.text().await.unwrap();
        for tag in html.split("<script").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            assert!(
                tag.contains("src=\"/portal/assets/"),
                "{page}: <script{tag}>"
            );
            assert!(html.matches("</script>").count() == html.matches("<script").count());
        }
        let handler = html.split(" on").skip(1).find(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase())
                .collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(
            handler.is_none(),
            "{page}: an inline event handler: on{handler:?}"
        );
    }
}
