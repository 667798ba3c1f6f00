//! Action schemas (spec §3.4, §4): creating versions, every 422 of a schema document, the two
//! list endpoints and their pagination, validation of ingested events against the schema at
//! their `version`, `require_schemas`, environment isolation, and the official Rust SDK.

mod common;

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

// ---------------------------------------------------------------- creating versions

#[tokio::test]
async fn versions_start_at_one_identical_returns_latest_and_changes_append() {
    let server = TestServer::start().await;
    let action = "invoice.paid";

    let v1 = create_schema(&server, action, &invoice_schema(), 201).await;
    assert_eq!(v1["object"], "audit_log_schema");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["targets"], invoice_schema()["targets"]);
    assert_eq!(v1["actor"], invoice_schema()["actor"]);
    assert_eq!(v1["metadata"], invoice_schema()["metadata"]);
    let created = v1["created_at"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z'),
        "millisecond UTC timestamp: {created}"
    );

    // The same document with every object's keys in another order: 200 with version 1.
    let reordered = json!({
        "metadata": {"properties": {"note": {"type": "string"}}, "type": "object"},
        "actor": {"metadata": {"required": ["role"], "properties": {"role": {"type": "string"}}, "type": "object"}},
        "targets": [
            {"metadata": {"required": ["amount"], "type": "object", "properties": {"amount": {"type": "number"}}}, "type": "invoice"},
            {"type": "team"}
        ]
    });
    let same = create_schema(&server, action, &reordered, 200).await;
    assert_eq!(
        same, v1,
        "identical schema returns the latest version unchanged"
    );

    // A change mints version 2; posting it again returns version 2.
    let mut changed = invoice_schema();
    changed["targets"][1] = json!({"type": "team", "metadata": {"type": "object"}});
    let v2 = create_schema(&server, action, &changed, 201).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["targets"], changed["targets"]);
    assert_eq!(create_schema(&server, action, &changed, 200).await, v2);

    // Dropping a part is a change too.
    let mut fewer = changed.clone();
    fewer.as_object_mut().unwrap().remove("metadata");
    let v3 = create_schema(&server, action, &fewer, 201).await;
    assert_eq!(v3["version"], 3);
    assert!(
        v3.get("metadata").is_none(),
        "absent part stays absent: {v3}"
    );

    // Only the latest version counts as "identical": re-posting version 1 appends version 4.
    let v4 = create_schema(&server, action, &invoice_schema(), 201).await;
    assert_eq!(v4["version"], 4);

    // Versions are immutable: every one is still listed exactly as it was created.
    let page = list(&server, &schemas_path(action)).await;
    assert_eq!(versions(&page), [4, 3, 2, 1]);
    assert_eq!(page["data"][3], v1);
    assert_eq!(page["data"][2], v2);
    assert_eq!(page["data"][1], v3);
    assert_eq!(page["data"][0], v4);

    // The action: created with version 1, updated with the latest version, which it carries.
    let actions = list(&server, "/audit_logs/actions").await;
    assert_eq!(names(&actions), [action]);
    let entry = &actions["data"][0];
    assert_eq!(entry["object"], "audit_log_action");
    assert_eq!(entry["schema"], v4);
    assert_eq!(entry["created_at"], v1["created_at"]);
    assert_eq!(entry["updated_at"], v4["created_at"]);
    server.stop().await;
}

#[tokio::test]
async fn an_identical_post_does_not_touch_the_action() {
    let server = TestServer::start().await;
    create_schema(
        &server,
        "doc.viewed",
        &json!({"targets": [{"type": "doc"}]}),
        201,
    )
    .await;
    let before = list(&server, "/audit_logs/actions").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    create_schema(
        &server,
        "doc.viewed",
        &json!({"targets": [{"type": "doc"}]}),
        200,
    )
    .await;
    let after = list(&server, "/audit_logs/actions").await;
    assert_eq!(before, after);
    assert_eq!(
        versions(&list(&server, &schemas_path("doc.viewed")).await),
        [1]
    );
    server.stop().await;
}

