//! The OpenAPI document (generated from the router; the committed snapshot
//! `crates/auditlog-server/openapi.json` is checked against it by a unit test): it is what the
//! server serves, every operation in it is routed with the authentication it documents, the
//! WorkOS operations are there and everything else is marked as an extension, and real
//! responses conform to the schemas it gives for them.

use crate::common;

use common::{event_body, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

const DOCUMENT: &str = include_str!("../../openapi.json");

/// The operations of the WorkOS API (and of its Organizations API that the SDKs call) that we
/// serve; every other operation is ours and must say so with `x-auditlog-extension`.
const WORKOS_OPERATIONS: &[(&str, &str)] = &[
    ("POST", "/audit_logs/events"),
    ("POST", "/audit_logs/exports"),
    ("GET", "/audit_logs/exports/{export_id}"),
    ("GET", "/audit_logs/actions"),
    ("POST", "/audit_logs/actions/{action}/schemas"),
    ("GET", "/audit_logs/actions/{action}/schemas"),
    ("POST", "/organizations"),
    ("GET", "/organizations"),
    ("POST", "/portal/generate_link"),
    ("POST", "/portal/revoke_link"),
    ("GET", "/organizations/{organization_id}"),
    ("PUT", "/organizations/{organization_id}"),
    ("DELETE", "/organizations/{organization_id}"),
    (
        "GET",
        "/organizations/{organization_id}/audit_logs_retention",
    ),
    (
        "PUT",
        "/organizations/{organization_id}/audit_logs_retention",
    ),
    (
        "GET",
        "/organizations/{organization_id}/audit_log_configuration",
    ),
];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
}

/// Every (method, path, operation) of the document.
fn document_operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in HTTP_METHODS {
            if let Some(operation) = item.get(*method) {
                operations.push((method.to_ascii_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    operations
}

fn is_public(operation: &Value) -> bool {
    operation["security"] == json!([])
}

/// Follows a local `$ref` (`#/a/b`), JSON-pointer escapes included.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        value = resolve(doc, reference).unwrap_or_else(|| panic!("unresolved {reference}"));
    }
    value
}

/// Every way `value` fails `schema` (a schema of the document, whose `$ref`s point into its
/// components), checked by the `jsonschema` crate under JSON Schema 2020-12 (OpenAPI 3.1's
/// dialect) with formats asserted.
fn schema_problems(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|error| panic!("the document's schema does not compile: {error}"));
    validator
        .iter_errors(value)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

/// The documented response of `method path` with `status` (which must be documented).
fn documented_response<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let operation = &doc["paths"][path][method.to_ascii_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented"));
    deref(doc, response)
}

/// Asserts the response conforms to the document: documented status, JSON content type when
/// the document gives a JSON body, the body schema, and the headers it promises on every answer.
async fn conforms(doc: &Value, method: &str, path: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let documented = documented_response(doc, method, path, status);
    for name in documented["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, _)| n)
    {
        if name == "X-Request-ID" || name == "Retry-After" {
            assert!(
                headers.contains_key(name.as_str()),
                "{method} {path} {status}: header {name} missing"
            );
        }
    }
    let Some(schema) = documented.pointer("/content/application~1json/schema") else {
        return Value::Null;
    };
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{method} {path} {status}: content type {content_type}"
    );
    let body: Value = serde_json::from_str(&text).expect("JSON body");
    let problems = schema_problems(doc, schema, &body);
    assert!(
        problems.is_empty(),
        "{method} {path} {status} does not match the document:\n{}\nbody: {body}",
        problems.join("\n")
    );
    body
}

// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn served_document_is_the_snapshot_and_is_openapi_3_1() {
    let server = TestServer::start().await;
    // No API key.
    let response = server
        .http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/json"
    );
    assert!(response.headers().contains_key("x-request-id"));
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served, document(), "served != the committed snapshot");
    let version = served["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert!(served["info"]["title"].is_string());
    assert!(served["info"]["version"].is_string());
    server.stop().await;
}

