//! `POST /portal/generate_link` and opening its links.

use super::{generate_link, local, no_redirects, Browser};
use crate::common::{field_errors, TestServer};
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{json, Value};

#[tokio::test]
async fn generate_link_answers_in_the_workos_shape() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let response = server
        .post("/portal/generate_link")
        .json(&json!({"organization": org, "intent": "audit_logs",
            "return_url": "https://app.example/settings", "external_user_id": "user_1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["link"]);
    let link = body["link"].as_str().unwrap();
    let prefix = format!("{}/portal/launch?secret=", server.base_url);
    assert!(link.starts_with(&prefix), "{link}");
    assert!(link.len() > prefix.len() + 40, "the secret is long: {link}");
}

#[tokio::test]
async fn bad_requests_get_a_clear_4xx_and_no_link() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for (body, field, words) in [
        (
            json!({"organization": org, "intent": "sso"}),
            "intent",
            "audit_logs, log_streams",
        ),
        (
            json!({"organization": org, "intent": "dsync"}),
            "intent",
            "does not offer",
        ),
        (
            json!({"organization": org, "intent": "telepathy"}),
            "intent",
            "not an Admin Portal intent",
        ),
        (json!({"organization": org}), "intent", "required"),
        (
            json!({"organization": org, "intent": 7}),
            "intent",
            "string",
        ),
        (json!({"intent": "audit_logs"}), "organization", "required"),
        (
            json!({"organization": org, "intent": "audit_logs", "return_url": "javascript:alert(1)"}),
            "return_url",
            "http",
        ),
        (
            json!({"organization": org, "intent": "audit_logs", "success_url": "/relative"}),
            "success_url",
            "absolute",
        ),
        (json!([1, 2]), "body", "object"),
    ] {
        let response = server
            .post("/portal/generate_link")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.unwrap();
        let errors = field_errors(&answer);
        let message = answer["errors"].to_string();
        assert!(errors.iter().any(|(f, _)| f == field), "{body}: {answer}");
        assert!(
            message.contains(words),
            "{body}: {message} should say {words:?}"
        );
    }
    let unknown = server
        .post("/portal/generate_link")
        .json(&json!({"organization": "org_nope", "intent": "audit_logs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let other_key = server.key_for_environment("staging").await;
    let elsewhere = server
        .http
        .post(server.url("/portal/generate_link"))
        .bearer_auth(other_key)
        .json(&json!({"organization": org, "intent": "audit_logs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "another environment's organization does not exist"
    );
    let anonymous = server
        .http
        .post(server.url("/portal/generate_link"))
        .json(&json!({"organization": org, "intent": "audit_logs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_link_opens_once_and_the_url_drops_its_token() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let link = generate_link(&server, &org, "audit_logs").await;
    let browser = Browser::open(&server, &link).await;
    assert_eq!(
        browser.location, "/portal/audit-logs",
        "no token in the page's URL"
    );
    let cookie = &browser.set_cookie;
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/portal", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    let page = browser.get("/portal/audit-logs").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<h1>Audit logs</h1>"));

    let again = no_redirects()
        .get(local(&server, &link))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403, "a link opens once");
    assert!(again.headers().get(SET_COOKIE).is_none());
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("expired or was already used"));
    let forged = no_redirects()
        .get(server.url("/portal/launch?secret=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let streams = generate_link(&server, &org, "log_streams").await;
    let opened = no_redirects()
        .get(local(&server, &streams))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.headers()[LOCATION], "/portal/log-streams");
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let server = TestServer::start_with(|c| c.portal.portal_link_ttl_secs = 1).await;
    let org = server.create_org("Acme").await;
    let link = generate_link(&server, &org, "audit_logs").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = no_redirects()
        .get(local(&server, &link))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_framing_follows_the_configuration() {
    let server = TestServer::start_with(|c| {
        c.listen.public_url = Some("https://audit.example".into());
        c.portal.portal_frame_ancestors = vec!["https://app.example".into(), "'self'".into()];
    })
    .await;
    let org = server.create_org("Acme").await;
    let link = generate_link(&server, &org, "audit_logs").await;
    assert!(link.starts_with("https://audit.example/portal/launch?secret="));
    let browser = Browser::open(&server, &link).await;
    assert!(
        browser.set_cookie.contains("; Secure"),
        "{}",
        browser.set_cookie
    );
    assert!(
        browser.set_cookie.contains("SameSite=None"),
        "a framed portal needs its cookie in third-party frames: {}",
        browser.set_cookie
    );
    let page = browser.get("/portal/audit-logs").await;
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.ends_with("frame-ancestors https://app.example 'self'"),
        "{policy}"
    );
    assert!(page.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn revoking_an_admin_ends_their_links_and_sessions() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let link_for = |user: &'static str| {
        let server = &server;
        let org = org.clone();
        async move {
            let response = server
                .post("/portal/generate_link")
                .json(
                    &json!({"organization": org, "intent": "audit_logs", "external_user_id": user}),
                )
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            body["link"].as_str().unwrap().to_string()
        }
    };
    let opened = Browser::open(&server, &link_for("admin_1").await).await;
    let unopened = link_for("admin_1").await;
    let colleague = Browser::open(&server, &link_for("admin_2").await).await;
    let revoke = |body: Value| server.post("/portal/revoke_link").json(&body).send();
    let answer = revoke(json!({"organization": org, "external_user_id": "admin_1"}))
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    assert_eq!(
        opened.get("/portal/api/session").await.status(),
        401,
        "the open session ended"
    );
    let late = no_redirects()
        .get(local(&server, &unopened))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 403, "the unopened link no longer opens");
    assert_eq!(
        colleague.get("/portal/api/session").await.status(),
        200,
        "others stay"
    );
    let missing = revoke(json!({"organization": org})).await.unwrap();
    assert_eq!(missing.status(), 422);
    let unknown = revoke(json!({"organization": "org_nope", "external_user_id": "admin_1"}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
