//! The error answers shared by every operation, as reusable OpenAPI responses. An operation
//! lists the ones it can give (`(status = 404, response = NotFound)`); the bodies are the
//! [`ErrorBody`] that `ApiError` renders.

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::{ContentBuilder, Header, RefOr, Response, ResponseBuilder, Schema};
use utoipa::ToSchema;

/// Every error answer carries at least `message` and `code`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A human-readable sentence.
    pub message: String,
    /// A machine-readable code, e.g. `not_found`, `unauthorized`.
    pub code: String,
}

/// One bad field of a request.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `event.actor.id` or `targets.0.type`.
    pub field: String,
    /// `required`, `invalid_type`, `invalid_value`, `too_long`, `too_many_items`, `invalid_key`, …
    pub code: String,
    pub message: String,
}

/// 422: every bad field at once.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({"message": "Validation failed.", "code": "validation_failed",
    "errors": [{"field": "event.actor.id", "code": "required", "message": "event.actor.id is required"}]})))]
pub struct ValidationError {
    pub message: ValidationMessage,
    pub code: ValidationCode,
    #[schema(min_items = 1)]
    pub errors: Vec<FieldError>,
}

#[derive(Serialize, ToSchema)]
pub enum ValidationMessage {
    #[serde(rename = "Validation failed.")]
    ValidationFailed,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidationCode {
    ValidationFailed,
}

/// The body of an error response: `Error` narrowed to the codes this status can carry.
fn error_schema(status: u16, codes: &[&str]) -> RefOr<Schema> {
    let schema: Value = json!({
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}}
        ],
        "description": format!("{status} error body"),
    });
    serde_json::from_value(schema).expect("a valid schema")
}

fn request_id_header() -> RefOr<Header> {
    serde_json::from_value(json!({"$ref": "#/components/headers/X-Request-ID"}))
        .expect("a valid reference")
}

fn error_response(
    description: &str,
    schema: RefOr<Schema>,
    example: Option<Value>,
    retry_after: bool,
) -> RefOr<Response> {
    let mut content = ContentBuilder::new().schema(Some(schema));
    if let Some(example) = example {
        content = content.example(Some(example));
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content.build());
    if retry_after {
        let header: Header = serde_json::from_value(json!({
            "description": "Seconds to wait before retrying.",
            "required": true,
            "schema": {"type": "integer", "minimum": 1}
        }))
        .expect("a valid header");
        response = response.header("Retry-After", header);
    }
    let mut response = response.build();
    response
        .headers
        .insert("X-Request-ID".into(), request_id_header());
    RefOr::T(response)
}

/// Declares a reusable error response: its name, status, description, codes and example.
macro_rules! error_responses {
    ($($name:ident = $status:literal, $description:literal, [$($code:literal),*] $(, example = $example:expr)?;)*) => {
        $(
            pub struct $name;

            impl<'s> utoipa::ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    #[allow(unused_mut, unused_assignments)]
                    let mut example: Option<Value> = None;
                    $(example = Some($example);)?
                    (
                        stringify!($name),
                        error_response(
                            $description,
                            error_schema($status, &[$($code),*]),
                            example,
                            $status == 503,
                        ),
                    )
                }
            }
        )*
    };
}

error_responses! {
    BadRequest = 400,
        "Malformed request: `invalid_json` (body not JSON or not UTF-8), `invalid_body`, `invalid_path` (undecodable path segment), `invalid_query`, `invalid_idempotency_key` (empty or longer than 255 characters), `invalid_audit_log_export_range_date` (exports: unparsable date or start after end).",
        ["invalid_json", "invalid_body", "invalid_path", "invalid_query", "invalid_idempotency_key", "invalid_audit_log_export_range_date"],
        example = json!({"message": "The request body is not valid JSON: EOF while parsing a value at line 1 column 0", "code": "invalid_json"});
    Unauthorized = 401, "Missing or unknown API key.", ["unauthorized"],
        example = json!({"message": "Unauthorized", "code": "unauthorized"});
    NotFound = 404, "Unknown (or other environment's) object.", ["not_found"],
        example = json!({"message": "Organization not found: 'org_01EHZNVPK3SFK441A1RGBFSHRT'.", "code": "not_found"});
    RequestTimeout = 408, "The request body did not arrive within the body deadline.", ["request_timeout"];
    Conflict = 409,
        "`idempotency_key_reused` (same Idempotency-Key, different request), `idempotency_key_in_use` (the first request with the key is still running), `conflict` (e.g. an `external_id` in use), `legal_hold_unchanged` (placing a hold that is on, releasing one that is off), `not_yet_in_log` (tamper evidence: the log or its checkpoints do not reach that far yet; retry shortly), `export_not_ready` (a bundle exists only for a ready export), `meta_audit_trail` (the meta-audit trail organization is written by the server alone: client events into it, changes of its retention, updates and deletes are refused).",
        ["conflict", "idempotency_key_reused", "idempotency_key_in_use", "legal_hold_unchanged", "not_yet_in_log", "export_not_ready", "meta_audit_trail"];
    PayloadTooLarge = 413, "The body is larger than `--max-body-bytes`.", ["payload_too_large"];
    UnsupportedMediaType = 415,
        "A `Content-Type` other than `application/json` (or `application/*+json`); a missing one is tolerated.",
        ["unsupported_media_type"];
    LogIntegrityFailure = 500,
        "Tamper evidence: the stored data contradicts the organization's log (reported, never hidden behind a generic error).",
        ["log_integrity_failure"];
    ServiceUnavailable = 503,
        "The server cannot take the request now: the ingest queue is full, the connection limit is reached, or storage is unavailable (disk full, I/O error, database unreachable). Nothing was changed; retry after `Retry-After` seconds (the SDKs do).",
        ["service_unavailable"];
}

/// 422 with every bad field (its body is [`ValidationError`], not a narrowed `Error`).
pub struct ValidationFailed;

impl<'s> utoipa::ToResponse<'s> for ValidationFailed {
    fn response() -> (&'s str, RefOr<Response>) {
        let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ValidationError"));
        (
            "ValidationFailed",
            error_response(
                "Missing, ill-typed or out-of-range fields or parameters, or a string, object key or parameter containing U+0000 (NUL).",
                schema,
                None,
                false,
            ),
        )
    }
}
