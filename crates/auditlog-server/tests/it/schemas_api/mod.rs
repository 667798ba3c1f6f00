//! Action schemas: creating versions, every 422 of a schema document, the two
//! list endpoints and their pagination, validation of ingested events against the schema at
//! their `version`, `require_schemas`, environment isolation, and the official Rust SDK.

use crate::common;

use common::{assert_json_with_request_id, event_body, field_errors, TestServer};
use futures::TryStreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use workos::audit_logs::{CreateSchemaParams, ListActionSchemasParams, ListActionsParams};

// ---------------------------------------------------------------- helpers

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_json_with_request_id(&response);
    (status, response.json().await.unwrap())
}

fn schemas_path(action: &str) -> String {
    format!("/audit_logs/actions/{action}/schemas")
}

async fn post_schema(server: &TestServer, action: &str, body: &Value) -> (u16, Value) {
    send(server.post(&schemas_path(action)).json(body)).await
}

/// Creates a schema version and returns it, asserting the status.
async fn create_schema(server: &TestServer, action: &str, body: &Value, status: u16) -> Value {
    let (got, response) = post_schema(server, action, body).await;
    assert_eq!(got, status, "POST {action} {body}: {response}");
    response
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    send(server.get(path)).await
}

/// GET that must succeed with a list envelope.
async fn list(server: &TestServer, path: &str) -> Value {
    let (status, body) = get(server, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    assert_eq!(body["object"], "list", "{body}");
    assert!(body["data"].is_array(), "{body}");
    let metadata = body["list_metadata"].as_object().expect("list_metadata");
    assert!(
        metadata.contains_key("before") && metadata.contains_key("after"),
        "both cursors are always present: {body}"
    );
    body
}

fn cursor(page: &Value, which: &str) -> Option<String> {
    page["list_metadata"][which].as_str().map(str::to_string)
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| action["name"].as_str().unwrap().to_string())
        .collect()
}

fn versions(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|schema| schema["version"].as_i64().unwrap())
        .collect()
}

/// Follows `list_metadata.after` from `path` (which already has a `?`) to the end.
async fn walk(server: &TestServer, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut page = list(server, path).await;
    for _ in 0..100 {
        items.extend(page["data"].as_array().unwrap().iter().cloned());
        let Some(after) = cursor(&page, "after") else {
            return items;
        };
        page = list(server, &format!("{path}&after={after}")).await;
    }
    panic!("more than 100 pages from {path}: a cursor loop?");
}

/// A schema: targets `invoice` (metadata `amount` number, required) and `team`; actor metadata
/// `role` string, required; event metadata `note` string.
fn invoice_schema() -> Value {
    json!({
        "targets": [
            {"type": "invoice", "metadata": {
                "type": "object",
                "properties": {"amount": {"type": "number"}},
                "required": ["amount"]
            }},
            {"type": "team"}
        ],
        "actor": {"metadata": {
            "type": "object",
            "properties": {"role": {"type": "string"}},
            "required": ["role"]
        }},
        "metadata": {"type": "object", "properties": {"note": {"type": "string"}}}
    })
}

/// An event body of `action` (version omitted when `None`).
fn event(
    org: &str,
    action: &str,
    version: Option<i64>,
    targets: Value,
    actor_metadata: Option<Value>,
    metadata: Option<Value>,
) -> Value {
    let mut body = event_body(org);
    let event = body["event"].as_object_mut().unwrap();
    event.insert("action".into(), json!(action));
    event.insert("targets".into(), targets);
    if let Some(version) = version {
        event.insert("version".into(), json!(version));
    }
    match actor_metadata {
        Some(m) => drop(
            event["actor"]
                .as_object_mut()
                .unwrap()
                .insert("metadata".into(), m),
        ),
        None => drop(event["actor"].as_object_mut().unwrap().remove("metadata")),
    }
    match metadata {
        Some(m) => drop(event.insert("metadata".into(), m)),
        None => drop(event.remove("metadata")),
    }
    body
}

/// An event that conforms to [`invoice_schema`].
fn invoice_event(org: &str, action: &str, version: Option<i64>) -> Value {
    event(
        org,
        action,
        version,
        json!([
            {"id": "inv_1", "type": "invoice", "metadata": {"amount": 12.5}},
            {"id": "team_1", "type": "team"}
        ]),
        Some(json!({"role": "admin"})),
        Some(json!({"note": "paid"})),
    )
}

async fn post_event(server: &TestServer, body: &Value) -> (u16, Value) {
    send(server.post("/audit_logs/events").json(body)).await
}

async fn expect_accepted(server: &TestServer, body: &Value) {
    let (status, response) = post_event(server, body).await;
    assert_eq!(status, 200, "{body}: {response}");
    assert_eq!(response, json!({"success": true}));
}

/// Posts an event that must be rejected with 400 `invalid_audit_log_event`; returns the
/// `errors` array after checking its Ajv shape.
async fn expect_invalid(server: &TestServer, body: &Value) -> (String, Vec<Value>) {
    let (status, response) = post_event(server, body).await;
    assert_eq!(status, 400, "{body}: {response}");
    assert_eq!(response["code"], "invalid_audit_log_event", "{response}");
    // Node raises BadRequestException only for `code` + `errors` and no `error` key.
    assert!(response.get("error").is_none(), "{response}");
    let errors = response["errors"].as_array().expect("errors").clone();
    assert!(!errors.is_empty(), "{response}");
    for error in &errors {
        let object = error.as_object().expect("error object");
        for key in ["instancePath", "schemaPath", "keyword", "message"] {
            assert!(object[key].is_string(), "{key} in {error}");
        }
    }
    (response["message"].as_str().unwrap().to_string(), errors)
}

/// `(instancePath, keyword)` of every error.
fn paths(errors: &[Value]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            (
                e["instancePath"].as_str().unwrap().to_string(),
                e["keyword"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn unconfigured(action: &str, version: i64) -> String {
    format!(
        "Invalid Audit Log event: event '{action}', version '{version}' has not been configured in this environment"
    )
}

fn map(value: Value) -> HashMap<String, Value> {
    serde_json::from_value(value).unwrap()
}

mod create;
mod ingest_validation;
mod listing;
mod rust_sdk;
