//! Authentication on every API route, environment isolation between keys, and the JSON
//! answers for wrong methods and unknown paths.

use crate::common;

use common::{assert_json_with_request_id, event_body, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

/// Every API route with a body that would be valid for it.
fn routes(org: &str) -> Vec<(Method, String, Option<Value>)> {
    let org_path = format!("/organizations/{org}");
    vec![
        (
            Method::POST,
            "/audit_logs/events".into(),
            Some(event_body(org)),
        ),
        (Method::GET, "/organizations".into(), None),
        (
            Method::POST,
            "/organizations".into(),
            Some(json!({"name": "New"})),
        ),
        (Method::GET, org_path.clone(), None),
        (
            Method::PUT,
            org_path.clone(),
            Some(json!({"name": "Renamed"})),
        ),
        (Method::DELETE, org_path.clone(), None),
        (
            Method::GET,
            format!("{org_path}/audit_log_configuration"),
            None,
        ),
        (Method::GET, "/no/such/path".into(), None),
        (Method::POST, "/no/such/path".into(), Some(json!({}))),
    ]
}

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<&Value>,
    authorization: Option<&str>,
) -> (u16, Value) {
    let mut request = server.http.request(method, server.url(path));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 204 {
        return (status, Value::Null);
    }
    assert_json_with_request_id(&response);
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn every_route_is_401_without_a_valid_bearer_key() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let key = server.key.clone();
    let attempts = [
        None,
        Some("Bearer sk_test_not_a_real_key".to_string()),
        Some(format!("Basic {key}")),
        Some(format!("Token {key}")),
        Some(key.clone()),
        Some("Bearer ".to_string()),
        Some("Bearer".to_string()),
    ];
    let unauthorized = json!({"message": "Unauthorized", "code": "unauthorized"});
    for (method, path, body) in routes(&org) {
        for authorization in &attempts {
            let (status, answer) = call(
                &server,
                method.clone(),
                &path,
                body.as_ref(),
                authorization.as_deref(),
            )
            .await;
            assert_eq!(
                (status, &answer),
                (401, &unauthorized),
                "{method} {path} with {authorization:?}"
            );
        }
    }
    // Nothing happened: the organization is intact, alone, and has no events.
    let list: Value = server
        .get("/organizations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["name"], "Acme");
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_valid_key_passes_whatever_the_scheme_case() {
    let server = TestServer::start().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let authorization = format!("{scheme} {}", server.key);
        let (status, body) = call(
            &server,
            Method::GET,
            "/organizations",
            None,
            Some(&authorization),
        )
        .await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn sdk_with_a_wrong_key_gets_an_unauthorized_api_error() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos_with_key("sk_test_wrong");
    let error = client
        .organizations()
        .get_organization(&org)
        .await
        .unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");
    assert_eq!(error.code(), Some("unauthorized"));
    assert_eq!(error.api().unwrap().message, "Unauthorized");
    assert!(error.request_id().is_some());
    let error = client
        .audit_logs()
        .create_event(common::sdk_event(&org, "2026-02-02T16:35:39.317Z"))
        .await
        .unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn organizations_are_invisible_to_keys_of_another_environment() {
    let server = TestServer::start().await;
    let other = format!("Bearer {}", server.key_for_environment("other").await);
    let org = server.create_org("Acme").await;
    let path = format!("/organizations/{org}");
    let not_found = format!("Organization not found: '{org}'.");
    let checks = [
        (Method::GET, path.clone(), None),
        (Method::PUT, path.clone(), Some(json!({"name": "Stolen"}))),
        (Method::DELETE, path.clone(), None),
        (Method::GET, format!("{path}/audit_log_configuration"), None),
        (
            Method::POST,
            "/audit_logs/events".into(),
            Some(event_body(&org)),
        ),
    ];
    for (method, path, body) in checks {
        let (status, answer) =
            call(&server, method.clone(), &path, body.as_ref(), Some(&other)).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert_eq!(answer["message"], not_found.as_str(), "{method} {path}");
    }
    let (status, list) = call(&server, Method::GET, "/organizations", None, Some(&other)).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], json!([]));
    assert_eq!(
        list["list_metadata"],
        json!({"before": null, "after": null})
    );
    // The SDK sees the same.
    let other_key = other.trim_start_matches("Bearer ");
    let error = server
        .workos_with_key(other_key)
        .organizations()
        .get_organization(&org)
        .await;
    assert!(error.unwrap_err().is_not_found());

    // Untouched in its own environment, and no event landed anywhere.
    let mine: Value = server
        .get(&path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "Acme");
    assert_eq!(server.count_events(&org).await, 0);
    assert!(server.stored_events("other", &org).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn environments_have_separate_organizations_and_external_ids() {
    let server = TestServer::start().await;
    let other = format!("Bearer {}", server.key_for_environment("other").await);
    let body = json!({"name": "Twin", "external_id": "ext-twin"});
    let (status, theirs) = call(
        &server,
        Method::POST,
        "/organizations",
        Some(&body),
        Some(&other),
    )
    .await;
    assert_eq!(status, 201, "{theirs}");
    let (status, mine) = call(
        &server,
        Method::POST,
        "/organizations",
        Some(&body),
        Some(&format!("Bearer {}", server.key)),
    )
    .await;
    assert_eq!(
        status, 201,
        "the same external_id in another environment: {mine}"
    );
    assert_ne!(theirs["id"], mine["id"]);

    let theirs_id = theirs["id"].as_str().unwrap();
    let (status, _) = call(
        &server,
        Method::GET,
        &format!("/organizations/{theirs_id}"),
        None,
        Some(&format!("Bearer {}", server.key)),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &server,
        Method::POST,
        "/audit_logs/events",
        Some(&event_body(theirs_id)),
        Some(&other),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(server.stored_events("other", theirs_id).await.len(), 1);
    assert_eq!(
        server.count_events(theirs_id).await,
        0,
        "nothing under the default environment"
    );
    server.stop().await;
}

#[tokio::test]
async fn wrong_methods_are_405_json_and_unknown_paths_404_json() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let bearer = format!("Bearer {}", server.key);
    let org_path = format!("/organizations/{org}");
    let wrong = [
        (
            Method::PUT,
            "/audit_logs/events".to_string(),
            "GET,HEAD,POST",
        ),
        (
            Method::DELETE,
            "/organizations".to_string(),
            "GET,HEAD,POST",
        ),
        (Method::PATCH, org_path.clone(), "GET,HEAD,PUT,DELETE"),
        (Method::POST, org_path.clone(), "GET,HEAD,PUT,DELETE"),
        (
            Method::POST,
            format!("{org_path}/audit_log_configuration"),
            "GET,HEAD",
        ),
        (Method::POST, "/health".to_string(), "GET,HEAD"),
    ];
    for (method, path, allowed) in wrong {
        let response = server
            .http
            .request(method.clone(), server.url(&path))
            .bearer_auth(&server.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_json_with_request_id(&response);
        let methods = |text: &str| {
            let mut methods: Vec<String> = text.split(',').map(|m| m.trim().to_string()).collect();
            methods.sort();
            methods
        };
        let allow = response.headers()["allow"].to_str().unwrap();
        assert_eq!(methods(allow), methods(allowed), "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{method} {path}");
        assert!(body["message"].is_string());
    }
    for path in ["/nope", "/organizations/x/y/z", "/audit_logs"] {
        let (status, body) = call(&server, Method::GET, path, None, Some(&bearer)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found");
    }
    // The organization survived the wrong-method attempts.
    let (status, _) = call(&server, Method::GET, &org_path, None, Some(&bearer)).await;
    assert_eq!(status, 200);
    server.stop().await;
}
