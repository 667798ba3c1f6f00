//! The error answers operations share, as named response components: an operation lists the
//! ones it can give (`response = NotFound`), and `conventions` adds those that follow from its
//! shape (authentication, a JSON body, query parameters).

use serde_json::{json, Value};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::ToResponse;

/// An error answer whose body is the `Error` schema with `code` limited to `codes`.
fn error_response(description: &str, status: u16, codes: &[&str], example: Value) -> Response {
    let mut content = json!({
        "schema": {
            "allOf": [
                {"$ref": "#/components/schemas/Error"},
                {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}},
            ],
            "description": format!("{status} error body"),
        },
    });
    if !example.is_null() {
        content["example"] = example;
    }
    serde_json::from_value(json!({
        "description": description,
        "content": {"application/json": content},
    }))
    .expect("an error response is a valid Response object")
}

macro_rules! error_responses {
    ($($name:ident => $build:expr;)*) => {
        $(
            pub struct $name;
            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), RefOr::T($build))
                }
            }
        )*
        /// Every shared error response, to register as components.
        pub fn all() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response()),*]
        }
    };
}

error_responses! {
    BadRequest => error_response(
        "Malformed request: `invalid_json` (body not JSON or not UTF-8), `invalid_body`, \
         `invalid_path` (undecodable path segment), `invalid_query`, `invalid_idempotency_key` \
         (empty or longer than 255 characters), `invalid_audit_log_export_range_date` (exports: \
         unparsable date or start after end).",
        400,
        &["invalid_json", "invalid_body", "invalid_path", "invalid_query",
          "invalid_idempotency_key", "invalid_audit_log_export_range_date"],
        json!({"message": "The request body is not valid JSON: EOF while parsing a value at line 1 column 0", "code": "invalid_json"}),
    );
    // `POST /audit_logs/events`: a malformed request, or an event its schema refuses.
    InvalidEvent => {
        let mut response = <BadRequest as ToResponse>::response().1;
        if let RefOr::T(response) = &mut response {
            response.description = "Malformed request (see BadRequest), or \
                `invalid_audit_log_event`: the event does not match its action's schema, or its \
                action/version is not configured."
                .into();
            if let Some(RefOr::T(content)) = response.content.get_mut("application/json") {
                let malformed = content.schema.take();
                content.schema = Some(RefOr::T(Schema::AnyOf(
                    AnyOfBuilder::new()
                        .item(Ref::from_schema_name("InvalidEventError"))
                        .item(malformed.expect("BadRequest has a schema"))
                        .build(),
                )));
                content.example = None;
            }
        }
        match response {
            RefOr::T(response) => response,
            RefOr::Ref(_) => unreachable!("BadRequest is built inline"),
        }
    };
    Unauthorized => error_response(
        "Missing or unknown API key.",
        401,
        &["unauthorized"],
        json!({"message": "Unauthorized", "code": "unauthorized"}),
    );
    NotFound => error_response(
        "Unknown (or other environment's) object.",
        404,
        &["not_found"],
        json!({"message": "Organization not found: 'org_01EHZNVPK3SFK441A1RGBFSHRT'.", "code": "not_found"}),
    );
    Conflict => error_response(
        "`idempotency_key_reused` (same Idempotency-Key, different request), \
         `idempotency_key_in_use` (the first request with the key is still running), `conflict` \
         (e.g. an `external_id` in use), `legal_hold_unchanged` (placing a hold that is on, \
         releasing one that is off), `not_yet_in_log` (tamper evidence: the log or its \
         checkpoints do not reach that far yet; retry shortly), `export_not_ready` (a bundle \
         exists only for a ready export), `meta_audit_trail` (the meta-audit trail organization \
         is written by the server alone: client events into it, changes of its retention, \
         updates and deletes are refused).",
        409,
        &["conflict", "idempotency_key_reused", "idempotency_key_in_use", "legal_hold_unchanged",
          "not_yet_in_log", "export_not_ready", "meta_audit_trail"],
        Value::Null,
    );
    PayloadTooLarge => error_response(
        "The body is larger than `--max-body-bytes`.",
        413,
        &["payload_too_large"],
        Value::Null,
    );
    UnsupportedMediaType => error_response(
        "A `Content-Type` other than `application/json` (or `application/*+json`); a missing \
         one is tolerated.",
        415,
        &["unsupported_media_type"],
        Value::Null,
    );
    ValidationFailed => serde_json::from_value(json!({
        "description": "Missing, ill-typed or out-of-range fields or parameters, or a string, \
                        object key or parameter containing U+0000 (NUL).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}},
    }))
    .expect("a valid Response object");
    LogIntegrityFailure => error_response(
        "Tamper evidence: the stored data contradicts the organization's log (reported, never \
         hidden behind a generic error).",
        500,
        &["log_integrity_failure"],
        Value::Null,
    );
    ServiceUnavailable => {
        let mut response = error_response(
            "The server cannot take the request now: the ingest queue is full, or storage is \
             unavailable (disk full, I/O error, database unreachable). Nothing was changed; \
             retry after `Retry-After` seconds (the SDKs do).",
            503,
            &["service_unavailable"],
            Value::Null,
        );
        response.headers.insert(
            "Retry-After".into(),
            serde_json::from_value(json!({
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            }))
            .expect("a valid Header object"),
        );
        response
    };
}