#[test]
fn workos_operations_are_there_and_the_rest_are_extensions() {
    let doc = document();
    let operations = document_operations(&doc);
    assert!(
        operations.len() >= 29,
        "too few operations: {}",
        operations.len()
    );
    let documented: BTreeSet<(String, String)> = operations
        .iter()
        .map(|(method, path, _)| (method.clone(), path.clone()))
        .collect();
    for (method, path) in WORKOS_OPERATIONS {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "{method} {path}: a WorkOS operation is missing"
        );
    }
    for (method, path, operation) in &operations {
        let workos = WORKOS_OPERATIONS.contains(&(method.as_str(), path.as_str()));
        let extension = operation["x-auditlog-extension"] == true;
        assert_eq!(extension, !workos, "{method} {path}: x-auditlog-extension");
    }
}

#[test]
fn every_ref_resolves_and_operations_are_well_formed() {
    let doc = document();
    // Bearer security on everything but the public routes.
    assert_eq!(doc["security"], json!([{"bearerAuth": []}]));
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (method, path, operation) in document_operations(&doc) {
        if !is_public(&operation) {
            assert!(
                deref(&doc, &operation["responses"]["401"]).is_object(),
                "{method} {path}: 401 not documented"
            );
        }
        // Path parameters are declared for every template, and resolve.
        let declared: BTreeSet<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        let templated: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap().to_string())
            .collect();
        assert_eq!(declared, templated, "{method} {path}: path parameters");
        // Every schema the operation answers with compiles.
        for response in operation["responses"].as_object().unwrap().values() {
            let response = deref(&doc, response);
            if let Some(schema) = response.pointer("/content/application~1json/schema") {
                schema_problems(&doc, schema, &Value::Null);
            }
        }
    }
    // The error bodies.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Error"]["required"], json!(["message", "code"]));
    assert_eq!(
        schemas["ValidationError"]["required"],
        json!(["message", "code", "errors"])
    );
    assert_eq!(
        schemas["FieldError"]["required"],
        json!(["field", "code", "message"])
    );
    assert_eq!(
        schemas["SchemaViolation"]["required"],
        json!(["instancePath", "schemaPath", "keyword", "message"])
    );
}

/// The conformance checks below can fail: the schema check refuses what the document forbids.
#[test]
fn schema_check_refuses_what_the_document_forbids() {
    let doc = document();
    let timestamp = json!({"$ref": "#/components/schemas/Timestamp"});
    assert!(schema_problems(&doc, &timestamp, &json!("2026-01-15T12:00:00.000Z")).is_empty());
    assert!(!schema_problems(&doc, &timestamp, &json!("2026-01-15T12:00:00Z")).is_empty());
    let export = json!({"$ref": "#/components/schemas/AuditLogExport"});
    let valid = json!({
        "object": "audit_log_export",
        "id": "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V",
        "state": "pending",
        "url": null,
        "created_at": "2026-01-15T12:00:00.000Z",
        "updated_at": "2026-01-15T12:00:00.000Z",
    });
    assert_eq!(schema_problems(&doc, &export, &valid), Vec::<String>::new());
    for (field, wrong) in [
        ("object", json!("organization")),
        ("state", json!("done")),
        ("url", json!(7)),
    ] {
        let mut body = valid.clone();
        body[field] = wrong;
        assert!(!schema_problems(&doc, &export, &body).is_empty(), "{field}");
    }
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("url");
    assert!(!schema_problems(&doc, &export, &missing).is_empty());
}

