//! The streams API: create, read, list, update, delete; validation; secrets write-only; the
//! WorkOS `log_stream` on the audit-log configuration.

use super::receiver::Receiver;
use super::{create_stream, get_json, server, update_stream, SECRET};
use crate::common::{field_errors, TestServer};
use serde_json::{json, Value};

#[tokio::test]
async fn a_stream_is_created_shown_in_the_configuration_and_never_shows_its_secrets() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    let configuration_path = format!("/organizations/{org}/audit_log_configuration");
    assert_eq!(
        get_json(&server, &configuration_path).await["log_stream"],
        Value::Null
    );

    let created = create_stream(
        &server,
        &org,
        json!({"type": "GenericHttps", "settings": {"url": format!("{}/intake", receiver.url)},
               "secrets": {"signing_secret": SECRET, "headers": {"X-Api-Token": "tok_hunter2"}}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("als_"), "{created}");
    assert_eq!(created["object"], "log_stream");
    assert_eq!(created["type"], "GenericHttps");
    assert_eq!(created["state"], "active");
    assert_eq!(created["cursor"], -1);
    assert_eq!(created["secrets"], json!(["headers", "signing_secret"]));
    let text = created.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains(&SECRET[6..]),
        "{text}"
    );

    let workos = get_json(&server, &configuration_path).await["log_stream"].clone();
    assert_eq!(workos["id"], id.as_str());
    assert_eq!(workos["type"], "GenericHttps");
    assert_eq!(workos["state"], "active");
    assert!(workos["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        workos.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "type", "state", "last_synced_at", "created_at"]
    );

    let listed: Value = get_json(&server, &format!("/organizations/{org}/log_streams")).await;
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(!listed.to_string().contains("hunter2"));

    // Pause: WorkOS shows a paused stream as inactive.
    let paused = update_stream(
        &server,
        &org,
        &id,
        json!({"paused": true, "secrets": {"headers": {"X-Api-Token": "tok_other"}}}),
    )
    .await;
    assert_eq!(paused["state"], "inactive");
    assert_eq!(paused["secrets"], json!(["headers", "signing_secret"]));
    assert_eq!(
        get_json(&server, &configuration_path).await["log_stream"]["state"],
        "inactive"
    );

    // Another organization's path does not reach it.
    let other = server.create_org("Other").await;
    let response = server
        .get(&format!("/organizations/{other}/log_streams/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = server
        .delete(&format!("/organizations/{other}/log_streams/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let response = server
        .delete(&format!("/organizations/{org}/log_streams/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        get_json(&server, &configuration_path).await["log_stream"],
        Value::Null
    );
    let response = server
        .get(&format!("/organizations/{org}/log_streams/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn refused(server: &TestServer, org: &str, body: Value) -> Vec<(String, String)> {
    let response = server
        .post(&format!("/organizations/{org}/log_streams"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422, "{body}");
    field_errors(&response.json().await.unwrap())
}

#[tokio::test]
async fn bad_destinations_are_refused_with_every_field_named() {
    // The operator's defaults: HTTPS only, no internal address.
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let errors = refused(
        &server,
        &org,
        json!({"type": "Kafka", "settings": {}, "secrets": {}}),
    )
    .await;
    assert_eq!(errors, [("type".into(), "invalid_value".into())]);
    let errors = refused(
        &server,
        &org,
        json!({"type": "GenericHttps", "settings": {"url": "http://siem.example/in", "colour": "red"},
               "secrets": {"signing_secret": "plain"}, "start": "yesterday", "extra": 1}),
    )
    .await;
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    for field in [
        "extra",
        "start",
        "settings.url",
        "secrets.signing_secret",
        "settings.colour",
    ] {
        assert!(fields.contains(&field), "{field} not named in {errors:?}");
    }
    for url in [
        "https://127.0.0.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://10.0.0.8/",
    ] {
        let errors = refused(
            &server,
            &org,
            json!({"type": "Splunk", "settings": {"url": url}, "secrets": {"token": "t"}}),
        )
        .await;
        assert_eq!(
            errors,
            [("settings.url".into(), "invalid_value".into())],
            "{url}"
        );
    }
    let errors = refused(
        &server,
        &org,
        json!({"type": "Datadog", "settings": {"site": "example.com"}, "secrets": {}}),
    )
    .await;
    let mut fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["secrets.api_key", "settings.site"]);
    // Nothing was stored.
    let listed: Value = get_json(&server, &format!("/organizations/{org}/log_streams")).await;
    assert_eq!(listed["data"], json!([]));
    let response = server
        .post("/organizations/org_unknown/log_streams")
        .json(&json!({"type": "Splunk", "settings": {"url": "https://s.example"}, "secrets": {"token": "t"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
