//! The OpenAPI 3.1 document, generated: each handler's `#[utoipa::path]` annotation and the
//! types it takes and returns describe its operation, the resource routers collect them
//! (`utoipa_axum`), and [`document`] adds what follows from where a route sits in the router
//! (public or behind an API key) and from its shape. The document served at `/openapi.json` is
//! therefore the router's own; a snapshot test keeps the committed copy in step.

mod conventions;
pub mod responses;

pub use conventions::mark_idempotent;

use crate::error::{ErrorBody, InvalidEventBody, ValidationErrorBody};
use serde_json::json;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Components, OpenApi, RefOr};
use utoipa::ToSchema;

/// The `x-` extension that marks an operation or tag with no WorkOS equivalent.
pub const EXTENSION: &str = "x-auditlog-extension";

/// Tags, in the order a reader meets them.
const TAGS: &[(&str, bool)] = &[
    ("meta", false),
    ("events", false),
    ("exports", false),
    ("schemas", false),
    ("organizations", false),
    ("retention", false),
    ("legal hold", true),
    ("tamper evidence", true),
];

/// The whole document from the two halves of the router: `public` routes need no API key,
/// `authenticated` ones do.
pub fn document(public: OpenApi, authenticated: OpenApi) -> OpenApi {
    let mut document = base();
    for (mut half, needs_key) in [(public, false), (authenticated, true)] {
        conventions::apply(&mut half, needs_key);
        let components = document.components.get_or_insert_with(Components::new);
        if let Some(half_components) = half.components.take() {
            components.schemas.extend(half_components.schemas);
        }
        document.paths.merge(half.paths);
    }
    document
}

/// Everything that is not an operation: info, security, tags and the shared components.
fn base() -> OpenApi {
    let mut document: OpenApi = serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "auditlog",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A self-hosted server speaking the WorkOS Audit Logs API, plus \
                extensions. The WorkOS Audit Logs API (and the subset of the Organizations API \
                the SDKs call) as this server implements it, plus extensions marked \
                `x-auditlog-extension: true`. Every response carries `X-Request-ID`; every error \
                is JSON with `message` and `code`. Wrong methods on a known path answer 405 \
                `method_not_allowed`, unknown paths 404 `not_found` (after authentication). \
                Generated from the server's code.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/", "description": "The server that serves this document."}],
        "security": [{"bearerAuth": []}],
        "paths": {},
        "tags": TAGS.iter().map(|(name, extension)| if *extension {
            json!({"name": name, EXTENSION: true})
        } else {
            json!({"name": name})
        }).collect::<Vec<_>>(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer sk_…`. Each key belongs to one \
                        environment; objects of other environments are invisible (404).",
                },
            },
            "headers": {
                "X-Request-ID": {
                    "description": "Echo of the request's `X-Request-ID`, else `req_<ULID>`. \
                        On every answer.",
                    "schema": {"type": "string"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when this answer is the stored one of an earlier \
                        request with the same `Idempotency-Key`.",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
            "parameters": {
                "Idempotency-Key": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "description": "Honoured on every POST for 24 hours per environment: the \
                        first completed response (below 500, except 429) is replayed byte for \
                        byte with `Idempotent-Replayed: true`; the same key with a different \
                        request is a 409.",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": "^[\\t\\x20-\\x7e]*[\\x21-\\x7e][\\t\\x20-\\x7e]*$",
                    },
                    "example": "7f1c2a4e-0b5d-4c47-9e0a-3f1f5a6b7c8d",
                },
            },
        },
    }))
    .expect("the base document is a valid OpenAPI object");
    let components = document.components.get_or_insert_with(Components::new);
    for (name, response) in responses::all() {
        components.responses.insert(name.to_string(), response);
    }
    // Every operation's error answers refer to these, whichever operations exist.
    let mut schemas = Vec::new();
    schema_with_references::<ErrorBody>(&mut schemas);
    schema_with_references::<ValidationErrorBody>(&mut schemas);
    schema_with_references::<InvalidEventBody>(&mut schemas);
    components.schemas.extend(schemas);
    document
}

fn schema_with_references<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
}
