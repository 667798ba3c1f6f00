//! The generated OpenAPI document: the committed snapshot is exactly it, and it follows the
//! conventions `crate::openapi` promises.

use super::openapi_document;
use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
const UPDATE: &str = "AUDITLOG_UPDATE_OPENAPI";

fn generated() -> Value {
    serde_json::to_value(openapi_document()).expect("the document serializes")
}

fn operations(document: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push((method.to_uppercase(), path.clone(), operation));
        }
    }
    found
}

/// The committed `openapi.json` is exactly what the router generates, so a change of any
/// handler's contract shows up in review as a change of that file.
#[test]
fn committed_document_is_the_generated_one() {
    let generated = serde_json::to_string_pretty(&generated()).expect("serializes") + "\n";
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(SNAPSHOT, &generated).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).expect("read the snapshot");
    assert!(
        committed == generated,
        "{SNAPSHOT} differs from the generated document; if the change is intended, run \
         `{UPDATE}=1 cargo test -p auditlog-server --lib openapi` and commit the file"
    );
}

#[test]
fn every_operation_is_named_tagged_and_summarised_once() {
    let document = generated();
    let mut ids = std::collections::BTreeSet::new();
    for (method, path, operation) in operations(&document) {
        let id = operation["operationId"].as_str();
        assert!(id.is_some(), "{method} {path} has no operationId");
        assert!(
            ids.insert(id.unwrap().to_string()),
            "{method} {path}: duplicate id"
        );
        assert!(
            operation["tags"][0].is_string(),
            "{method} {path} has no tag"
        );
        assert!(
            operation["summary"].is_string(),
            "{method} {path} has no summary"
        );
        for (status, response) in operation["responses"].as_object().expect("responses") {
            if response.get("$ref").is_none() {
                assert!(
                    response["headers"]["X-Request-ID"].is_object(),
                    "{method} {path} {status} does not mention X-Request-ID"
                );
            }
        }
    }
}

/// Operations behind the API key say so (the document-wide bearer requirement, and 401);
/// public ones clear the requirement.
#[test]
fn authentication_follows_the_router() {
    let document = generated();
    let public = [
        "/health",
        "/ready",
        "/openapi.json",
        "/.well-known/auditlog/log-key",
        "/.well-known/auditlog/witnesses",
    ];
    for (method, path, operation) in operations(&document) {
        let is_public = public.contains(&path.as_str()) || path.starts_with("/downloads/");
        if is_public {
            assert_eq!(
                operation["security"],
                serde_json::json!([]),
                "{method} {path}"
            );
            assert!(
                operation["responses"].get("401").is_none(),
                "{method} {path}"
            );
        } else {
            assert!(operation.get("security").is_none(), "{method} {path}");
            assert!(operation["responses"]["401"].is_object(), "{method} {path}");
            assert!(operation["responses"]["503"].is_object(), "{method} {path}");
        }
    }
}

/// Every authenticated POST goes through an idempotency layer, and its description says so.
#[test]
fn authenticated_posts_take_an_idempotency_key() {
    let document = generated();
    for (method, path, operation) in operations(&document) {
        if method != "POST" {
            continue;
        }
        let takes_key = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["$ref"] == "#/components/parameters/Idempotency-Key");
        assert!(takes_key, "POST {path} does not take Idempotency-Key");
        assert!(operation["responses"]["409"].is_object(), "POST {path}");
    }
}

/// Every `$ref` points at something the document defines.
#[test]
fn every_reference_resolves() {
    fn visit(document: &Value, value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let pointer = reference.strip_prefix('#').expect("a local reference");
                    assert!(document.pointer(pointer).is_some(), "{at}: {reference}");
                }
                for (key, entry) in map {
                    visit(document, entry, &format!("{at}/{key}"));
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    visit(document, item, &format!("{at}/{index}"));
                }
            }
            _ => {}
        }
    }
    let document = generated();
    visit(&document, &document, "");
}