/// Bodies the server accepts (each is answered 2xx in the tests below or in the resources' own
/// tests) conform to the request schema the document gives for them.
#[test]
fn accepted_request_bodies_match_the_documented_request_schemas() {
    let doc = document();
    let schema = json!({
        "targets": [{"type": "team", "metadata": {"type": "object", "properties": {"plan": {"type": "string"}}}}],
        "actor": {"metadata": {"type": "object", "properties": {"role": {"type": "string"}}}},
        "metadata": {"type": "object"}
    });
    let accepted = [
        (
            "POST",
            "/audit_logs/events",
            event_body("org_01EHZNVPK3SFK441A1RGBFSHRT"),
        ),
        (
            "POST",
            "/audit_logs/exports",
            json!({
                "organization_id": "org_01EHZNVPK3SFK441A1RGBFSHRT",
                "range_start": "2026-01-01T00:00:00Z",
                "range_end": "2026-12-31T00:00:00Z",
                "actions": ["user.signed_in"]
            }),
        ),
        ("POST", "/audit_logs/actions/{action}/schemas", schema),
        (
            "POST",
            "/audit_logs/actions/{action}/schemas",
            json!({"targets": [{"type": "team"}]}),
        ),
        (
            "POST",
            "/organizations",
            json!({
                "name": "Acme",
                "domain_data": [{"domain": "acme.com", "state": "verified"}],
                "metadata": {"tier": "gold"},
                "external_id": "ext-1"
            }),
        ),
        (
            "PUT",
            "/organizations/{organization_id}",
            json!({"name": "Acme Inc.", "external_id": null}),
        ),
        (
            "PUT",
            "/organizations/{organization_id}/audit_logs_retention",
            json!({"retention_period": "2_YEARS"}),
        ),
        (
            "PUT",
            "/organizations/{organization_id}/audit_logs_retention",
            json!({"retention_period_in_days": 90}),
        ),
        (
            "POST",
            "/organizations/{organization_id}/legal_hold",
            json!({"reason": "litigation"}),
        ),
        (
            "DELETE",
            "/organizations/{organization_id}/legal_hold",
            json!({"reason": "settled"}),
        ),
    ];
    // And a body the server refuses is refused by the document too.
    let both = json!({"retention_period": "2_YEARS", "retention_period_in_days": 730});
    let retention = &doc["paths"]["/organizations/{organization_id}/audit_logs_retention"]["put"];
    let schema = &retention["requestBody"]["content"]["application/json"]["schema"];
    assert!(!schema_problems(&doc, schema, &both).is_empty());
    for (method, path, body) in accepted {
        let operation = &doc["paths"][path][method.to_ascii_lowercase()];
        let schema = operation
            .pointer("/requestBody/content/application~1json/schema")
            .unwrap_or_else(|| panic!("{method} {path}: no JSON request body documented"));
        let problems = schema_problems(&doc, schema, &body);
        assert!(
            problems.is_empty(),
            "{method} {path}: {problems:?}\nbody: {body}"
        );
    }
}

