//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations, the
//! API's request and response types, and the conventions below that hold for every operation.
//! `crates/auditlog-server/openapi.json` is its committed snapshot (the `openapi_snapshot` test
//! shows the diff when the code changes it); `GET /openapi.json` serves it.

pub mod responses;

use responses::*;
use serde_json::json;
use utoipa::openapi::path::{Operation, Parameter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Header, OpenApi as Document, RefOr};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "auditlog",
        description = "The WorkOS Audit Logs API (and the subset of the Organizations API the SDKs call) as this server implements it, plus extensions marked `x-auditlog-extension: true`. Every response carries `X-Request-ID`; every error is JSON with `message` and `code`. Wrong methods on a known path answer 405 `method_not_allowed`, unknown paths 404 `not_found` (after authentication). Generated from the server's code.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/", description = "The server that serves this document.")),
    security(("bearerAuth" = [])),
    tags(
        (name = "meta"),
        (name = "events"),
        (name = "exports"),
        (name = "schemas"),
        (name = "organizations"),
        (name = "retention"),
        (name = "legal hold"),
        (name = "tamper evidence"),
    ),
    components(
        schemas(ErrorBody, FieldError, ValidationError),
        responses(
            BadRequest,
            Unauthorized,
            NotFound,
            RequestTimeout,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            LogIntegrityFailure,
            ServiceUnavailable
        )
    )
)]
struct ApiDoc;

/// Tags whose every operation is ours rather than WorkOS's.
const EXTENSION_TAGS: &[&str] = &["legal hold", "tamper evidence"];

/// The whole document: the route tree's `operations` under [`ApiDoc`], with the conventions.
pub fn document(operations: Document) -> Document {
    let mut document = ApiDoc::openapi();
    document.merge(operations);
    apply_conventions(&mut document);
    document
}

/// The document as served and as committed: pretty JSON with a final newline.
pub fn document_json(operations: Document) -> String {
    let document = document(operations);
    let mut text = serde_json::to_string_pretty(&document).expect("the document serializes");
    text.push('\n');
    text
}

fn reference<T: serde::de::DeserializeOwned>(target: &str) -> T {
    serde_json::from_value(json!({ "$ref": target })).expect("a valid reference")
}

fn shared_response(name: &str) -> RefOr<utoipa::openapi::Response> {
    reference(&format!("#/components/responses/{name}"))
}

/// What holds for every operation, written once here rather than in each annotation: the
/// bearer scheme; `X-Request-ID` on every answer; on operations that need a key, 401 and 503;
/// on every POST, the `Idempotency-Key` parameter and the `Idempotent-Replayed` header.
fn apply_conventions(document: &mut Document) {
    for tag in document.tags.iter_mut().flatten() {
        if EXTENSION_TAGS.contains(&tag.name.as_str()) {
            let extensions = tag.extensions.get_or_insert_with(Default::default);
            extensions.insert("x-auditlog-extension".into(), json!(true));
        }
    }
    let components = document.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearerAuth".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API key of this deployment (`Authorization: Bearer sk_…`).",
                ))
                .build(),
        )),
    );
    components.headers.insert(
        "X-Request-ID".into(),
        serde_json::from_value(json!({
            "description": "Echo of the request's `X-Request-ID`, else `req_<ULID>`.",
            "required": true,
            "schema": {"type": "string"}
        }))
        .expect("a valid header"),
    );
    components.headers.insert(
        "Idempotent-Replayed".into(),
        serde_json::from_value(json!({
            "description": "`true` when this answer is the stored one of an earlier request with the same `Idempotency-Key`.",
            "schema": {"type": "string", "enum": ["true"]}
        }))
        .expect("a valid header"),
    );
    components.parameters.insert(
        "Idempotency-Key".into(),
        serde_json::from_value(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Honoured on every POST for 24 hours per environment: the first completed response (below 500, except 429) is replayed byte for byte with `Idempotent-Replayed: true`; the same key with a different request is a 409.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": "^[\\t\\x20-\\x7e]*[\\x21-\\x7e][\\t\\x20-\\x7e]*$"
            },
            "example": "7f1c2a4e-0b5d-4c47-9e0a-3f1f5a6b7c8d"
        }))
        .expect("a valid parameter"),
    );
    for item in document.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, false),
            (&mut item.post, true),
            (&mut item.delete, false),
        ];
        for (operation, is_post) in operations {
            if let Some(operation) = operation.as_mut() {
                apply_operation_conventions(operation, is_post);
            }
        }
    }
}

fn apply_operation_conventions(operation: &mut Operation, is_post: bool) {
    // Public operations declare `security(())`; the rest use the global bearer key.
    let authenticated = operation.security.is_none();
    let responses = &mut operation.responses.responses;
    if authenticated {
        responses
            .entry("401".into())
            .or_insert_with(|| shared_response("Unauthorized"));
        responses
            .entry("503".into())
            .or_insert_with(|| shared_response("ServiceUnavailable"));
    }
    if authenticated && is_post {
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        let parameter: RefOr<Parameter> = reference("#/components/parameters/Idempotency-Key");
        parameters.push(parameter);
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let header: RefOr<Header> = reference("#/components/headers/X-Request-ID");
        response
            .headers
            .entry("X-Request-ID".into())
            .or_insert(header);
        if authenticated && is_post && status.starts_with('2') {
            let header: RefOr<Header> = reference("#/components/headers/Idempotent-Replayed");
            response
                .headers
                .entry("Idempotent-Replayed".into())
                .or_insert(header);
        }
    }
}