#[tokio::test]
async fn invalid_schema_documents_are_422_naming_the_field() {
    let server = TestServer::start().await;
    let target = json!([{"type": "invoice"}]);
    #[rustfmt::skip]
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "targets", "required"),
        (json!({"targets": null}), "targets", "required"),
        (json!({"targets": []}), "targets", "required"),
        (json!({"targets": "invoice"}), "targets", "invalid_type"),
        (json!({"targets": [{"metadata": {}}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": ""}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": 5}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": "a"}, {"type": "b"}, {"type": "a"}]}), "targets.2.type", "duplicate"),
        (json!({"targets": (0..51).map(|i| json!({"type": format!("t{i}")})).collect::<Vec<_>>()}), "targets", "too_many_items"),
        // Not a JSON Schema: a non-object, an unknown type, a bad regex, a dangling local $ref.
        (json!({"targets": [{"type": "a", "metadata": []}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": [{"type": "a", "metadata": {"type": "nonsense"}}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": 5}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"properties": {"a": {"pattern": "("}}}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$ref": "#/definitions/missing"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "actor": {"metadata": {"required": "role"}}}), "actor.metadata", "invalid_schema"),
        // Remote references are never fetched: http(s), file, relative to a remote $id, urn.
        (json!({"targets": target, "metadata": {"$ref": "https://example.com/schema.json"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "actor": {"metadata": {"$ref": "file:///etc/passwd"}}}), "actor.metadata", "invalid_schema"),
        (json!({"targets": [{"type": "a", "metadata": {"$id": "https://example.com/root.json", "properties": {"a": {"$ref": "other.json"}}}}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$ref": "urn:example:thing"}}), "metadata", "invalid_schema"),
        // A $schema that is not one of the bundled drafts.
        (json!({"targets": target, "metadata": {"$schema": "https://evil.example/meta"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$schema": "https://json-schema.org/draft/2099-01/schema"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$schema": 7}}), "metadata", "invalid_schema"),
        // actor needs metadata.
        (json!({"targets": target, "actor": {}}), "actor.metadata", "required"),
        (json!({"targets": target, "actor": {"metadata": null}}), "actor.metadata", "required"),
        (json!({"targets": target, "actor": "user"}), "actor", "invalid_type"),
        (json!([{"type": "invoice"}]), "body", "invalid_type"),
    ];
    for (body, field, code) in cases {
        let (status, response) = post_schema(&server, "invoice.paid", &body).await;
        assert_eq!(status, 422, "{body}: {response}");
        assert_eq!(response["message"], "Validation failed.");
        let errors = field_errors(&response);
        assert!(
            errors.contains(&(field.to_string(), code.to_string())),
            "{body}: expected ({field}, {code}) in {errors:?}"
        );
    }
    // Every problem of one document at once.
    let (status, response) = post_schema(
        &server,
        "invoice.paid",
        &json!({"targets": [{"type": "a", "metadata": {"type": 1}}, {"type": "a"}], "actor": {}, "metadata": {"$ref": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(status, 422);
    let mut fields: Vec<String> = field_errors(&response)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "actor.metadata",
            "metadata",
            "targets.0.metadata",
            "targets.1.type"
        ]
    );

    // Nothing was created by any of them.
    let (status, response) = get(&server, &schemas_path("invoice.paid")).await;
    assert_eq!(status, 404, "{response}");
    assert_eq!(
        list(&server, "/audit_logs/actions").await["data"],
        json!([])
    );
    server.stop().await;
}

#[tokio::test]
async fn action_names_over_1000_characters_are_422() {
    let server = TestServer::start().await;
    let body = json!({"targets": [{"type": "x"}]});
    let (status, response) = post_schema(&server, &"a".repeat(1001), &body).await;
    assert_eq!(status, 422, "{response}");
    assert_eq!(
        field_errors(&response),
        [("action".to_string(), "invalid_value".to_string())]
    );
    create_schema(&server, &"a".repeat(1000), &body, 201).await;
    server.stop().await;
}

#[tokio::test]
async fn schema_creation_honours_idempotency_keys() {
    let server = TestServer::start().await;
    let post = |key: &str, body: &Value| {
        server
            .post(&schemas_path("doc.viewed"))
            .header("Idempotency-Key", key)
            .json(body)
    };
    let v1_body = json!({"targets": [{"type": "doc"}]});
    let (status, v1) = send(post("key-1", &v1_body)).await;
    assert_eq!(status, 201, "{v1}");
    // A retry with the same key replays the first answer and mints nothing.
    let (status, replay) = send(post("key-1", &v1_body)).await;
    assert_eq!((status, &replay), (201, &v1));
    // The same key with another document is a conflict, and creates no version either.
    let (status, conflict) = send(post("key-1", &json!({"targets": [{"type": "other"}]}))).await;
    assert_eq!(status, 409, "{conflict}");
    // A new key: the identical document is a 200 with version 1.
    let (status, same) = send(post("key-2", &v1_body)).await;
    assert_eq!((status, &same), (200, &v1));
    assert_eq!(
        versions(&list(&server, &schemas_path("doc.viewed")).await),
        [1]
    );
    server.stop().await;
}

#[tokio::test]
async fn valid_json_schemas_of_every_bundled_draft_and_local_refs_are_accepted() {
    let server = TestServer::start().await;
    let documents = [
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}),
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}),
        json!({"definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s"}}}),
        json!({"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "#"}}}),
        json!({}),
    ];
    for (i, metadata) in documents.into_iter().enumerate() {
        let body =
            json!({"targets": [{"type": "x", "metadata": metadata.clone()}], "metadata": metadata});
        let schema = create_schema(&server, "x.happened", &body, 201).await;
        assert_eq!(schema["version"], i as i64 + 1);
        assert_eq!(schema["metadata"], body["metadata"], "stored as submitted");
    }
    server.stop().await;
}

#[tokio::test]
async fn percent_encoded_action_names_are_one_segment() {
    let server = TestServer::start().await;
    let body = json!({"targets": [{"type": "x"}]});
    create_schema(&server, "billing%2Finvoice%20paid", &body, 201).await;
    let page = list(&server, &schemas_path("billing%2Finvoice%20paid")).await;
    assert_eq!(versions(&page), [1]);
    let actions = list(&server, "/audit_logs/actions").await;
    assert_eq!(names(&actions), ["billing/invoice paid"]);
    server.stop().await;
}

// ---------------------------------------------------------------- listing

/// Creates actions `a1`…`a5` in that order; `a2` gets a second version afterwards.
async fn five_actions(server: &TestServer) {
    for i in 1..=5 {
        let body = json!({"targets": [{"type": format!("t{i}")}]});
        create_schema(server, &format!("a{i}"), &body, 201).await;
    }
    // A new millisecond, so the action's updated_at differs from its created_at.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let body = json!({"targets": [{"type": "t2"}, {"type": "extra"}]});
    create_schema(server, "a2", &body, 201).await;
}

#[tokio::test]
async fn list_actions_carries_the_latest_schema_newest_first() {
    let server = TestServer::start().await;
    five_actions(&server).await;
    let page = list(&server, "/audit_logs/actions").await;
    // Ordered by when the action was created, not when it last changed.
    assert_eq!(names(&page), ["a5", "a4", "a3", "a2", "a1"]);
    assert_eq!(
        page["list_metadata"],
        json!({"before": null, "after": null})
    );
    for action in page["data"].as_array().unwrap() {
        assert_eq!(action["object"], "audit_log_action");
        assert_eq!(action["schema"]["object"], "audit_log_schema");
        let name = action["name"].as_str().unwrap();
        let latest = &list(&server, &schemas_path(name)).await["data"][0];
        assert_eq!(
            &action["schema"], latest,
            "{name} carries its latest schema"
        );
    }
    let a2 = &page["data"][3];
    assert_eq!(a2["schema"]["version"], 2);
    assert_eq!(
        a2["schema"]["targets"],
        json!([{"type": "t2"}, {"type": "extra"}])
    );
    assert_ne!(a2["updated_at"], a2["created_at"]);
    server.stop().await;
}

#[tokio::test]
async fn list_actions_paginates_with_cursors_in_both_orders() {
    let server = TestServer::start().await;
    five_actions(&server).await;

    // desc, limit 2: [a5 a4] [a3 a2] [a1].
    let first = list(&server, "/audit_logs/actions?limit=2").await;
    assert_eq!(names(&first), ["a5", "a4"]);
    assert_eq!(cursor(&first, "before"), None);
    let after = cursor(&first, "after").expect("more pages");
    let second = list(
        &server,
        &format!("/audit_logs/actions?limit=2&after={after}"),
    )
    .await;
    assert_eq!(names(&second), ["a3", "a2"]);
    let back = cursor(&second, "before").expect("a page precedes");
    let third = list(
        &server,
        &format!(
            "/audit_logs/actions?limit=2&after={}",
            cursor(&second, "after").unwrap()
        ),
    )
    .await;
    assert_eq!(names(&third), ["a1"]);
    assert_eq!(cursor(&third, "after"), None);
    assert!(cursor(&third, "before").is_some());

    // `before` walks back to the first page.
    let previous = list(
        &server,
        &format!("/audit_logs/actions?limit=2&before={back}"),
    )
    .await;
    assert_eq!(names(&previous), ["a5", "a4"]);
    assert_eq!(cursor(&previous, "before"), None);
    assert!(cursor(&previous, "after").is_some());

    // asc walks the other way; every action exactly once either way.
    let asc: Vec<String> = walk(&server, "/audit_logs/actions?limit=2&order=asc")
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(asc, ["a1", "a2", "a3", "a4", "a5"]);
    let desc: Vec<String> = walk(&server, "/audit_logs/actions?limit=2&order=desc")
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(desc, ["a5", "a4", "a3", "a2", "a1"]);

    // `normal`: newest first, `before` leads to older records.
    let normal = list(&server, "/audit_logs/actions?limit=2&order=normal").await;
    assert_eq!(names(&normal), ["a5", "a4"]);
    assert_eq!(cursor(&normal, "after"), None);
    let older = cursor(&normal, "before").expect("older records exist");
    let normal2 = list(
        &server,
        &format!("/audit_logs/actions?limit=2&order=normal&before={older}"),
    )
    .await;
    assert_eq!(names(&normal2), ["a3", "a2"]);

    // limit 1 and 100 are the bounds; Node's literal "null" cursor means no cursor.
    assert_eq!(
        names(&list(&server, "/audit_logs/actions?limit=1").await),
        ["a5"]
    );
    assert_eq!(
        names(&list(&server, "/audit_logs/actions?limit=100&after=null&before=").await).len(),
        5
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_list_parameters_are_422() {
    let server = TestServer::start().await;
    create_schema(&server, "a1", &json!({"targets": [{"type": "t"}]}), 201).await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=2.5", "limit"),
        ("order=sideways", "order"),
        ("before=x&after=y", "before"),
    ];
    for base in ["/audit_logs/actions", "/audit_logs/actions/a1/schemas"] {
        for (query, field) in cases {
            let (status, body) = get(&server, &format!("{base}?{query}")).await;
            assert_eq!(status, 422, "{base}?{query}: {body}");
            assert_eq!(body["message"], "Validation failed.");
            let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
            assert!(fields.contains(&field.to_string()), "{query}: {fields:?}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn list_schemas_is_newest_first_paginates_and_404s_for_unknown_actions() {
    let server = TestServer::start().await;
    for i in 1..=5 {
        let body = json!({"targets": [{"type": format!("t{i}")}]});
        let schema = create_schema(&server, "doc.edited", &body, 201).await;
        assert_eq!(schema["version"], i);
    }
    // Another action's versions never show up here.
    create_schema(
        &server,
        "doc.deleted",
        &json!({"targets": [{"type": "t"}]}),
        201,
    )
    .await;

    let all = list(&server, &schemas_path("doc.edited")).await;
    assert_eq!(versions(&all), [5, 4, 3, 2, 1]);
    for schema in all["data"].as_array().unwrap() {
        let version = schema["version"].as_i64().unwrap();
        assert_eq!(schema["targets"], json!([{"type": format!("t{version}")}]));
    }

    let path = format!("{}?limit=2", schemas_path("doc.edited"));
    let first = list(&server, &path).await;
    assert_eq!(versions(&first), [5, 4]);
    let second = list(
        &server,
        &format!("{path}&after={}", cursor(&first, "after").unwrap()),
    )
    .await;
    assert_eq!(versions(&second), [3, 2]);
    let back = list(
        &server,
        &format!("{path}&before={}", cursor(&second, "before").unwrap()),
    )
    .await;
    assert_eq!(versions(&back), [5, 4]);
    let walked: Vec<i64> = walk(&server, &path)
        .await
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(walked, [5, 4, 3, 2, 1]);
    let asc: Vec<i64> = walk(&server, &format!("{path}&order=asc"))
        .await
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(asc, [1, 2, 3, 4, 5]);

    let (status, body) = get(&server, &schemas_path("doc.nope")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Audit Log Action not found: 'doc.nope'.");
    server.stop().await;
}

// ---------------------------------------------------------------- ingest validation

#[tokio::test]
async fn a_missing_declared_target_type_is_400_at_targets() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([{"id": "team_1", "type": "team"}]),
        Some(json!({"role": "admin"})),
        None,
    );
    let (message, errors) = expect_invalid(&server, &body).await;
    assert_eq!(message, "Invalid Audit Log event.");
    assert_eq!(paths(&errors), [("/targets".into(), "contains".into())]);
    let schema_path = errors[0]["schemaPath"].as_str().unwrap();
    assert!(
        schema_path.starts_with("#/properties/targets/allOf/0/"),
        "{schema_path}"
    );
    assert!(errors[0]["message"].as_str().unwrap().contains("invoice"));

    // No targets at all misses both declared types.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([]),
        Some(json!({"role": "a"})),
        None,
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    assert_eq!(
        paths(&errors),
        [
            ("/targets".into(), "contains".into()),
            ("/targets".into(), "contains".into())
        ]
    );
    assert_eq!(
        server.count_events(&org).await,
        0,
        "rejected events are not stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn metadata_errors_report_their_instance_paths_all_at_once() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    // Undeclared target first, so the invoice sits at position 1; a second invoice at 3.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([
            {"id": "x", "type": "undeclared", "metadata": {"amount": "not checked"}},
            {"id": "inv_1", "type": "invoice", "metadata": {"amount": "five"}},
            {"id": "team_1", "type": "team", "metadata": {"anything": true}},
            {"id": "inv_2", "type": "invoice"}
        ]),
        Some(json!({"role": 5})),
        Some(json!({"note": true})),
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    let mut found = paths(&errors);
    found.sort();
    assert_eq!(
        found,
        [
            ("/actor/metadata/role".into(), "type".into()),
            ("/metadata/note".into(), "type".into()),
            ("/targets/1/metadata/amount".into(), "type".into()),
            ("/targets/3/metadata".into(), "required".into()),
        ],
        "{errors:?}"
    );
    let role = errors
        .iter()
        .find(|e| e["instancePath"] == "/actor/metadata/role")
        .unwrap();
    assert_eq!(
        role["schemaPath"],
        "#/properties/actor/properties/metadata/properties/role/type"
    );

    // Absent actor metadata is checked as {}: the required `role` is missing.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([{"id": "i", "type": "invoice", "metadata": {"amount": 1}}, {"id": "t", "type": "team"}]),
        None,
        None,
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    assert_eq!(
        paths(&errors),
        [("/actor/metadata".into(), "required".into())]
    );
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn conforming_events_and_undeclared_extra_targets_are_accepted() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    expect_accepted(&server, &invoice_event(&org, "invoice.paid", None)).await;
    expect_accepted(&server, &invoice_event(&org, "invoice.paid", Some(1))).await;
    // Extra target types, repeated declared types and extra metadata keys are all fine.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([
            {"id": "u", "type": "user", "metadata": {"whatever": 1}},
            {"id": "i1", "type": "invoice", "metadata": {"amount": 1, "currency": "EUR"}},
            {"id": "i2", "type": "invoice", "metadata": {"amount": 2}},
            {"id": "t", "type": "team"}
        ]),
        Some(json!({"role": "admin", "level": 3})),
        None,
    );
    expect_accepted(&server, &body).await;
    let stored = server.stored_events("default", &org).await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|e| e.action == "invoice.paid"));
    server.stop().await;
}

#[tokio::test]
async fn each_version_validates_its_own_events() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let action = "invoice.paid";
    create_schema(&server, action, &invoice_schema(), 201).await;
    // Version 2: only a `team` target, and the actor's `role` is now a number.
    let v2 = json!({
        "targets": [{"type": "team"}],
        "actor": {"metadata": {"type": "object", "properties": {"role": {"type": "number"}}, "required": ["role"]}}
    });
    create_schema(&server, action, &v2, 201).await;
    let v2_event = |version: Option<i64>| {
        event(
            &org,
            action,
            version,
            json!([{"id": "t", "type": "team"}]),
            Some(json!({"role": 7})),
            None,
        )
    };

    // Version 1 (explicit or omitted) is still validated against version 1.
    expect_accepted(&server, &invoice_event(&org, action, None)).await;
    expect_accepted(&server, &invoice_event(&org, action, Some(1))).await;
    let (_, errors) = expect_invalid(&server, &v2_event(None)).await;
    let mut found = paths(&errors);
    found.sort();
    assert_eq!(
        found,
        [
            ("/actor/metadata/role".into(), "type".into()),
            ("/targets".into(), "contains".into())
        ]
    );

    // Version 2 events against version 2.
    expect_accepted(&server, &v2_event(Some(2))).await;
    let (_, errors) = expect_invalid(&server, &invoice_event(&org, action, Some(2))).await;
    assert_eq!(
        paths(&errors),
        [("/actor/metadata/role".into(), "type".into())]
    );

    // Version 3 does not exist.
    let (message, errors) = expect_invalid(&server, &v2_event(Some(3))).await;
    assert_eq!(message, unconfigured(action, 3));
    assert_eq!(errors.len(), 1);
    assert_eq!(server.count_events(&org).await, 3);
    server.stop().await;
}

#[tokio::test]
async fn actions_without_a_schema_are_accepted_by_default() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    expect_accepted(&server, &event_body(&org)).await;
    let mut versioned = event_body(&org);
    versioned["event"]["version"] = json!(9);
    expect_accepted(&server, &versioned).await;
    assert_eq!(server.count_events(&org).await, 2);
    server.stop().await;
}

#[tokio::test]
async fn require_schemas_rejects_actions_without_a_schema() {
    let server = TestServer::start_with(|c| c.require_schemas = true).await;
    let org = server.create_org("Acme").await;

    let (message, errors) = expect_invalid(&server, &event_body(&org)).await;
    assert_eq!(
        message,
        unconfigured("user.signed_in", 1),
        "version 1 is assumed"
    );
    assert_eq!(errors[0]["message"], message.as_str());
    let mut versioned = event_body(&org);
    versioned["event"]["version"] = json!(4);
    let (message, _) = expect_invalid(&server, &versioned).await;
    assert_eq!(message, unconfigured("user.signed_in", 4));

    // Through the SDK too.
    let error = server
        .workos()
        .audit_logs()
        .create_event(common::sdk_event(&org, "2026-02-02T16:35:39.317Z"))
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.code.as_deref(), Some("invalid_audit_log_event"));
    assert_eq!(api.message, unconfigured("user.signed_in", 1));
    assert_eq!(server.count_events(&org).await, 0);

    // Once the action has a schema its events go through, at once.
    create_schema(
        &server,
        "user.signed_in",
        &json!({"targets": [{"type": "team"}]}),
        201,
    )
    .await;
    expect_accepted(&server, &event_body(&org)).await;
    let (message, _) = expect_invalid(&server, &versioned).await;
    assert_eq!(message, unconfigured("user.signed_in", 4));
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_schema_created_after_events_were_accepted_applies_immediately() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let action = "invoice.paid";
    // Accepted while the action has no schema (and the server remembers it has none).
    let lacking_invoice = event(
        &org,
        action,
        None,
        json!([{"id": "t", "type": "team"}]),
        Some(json!({"role": "admin"})),
        None,
    );
    expect_accepted(&server, &lacking_invoice).await;
    expect_accepted(&server, &lacking_invoice).await;

    create_schema(&server, action, &invoice_schema(), 201).await;
    // No waiting: the very next event is validated.
    let (_, errors) = expect_invalid(&server, &lacking_invoice).await;
    assert_eq!(paths(&errors), [("/targets".into(), "contains".into())]);
    expect_accepted(&server, &invoice_event(&org, action, None)).await;

    // Same for a new version: version 2 is usable right after it is created.
    let mut version_2 = lacking_invoice.clone();
    version_2["event"]["version"] = json!(2);
    let (message, _) = expect_invalid(&server, &version_2).await;
    assert_eq!(message, unconfigured(action, 2));
    create_schema(
        &server,
        action,
        &json!({"targets": [{"type": "team"}]}),
        201,
    )
    .await;
    expect_accepted(&server, &version_2).await;
    assert_eq!(server.count_events(&org).await, 4);
    server.stop().await;
}

#[tokio::test]
async fn schemas_are_isolated_per_environment() {
    let server = TestServer::start().await;
    let other_key = server.key_for_environment("other").await;
    let as_other = |path: &str| server.http.get(server.url(path)).bearer_auth(&other_key);
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;
    create_schema(
        &server,
        "invoice.paid",
        &json!({"targets": [{"type": "x"}]}),
        201,
    )
    .await;

    // The other environment sees no actions and no schemas of this one.
    let (status, body) = send(as_other("/audit_logs/actions")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]), "{body}");
    let (status, body) = send(as_other(&schemas_path("invoice.paid"))).await;
    assert_eq!(status, 404, "{body}");

    // Creating the same action there starts at version 1 and leaves this one alone.
    let (status, created) = send(
        server
            .http
            .post(server.url(&schemas_path("invoice.paid")))
            .bearer_auth(&other_key)
            .json(&json!({"targets": [{"type": "other_only"}]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);
    let (_, theirs) = send(as_other("/audit_logs/actions")).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["data"][0]["schema"], created);
    let ours = list(&server, &schemas_path("invoice.paid")).await;
    assert_eq!(versions(&ours), [2, 1]);
    assert_eq!(ours["data"][1]["targets"], invoice_schema()["targets"]);

    // Events of the default environment are validated against its own version 1 only.
    expect_accepted(&server, &invoice_event(&org, "invoice.paid", None)).await;
    let (_, errors) = expect_invalid(
        &server,
        &event(
            &org,
            "invoice.paid",
            None,
            json!([{"id": "o", "type": "other_only"}]),
            Some(json!({"role": "a"})),
            None,
        ),
    )
    .await;
    assert!(paths(&errors).contains(&("/targets".into(), "contains".into())));
    server.stop().await;
}

#[tokio::test]
async fn events_of_another_environment_are_validated_by_its_schemas_only() {
    let server = TestServer::start().await;
    let other_key = server.key_for_environment("other").await;
    // Organizations belong to an environment: create one in "other".
    let (status, org) = send(
        server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Other Co"})),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().unwrap().to_string();
    let post_other = |body: &Value| {
        server
            .http
            .post(server.url("/audit_logs/events"))
            .bearer_auth(&other_key)
            .json(body)
    };

    // A schema in the default environment does not apply to "other".
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;
    let lacking_invoice = event(&org, "invoice.paid", None, json!([]), None, None);
    let (status, body) = send(post_other(&lacking_invoice)).await;
    assert_eq!(status, 200, "{body}");

    // Its own schema does, immediately.
    let (status, body) = send(
        server
            .http
            .post(server.url(&schemas_path("invoice.paid")))
            .bearer_auth(&other_key)
            .json(&json!({"targets": [{"type": "invoice"}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(post_other(&lacking_invoice)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["instancePath"], "/targets");
    assert_eq!(server.stored_events("other", &org).await.len(), 1);
    server.stop().await;
}

// ---------------------------------------------------------------- the official Rust SDK

fn sdk_schema(targets: &[&str], role: Option<&str>) -> CreateSchemaParams {
    CreateSchemaParams::new(workos::AuditLogSchemaInput {
        actor: role.map(|kind| workos::AuditLogSchemaActorInput {
            metadata: map(json!({
                "type": "object",
                "properties": {"role": {"type": kind}},
                "required": ["role"]
            })),
        }),
        targets: targets
            .iter()
            .map(|kind| workos::AuditLogSchemaTargetInput {
                type_: kind.to_string(),
                metadata: None,
            })
            .collect(),
        metadata: Some(map(
            json!({"type": "object", "properties": {"count": {"type": "integer"}}}),
        )),
    })
}

#[tokio::test]
async fn sdk_creates_schemas_and_lists_them_across_pages() {
    let server = TestServer::start().await;
    let client = server.workos();
    let audit_logs = client.audit_logs();

    let v1 = audit_logs
        .create_schema("sdk.action_1", sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    assert_eq!((v1.object.as_str(), v1.version), ("audit_log_schema", 1));
    assert_eq!(v1.targets.len(), 1);
    assert_eq!(v1.targets[0].type_, "team");
    assert_eq!(
        v1.actor.as_ref().unwrap().metadata["properties"]["role"]["type"],
        "string"
    );
    // HashMap key order differs between calls; the schema is still identical.
    let again = audit_logs
        .create_schema("sdk.action_1", sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.created_at.as_str()),
        (1, v1.created_at.as_str())
    );
    for (version, role) in [(2, "number"), (3, "boolean"), (4, "integer"), (5, "string")] {
        let schema = audit_logs
            .create_schema("sdk.action_1", sdk_schema(&["team", "doc"], Some(role)))
            .await
            .unwrap();
        assert_eq!(schema.version, version);
    }
    for i in 2..=5 {
        audit_logs
            .create_schema(&format!("sdk.action_{i}"), sdk_schema(&["team"], None))
            .await
            .unwrap();
    }

    // list_actions: one page, then every page with limit 2.
    let page = audit_logs
        .list_actions(ListActionsParams {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let first: Vec<&str> = page.data.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(first, ["sdk.action_5", "sdk.action_4"]);
    assert!(page.list_metadata.after.is_some());
    let all: Vec<workos::AuditLogAction> = audit_logs
        .list_actions_auto_paging(ListActionsParams {
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let all_names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        all_names,
        [
            "sdk.action_5",
            "sdk.action_4",
            "sdk.action_3",
            "sdk.action_2",
            "sdk.action_1"
        ]
    );
    let action_1 = all.iter().find(|a| a.name == "sdk.action_1").unwrap();
    assert_eq!(action_1.object, "audit_log_action");
    assert_eq!(action_1.schema.version, 5);
    assert_eq!(action_1.created_at, v1.created_at);
    let asc: Vec<String> = audit_logs
        .list_actions_auto_paging(ListActionsParams {
            limit: Some(2),
            order: Some(workos::PaginationOrder::Asc),
            ..Default::default()
        })
        .map_ok(|a| a.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        asc,
        [
            "sdk.action_1",
            "sdk.action_2",
            "sdk.action_3",
            "sdk.action_4",
            "sdk.action_5"
        ]
    );

    // list_action_schemas: newest first, across pages.
    let page = audit_logs
        .list_action_schemas(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [5, 4]
    );
    let second = audit_logs
        .list_action_schemas(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                after: page.list_metadata.after.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        second.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [3, 2]
    );
    let all_versions: Vec<i64> = audit_logs
        .list_action_schemas_auto_paging(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .map_ok(|s| s.version)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all_versions, [5, 4, 3, 2, 1]);
    let asc_versions: Vec<i64> = audit_logs
        .list_action_schemas_auto_paging(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                order: Some(workos::PaginationOrder::Asc),
                ..Default::default()
            },
        )
        .map_ok(|s| s.version)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(asc_versions, [1, 2, 3, 4, 5]);

    // Unknown action: 404 through the SDK.
    let error = audit_logs
        .list_action_schemas("sdk.unknown", ListActionSchemasParams::default())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    server.stop().await;
}

#[tokio::test]
async fn sdk_schema_errors_are_api_errors() {
    let server = TestServer::start().await;
    let client = server.workos();
    let error = client
        .audit_logs()
        .create_schema(
            "sdk.action",
            CreateSchemaParams::new(workos::AuditLogSchemaInput {
                actor: None,
                targets: vec![],
                metadata: None,
            }),
        )
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status, 422);
    assert_eq!(api.code.as_deref(), Some("validation_failed"));
    let raw: Value = serde_json::from_slice(&api.raw_body).unwrap();
    assert_eq!(
        field_errors(&raw),
        [("targets".to_string(), "required".to_string())]
    );
    server.stop().await;
}

/// An SDK event of `action` with a `team` target and actor metadata `role`.
fn sdk_event_with(
    org: &str,
    action: &str,
    role: workos::AuditLogEventActorMetadataOneOf,
    count: f64,
    version: Option<i64>,
) -> workos::audit_logs::CreateEventParams {
    let mut params = common::sdk_event(org, "2026-02-02T16:35:39.317Z");
    let event = &mut params.body.event;
    event.action = action.to_string();
    event.version = version;
    event.actor.metadata = Some([("role".to_string(), role)].into_iter().collect());
    event.metadata = Some(
        [(
            "count".to_string(),
            workos::AuditLogEventActorMetadataOneOf::F64(count),
        )]
        .into_iter()
        .collect(),
    );
    params
}

#[tokio::test]
async fn sdk_events_are_validated_and_violations_are_400_api_errors() {
    use workos::AuditLogEventActorMetadataOneOf as Meta;
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();
    let audit_logs = client.audit_logs();
    // An action name the SDK must percent-encode.
    let action = "billing/invoice paid";
    audit_logs
        .create_schema(action, sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    audit_logs
        .create_schema(action, sdk_schema(&["team"], Some("boolean")))
        .await
        .unwrap();
    let listed = audit_logs
        .list_action_schemas(action, ListActionSchemasParams::default())
        .await
        .unwrap();
    assert_eq!(
        listed.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [2, 1]
    );

    // Conforming: the SDK sends `count` as the float 3.0, which is an integer in JSON Schema.
    let response = audit_logs
        .create_event(sdk_event_with(
            &org,
            action,
            Meta::String("admin".into()),
            3.0,
            None,
        ))
        .await
        .unwrap();
    assert!(response.success);
    audit_logs
        .create_event(sdk_event_with(&org, action, Meta::Bool(true), 3.0, Some(2)))
        .await
        .unwrap();

    for (role, count, version, path) in [
        (Meta::F64(1.0), 3.0, None, "/actor/metadata/role"),
        (
            Meta::String("admin".into()),
            3.0,
            Some(2),
            "/actor/metadata/role",
        ),
        (Meta::String("admin".into()), 2.5, None, "/metadata/count"),
    ] {
        let error = audit_logs
            .create_event(sdk_event_with(&org, action, role, count, version))
            .await
            .unwrap_err();
        let workos::Error::Api(api) = &error else {
            panic!("expected an API error, got {error:?}");
        };
        assert_eq!(api.status, 400);
        assert_eq!(api.code.as_deref(), Some("invalid_audit_log_event"));
        assert_eq!(api.message, "Invalid Audit Log event.");
        assert!(api.request_id.is_some());
        let raw: Value = serde_json::from_slice(&api.raw_body).unwrap();
        assert_eq!(raw["errors"][0]["instancePath"], path, "{raw}");
        assert_eq!(raw["errors"].as_array().unwrap().len(), 1, "{raw}");
    }

    let error = audit_logs
        .create_event(sdk_event_with(&org, action, Meta::Bool(true), 3.0, Some(3)))
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(
        (api.status, api.code.as_deref()),
        (400, Some("invalid_audit_log_event"))
    );
    assert_eq!(api.message, unconfigured(action, 3));
    assert_eq!(server.count_events(&org).await, 2);
    server.stop().await;
}