/// Fills a document path's templates with a placeholder.
fn placeholder_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match (segment.find('{'), segment.find('}')) {
            (Some(open), Some(close)) => {
                format!("{}x_unknown{}", &segment[..open], &segment[close + 1..])
            }
            _ => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_served_with_its_authentication() {
    let server = TestServer::start().await;
    for (method, path, operation) in document_operations(&document()) {
        let url = server.url(&placeholder_path(&path));
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = |authorized: bool| {
            let mut request = server.http.request(method_value.clone(), &url);
            if authorized {
                request = request.bearer_auth(&server.key);
            }
            if method != "GET" {
                request = request.json(&json!({}));
            }
            request
        };
        let anonymous = request(false).send().await.unwrap();
        let anonymous_status = anonymous.status().as_u16();
        if is_public(&operation) {
            assert_ne!(anonymous_status, 401, "{method} {path} should need no key");
        } else {
            assert_eq!(anonymous_status, 401, "{method} {path} should need a key");
        }
        let response = request(true).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{method} {path}: method not routed ({body})");
        let fallback = status == 404
            && body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("No route for"));
        assert!(!fallback, "{method} {path}: path not routed ({body})");
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn organization_and_error_responses_match_the_document() {
    let doc = document();
    let server = TestServer::start().await;

    // Create: every required property of Organization is present, and the rest conforms.
    let response = server
        .post("/organizations")
        .json(&json!({
            "name": "Acme",
            "domain_data": [{"domain": "acme.com", "state": "verified"}],
            "metadata": {"tier": "gold"},
            "external_id": "ext-1"
        }))
        .send()
        .await
        .unwrap();
    let organization = conforms(&doc, "POST", "/organizations", response).await;
    let required = doc["components"]["schemas"]["Organization"]["required"]
        .as_array()
        .unwrap();
    assert!(required.len() >= 10);
    for name in required {
        assert!(
            organization.get(name.as_str().unwrap()).is_some(),
            "Organization.{name} missing from {organization}"
        );
    }
    let id = organization["id"].as_str().unwrap().to_string();
    let org_path = "/organizations/{organization_id}";

    let response = server.get("/organizations?limit=1").send().await.unwrap();
    let page = conforms(&doc, "GET", "/organizations", response).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let response = server
        .get(&format!("/organizations/{id}"))
        .send()
        .await
        .unwrap();
    conforms(&doc, "GET", org_path, response).await;
    let response = server
        .put(&format!("/organizations/{id}"))
        .json(&json!({"name": "Acme Inc.", "external_id": null}))
        .send()
        .await
        .unwrap();
    conforms(&doc, "PUT", org_path, response).await;

    // Retention, configuration, legal hold.
    let retention_path = "/organizations/{organization_id}/audit_logs_retention";
    let response = server
        .get(&format!("/organizations/{id}/audit_logs_retention"))
        .send()
        .await
        .unwrap();
    conforms(&doc, "GET", retention_path, response).await;
    for body in [
        json!({"retention_period": "2_YEARS"}),
        json!({"retention_period_in_days": 90}),
    ] {
        let response = server
            .put(&format!("/organizations/{id}/audit_logs_retention"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        conforms(&doc, "PUT", retention_path, response).await;
    }
    let response = server
        .put(&format!("/organizations/{id}/audit_logs_retention"))
        .json(&json!({"retention_period": "2_YEARS", "retention_period_in_days": 730}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    conforms(&doc, "PUT", retention_path, response).await;
    let response = server
        .get(&format!("/organizations/{id}/audit_log_configuration"))
        .send()
        .await
        .unwrap();
    let configuration = conforms(
        &doc,
        "GET",
        "/organizations/{organization_id}/audit_log_configuration",
        response,
    )
    .await;
    assert_eq!(configuration["retention_period_in_days"], 90);

    let hold_path = "/organizations/{organization_id}/legal_hold";
    let hold_url = format!("/organizations/{id}/legal_hold");
    let response = server.get(&hold_url).send().await.unwrap();
    conforms(&doc, "GET", hold_path, response).await;
    let response = server
        .post(&hold_url)
        .json(&json!({"reason": "litigation"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let hold = conforms(&doc, "POST", hold_path, response).await;
    assert_eq!(hold["active"], true);
    let response = server
        .post(&hold_url)
        .json(&json!({"reason": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    conforms(&doc, "POST", hold_path, response).await;
    let response = server
        .delete(&hold_url)
        .json(&json!({"reason": "settled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    conforms(&doc, "DELETE", hold_path, response).await;
    let response = server
        .delete(&hold_url)
        .json(&json!({"reason": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    conforms(&doc, "DELETE", hold_path, response).await;

    // Error bodies: 401, 404, 400 invalid_json, 415, 409 external_id reuse, 422 pagination.
    let response = server
        .http
        .get(server.url("/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let unauthorized = conforms(&doc, "GET", "/organizations", response).await;
    assert_eq!(unauthorized["code"], "unauthorized");
    let response = server
        .get("/organizations/org_01AAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", org_path, response).await;
    let response = server
        .post("/organizations")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    conforms(&doc, "POST", "/organizations", response).await;
    let response = server
        .post("/organizations")
        .header("content-type", "text/plain")
        .body("name=Acme")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    conforms(&doc, "POST", "/organizations", response).await;
    let response = server
        .post("/organizations")
        .json(&json!({"name": "Other", "external_id": "ext-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let response = server
        .put(&format!("/organizations/{id}"))
        .json(&json!({"external_id": "ext-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    conforms(&doc, "PUT", org_path, response).await;
    let response = server
        .get("/organizations?limit=101&order=sideways")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let invalid = conforms(&doc, "GET", "/organizations", response).await;
    assert_eq!(invalid["errors"].as_array().unwrap().len(), 2);

    let response = server
        .delete(&format!("/organizations/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    conforms(&doc, "DELETE", org_path, response).await;

    let response = server.http.get(server.url("/health")).send().await.unwrap();
    conforms(&doc, "GET", "/health", response).await;
    server.stop().await;
}

#[tokio::test]
async fn event_schema_and_export_responses_match_the_document() {
    let doc = document();
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;

    // Events: 200, 422, 404, and (once a schema exists) 400 invalid_audit_log_event.
    let events = "/audit_logs/events";
    let response = server
        .post(events)
        .header("Idempotency-Key", "openapi-test-1")
        .json(&event_body(&org))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    conforms(&doc, "POST", events, response).await;
    let response = server
        .post(events)
        .json(&json!({"organization_id": org, "event": {"action": "a.b"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let invalid = conforms(&doc, "POST", events, response).await;
    assert_eq!(invalid["code"], "validation_failed");
    let response = server
        .post(events)
        .json(&event_body("org_01AAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "POST", events, response).await;

    // Schemas: 201 new version, 200 identical, lists of schemas and actions.
    let schemas_path = "/audit_logs/actions/{action}/schemas";
    let schema = json!({
        "targets": [{"type": "team", "metadata": {"type": "object", "properties": {"plan": {"type": "string"}}}}],
        "actor": {"metadata": {"type": "object", "properties": {"role": {"type": "string"}}}},
        "metadata": {"type": "object"}
    });
    let response = server
        .post("/audit_logs/actions/user.signed_in/schemas")
        .json(&schema)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created = conforms(&doc, "POST", schemas_path, response).await;
    for name in doc["components"]["schemas"]["AuditLogSchema"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(created.get(name.as_str().unwrap()).is_some(), "{name}");
    }
    let response = server
        .post("/audit_logs/actions/user.signed_in/schemas")
        .json(&schema)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    conforms(&doc, "POST", schemas_path, response).await;
    let response = server
        .post("/audit_logs/actions/user.signed_in/schemas")
        .json(&json!({"targets": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    conforms(&doc, "POST", schemas_path, response).await;
    let response = server
        .get("/audit_logs/actions/user.signed_in/schemas")
        .send()
        .await
        .unwrap();
    conforms(&doc, "GET", schemas_path, response).await;
    let response = server
        .get("/audit_logs/actions/no.such.action/schemas")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", schemas_path, response).await;
    let response = server.get("/audit_logs/actions").send().await.unwrap();
    let actions = conforms(&doc, "GET", "/audit_logs/actions", response).await;
    assert_eq!(actions["data"][0]["name"], "user.signed_in");

    // The schema wants a `team` target: an event without one is a 400 invalid_audit_log_event.
    let mut event = event_body(&org);
    event["event"]["targets"] = json!([{"id": "u", "type": "user"}]);
    let response = server.post(events).json(&event).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let rejected = conforms(&doc, "POST", events, response).await;
    assert_eq!(rejected["code"], "invalid_audit_log_event");
    let problems = schema_problems(
        &doc,
        &json!({"$ref": "#/components/schemas/InvalidEventError"}),
        &rejected,
    );
    assert!(problems.is_empty(), "{problems:?}");

    // Exports: 201 pending, 200 ready with a url, the download, 400 range, 404 unknown.
    let response = server
        .post("/audit_logs/exports")
        .json(&json!({
            "organization_id": org,
            "range_start": "2026-01-01T00:00:00Z",
            "range_end": "2026-12-31T00:00:00Z",
            "actions": ["user.signed_in"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let export = conforms(&doc, "POST", "/audit_logs/exports", response).await;
    for name in doc["components"]["schemas"]["AuditLogExport"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(export.get(name.as_str().unwrap()).is_some(), "{name}");
    }
    let export_id = export["id"].as_str().unwrap().to_string();
    let export_path = "/audit_logs/exports/{export_id}";
    let mut ready = Value::Null;
    for _ in 0..200 {
        let response = server
            .get(&format!("/audit_logs/exports/{export_id}"))
            .send()
            .await
            .unwrap();
        ready = conforms(&doc, "GET", export_path, response).await;
        if ready["state"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready["state"], "ready", "{ready}");
    let url = ready["url"].as_str().expect("url").to_string();
    let download = server.http.get(&url).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let download_path = "/downloads/exports/{file_name}";
    assert!(
        documented_response(&doc, "GET", download_path, 200)["content"]["text/csv"].is_object()
    );
    let tampered = server
        .http
        .get(url.replace("signature=", "signature=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 404);
    conforms(&doc, "GET", download_path, tampered).await;
    let response = server
        .post("/audit_logs/exports")
        .json(&json!({"organization_id": org, "range_start": "2026-02-01T00:00:00Z", "range_end": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let range = conforms(&doc, "POST", "/audit_logs/exports", response).await;
    assert_eq!(range["code"], "invalid_audit_log_export_range_date");
    let response = server
        .get("/audit_logs/exports/audit_log_export_01AAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", export_path, response).await;
    server.stop().await;
}

#[tokio::test]
async fn read_api_responses_match_the_document() {
    let doc = document();
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for occurred_at in ["2026-02-02T16:35:39.317Z", "2026-02-03T10:00:00.123456Z"] {
        let mut event = event_body(&org);
        event["event"]["occurred_at"] = json!(occurred_at);
        let response = server
            .post("/audit_logs/events")
            .json(&event)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // Pages: newest first, one per page, following `after`.
    let list_path = "/audit_logs/events";
    let response = server
        .get(&format!("/audit_logs/events?organization_id={org}&limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let first = conforms(&doc, "GET", list_path, response).await;
    for name in doc["components"]["schemas"]["AuditLogEvent"]["required"]
        .as_array()
        .unwrap()
    {
        let name = name.as_str().unwrap();
        assert!(first["data"][0].get(name).is_some(), "{name}: {first}");
    }
    assert_eq!(
        first["data"][0]["occurred_at"],
        "2026-02-03T10:00:00.123456Z"
    );
    let after = first["list_metadata"]["after"].as_str().expect("after");
    let response = server
        .get(&format!(
            "/audit_logs/events?organization_id={org}&limit=1&after={after}&actions=user.signed_in&actions=other"
        ))
        .send()
        .await
        .unwrap();
    let second = conforms(&doc, "GET", list_path, response).await;
    assert_eq!(second["data"][0]["occurred_at"], "2026-02-02T16:35:39.317Z");

    // Tail: sequence order and `last_sequence`.
    let response = server
        .get(&format!(
            "/audit_logs/events?organization_id={org}&after_sequence=-1"
        ))
        .send()
        .await
        .unwrap();
    let tail = conforms(&doc, "GET", list_path, response).await;
    assert_eq!(tail["data"][0]["sequence"], 0);
    assert_eq!(tail["list_metadata"]["last_sequence"], 1);

    // Errors: tail with a cursor parameter, bad limit, unknown organization.
    for query in [
        format!("organization_id={org}&after_sequence=0&order=asc"),
        format!("organization_id={org}&limit=0"),
        "limit=5".to_string(),
    ] {
        let response = server
            .get(&format!("/audit_logs/events?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{query}");
        conforms(&doc, "GET", list_path, response).await;
    }
    let response = server
        .get("/audit_logs/events?organization_id=org_01AAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", list_path, response).await;

    // One event, and an unknown one.
    let get_path = "/audit_logs/events/{event_id}";
    let id = tail["data"][0]["id"].as_str().unwrap();
    let response = server
        .get(&format!("/audit_logs/events/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let event = conforms(&doc, "GET", get_path, response).await;
    assert_eq!(event, tail["data"][0]);
    let response = server
        .get("/audit_logs/events/audit_log_event_01AAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", get_path, response).await;

    // The meta-audit trail.
    let response = server.get("/audit_logs/meta_audit").send().await.unwrap();
    assert_eq!(response.status(), 200);
    conforms(&doc, "GET", "/audit_logs/meta_audit", response).await;
    server.stop().await;
}

#[tokio::test]
async fn tamper_evidence_responses_match_the_document() {
    let doc = document();
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for _ in 0..3 {
        let response = server
            .post("/audit_logs/events")
            .json(&event_body(&org))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let checkpoint_path = "/audit_logs/log/{organization_id}/checkpoint";
    let response = server
        .post(&format!("/audit_logs/log/{org}/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let checkpoint = conforms(&doc, "POST", checkpoint_path, response).await;
    assert_eq!(checkpoint["tree_size"], 3);
    let response = server
        .get(&format!("/audit_logs/log/{org}/checkpoint?tree_size=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        conforms(&doc, "GET", checkpoint_path, response).await,
        checkpoint
    );
    for (query, status) in [("tree_size=-1", 422), ("tree_size=2", 404)] {
        let response = server
            .get(&format!("/audit_logs/log/{org}/checkpoint?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{query}");
        conforms(&doc, "GET", checkpoint_path, response).await;
    }

    let response = server
        .get(&format!(
            "/audit_logs/events?organization_id={org}&after_sequence=-1"
        ))
        .send()
        .await
        .unwrap();
    let events = conforms(&doc, "GET", "/audit_logs/events", response).await;
    let event_id = events["data"][1]["id"].as_str().unwrap().to_string();
    let proof_path = "/audit_logs/events/{event_id}/inclusion_proof";
    let response = server
        .get(&format!("/audit_logs/events/{event_id}/inclusion_proof"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let proof = conforms(&doc, "GET", proof_path, response).await;
    assert_eq!(proof["event_matches_leaf"], true);
    let response = server
        .get("/audit_logs/events/audit_log_event_01AAAAAAAAAAAAAAAAAAAAAAAA/inclusion_proof")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    conforms(&doc, "GET", proof_path, response).await;

    let consistency_path = "/audit_logs/log/{organization_id}/consistency_proof";
    for (query, status) in [
        ("first=1", 200),
        ("first=2&second=3", 200),
        ("second=1", 422),
        ("first=1&second=9", 409),
    ] {
        let response = server
            .get(&format!("/audit_logs/log/{org}/consistency_proof?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{query}");
        conforms(&doc, "GET", consistency_path, response).await;
    }

    // A bundle: 409 `export_not_ready` while the export is pending, 200 once it is ready.
    let response = server
        .post("/audit_logs/exports")
        .json(&json!({
            "organization_id": org,
            "range_start": "2026-01-01T00:00:00Z",
            "range_end": "2027-01-01T00:00:00Z"
        }))
        .send()
        .await
        .unwrap();
    let export = conforms(&doc, "POST", "/audit_logs/exports", response).await;
    let export_id = export["id"].as_str().unwrap().to_string();
    let bundle_path = "/audit_logs/exports/{export_id}/bundle";
    let mut status = 0;
    for _ in 0..200 {
        let response = server
            .get(&format!("/audit_logs/exports/{export_id}/bundle"))
            .send()
            .await
            .unwrap();
        status = response.status().as_u16();
        let body = conforms(&doc, "GET", bundle_path, response).await;
        if status == 200 {
            assert_eq!(body["manifest"]["row_count"], 3);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "the bundle never became available");

    let response = server
        .http
        .get(server.url("/.well-known/auditlog/log-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(response.headers().contains_key("x-request-id"));
    let key = response.text().await.unwrap();
    // `<name>+<key id: 8 hex digits>+<base64 key>` (the base64 part may contain `+`).
    let parts: Vec<&str> = key.trim_end().splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{key}");
    assert!(
        parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    server.stop().await;
}
