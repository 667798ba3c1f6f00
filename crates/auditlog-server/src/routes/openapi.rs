//! `GET /openapi.json`: the OpenAPI document generated from this code (`crate::openapi`). No
//! authentication.

use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| crate::openapi::document_json(super::operations()));

/// This document
///
/// The OpenAPI 3.1 document of this server, generated from its code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "meta",
    security(()),
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub async fn get_openapi_document() -> Response {
    let mut response = DOCUMENT.as_str().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_openapi_document))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The committed snapshot: reviewers see API changes as a diff of `openapi.json`.
    fn snapshot_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
    }

    #[test]
    fn generated_document_matches_the_committed_snapshot() {
        let generated = crate::openapi::document_json(super::super::operations());
        let path = snapshot_path();
        if std::env::var_os("AUDITLOG_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("writing openapi.json");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            let diff = similar::TextDiff::from_lines(&committed, &generated)
                .unified_diff()
                .header("openapi.json (committed)", "openapi.json (generated)")
                .to_string();
            panic!(
                "The generated OpenAPI document differs from crates/auditlog-server/openapi.json.\n\
                 If the change is intended, run\n\n    \
                 AUDITLOG_UPDATE_OPENAPI=1 cargo test -p auditlog-server --lib openapi\n\n\
                 and commit the file.\n\n{diff}"
            );
        }
    }

    #[test]
    fn document_is_openapi_3_1_with_every_reference_resolving() {
        let document: serde_json::Value =
            serde_json::from_str(&crate::openapi::document_json(super::super::operations()))
                .expect("JSON");
        assert_eq!(document["openapi"], "3.1.0");
        let mut references = Vec::new();
        collect_references(&document, &mut references);
        assert!(!references.is_empty());
        for reference in references {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            assert!(
                document.pointer(pointer).is_some(),
                "{reference} does not resolve"
            );
        }
    }

    fn collect_references(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", serde_json::Value::String(target)) => out.push(target.clone()),
                        _ => collect_references(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter().for_each(|item| collect_references(item, out))
            }
            _ => {}
        }
    }
}
