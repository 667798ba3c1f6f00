//! The WorkOS error envelope. Every failure leaves the server as JSON with a `message`, and a
//! `code` where WorkOS or the official SDKs' error mapping calls for one.

use auditlog_domain::schema::SchemaViolation;
use auditlog_domain::FieldErrors;
use auditlog_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error answer carries at least `message` and `code`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A human-readable sentence.
    pub message: String,
    /// A machine-readable code, e.g. `not_found`, `unauthorized`.
    pub code: String,
}

/// 422: every bad field at once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ValidationError, example = json!({"message": "Validation failed.", "code": "validation_failed", "errors": [{"field": "event.actor.id", "code": "required", "message": "event.actor.id is required"}]}))]
pub struct ValidationErrorBody {
    #[schema(value_type = String, example = "Validation failed.")]
    pub message: &'static str,
    #[schema(value_type = String, pattern = "^validation_failed$")]
    pub code: &'static str,
    #[schema(min_items = 1)]
    pub errors: Vec<auditlog_domain::FieldError>,
}

/// 400: the event does not match its action's schema, or its action/version is not configured.
/// Carries both `code` and `errors` (the Node SDK then raises `BadRequestException`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvalidEventError, example = json!({"message": "Invalid Audit Log event.", "code": "invalid_audit_log_event", "errors": [{"instancePath": "/targets", "schemaPath": "#/properties/targets/allOf/0/contains/properties/type/const", "keyword": "contains", "message": "event.targets must contain a target of type 'team'"}]}))]
pub struct InvalidEventBody {
    pub message: String,
    #[schema(value_type = String, pattern = "^invalid_audit_log_event$")]
    pub code: &'static str,
    pub errors: Vec<SchemaViolation>,
}

fn error_body(message: impl Into<String>, code: &str) -> Json<ErrorBody> {
    Json(ErrorBody {
        message: message.into(),
        code: code.to_string(),
    })
}

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    NotFound(String),
    /// 422 with one entry per offending field.
    Validation(FieldErrors),
    /// 400 with a machine-readable code.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// 400 `invalid_audit_log_event`: the event does not match its action's schema. Carries
    /// both `code` and `errors`, which is what makes the Node SDK raise BadRequestException.
    InvalidEvent {
        message: String,
        errors: Vec<SchemaViolation>,
    },
    Conflict {
        code: &'static str,
        message: String,
    },
    PayloadTooLarge(usize),
    UnsupportedMediaType,
    MethodNotAllowed,
    /// The ingest queue is full; clients should retry after the given seconds.
    Overloaded {
        retry_after_secs: u64,
    },
    /// The request body did not arrive within the body deadline.
    RequestTimeout,
    /// The store cannot serve the request now (disk full, I/O error, database unreachable):
    /// a condition of the server that heals by itself, not of the request.
    Unavailable {
        message: String,
    },
    /// Unexpected; the cause has been logged where it happened.
    Internal,
}

/// Seconds a client is asked to wait when the store is unavailable.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;
impl ApiError {
    pub fn organization_not_found(id: &str) -> ApiError {
        ApiError::NotFound(format!("Organization not found: '{id}'."))
    }

    pub fn invalid_json(detail: impl std::fmt::Display) -> ApiError {
        ApiError::BadRequest {
            code: "invalid_json",
            message: format!("The request body is not valid JSON: {detail}"),
        }
    }

    /// The store is unavailable: 503 with a message that says so.
    pub fn store_unavailable() -> ApiError {
        ApiError::Unavailable {
            message: "Storage is temporarily unavailable (for example, the disk is full); \
                      retry shortly."
                .into(),
        }
    }

    /// Logs an unexpected store failure with its cause chain, once, and hides it from the
    /// client. A store that is unavailable is a 503 instead, logged at most every few seconds.
    /// The answer to an unexpected failure, logged through [`crate::failure::report`]: 503
    /// when storage is unavailable, otherwise 500.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> ApiError {
        match crate::failure::report(context, error) {
            crate::failure::Failure::StorageUnavailable => ApiError::store_unavailable(),
            crate::failure::Failure::Other => ApiError::Internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message: message.to_string(),
            },
            other => ApiError::internal("storage failure", &other),
        }
    }
}

fn service_unavailable(message: &str, retry_after_secs: u64) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        error_body(message, "service_unavailable"),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, code) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized".into(),
                "unauthorized",
            ),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, message, "not_found"),
            ApiError::Validation(errors) => {
                let body = ValidationErrorBody {
                    message: "Validation failed.",
                    code: "validation_failed",
                    errors: errors.0,
                };
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, message, code),
            ApiError::InvalidEvent { message, errors } => {
                let body = InvalidEventBody {
                    message,
                    code: "invalid_audit_log_event",
                    errors,
                };
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, message, code),
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than {limit} bytes."),
                "payload_too_large",
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Request bodies must be JSON (Content-Type: application/json).".into(),
                "unsupported_media_type",
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed on this path.".into(),
                "method_not_allowed",
            ),
            ApiError::Overloaded { retry_after_secs } => {
                return service_unavailable("The server is busy; retry shortly.", retry_after_secs)
            }
            ApiError::Unavailable { message } => {
                return service_unavailable(&message, STORE_RETRY_AFTER_SECS)
            }
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "The request body did not arrive in time.".into(),
                "request_timeout",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error".into(),
                "server_error",
            ),
        };
        (status, error_body(message, code)).into_response()
    }
}
