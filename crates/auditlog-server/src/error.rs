//! The WorkOS error envelope. Every failure leaves the server as JSON with a `message`, and a
//! `code` where WorkOS or the official SDKs' error mapping calls for one.

use auditlog_domain::schema::SchemaViolation;
use auditlog_domain::FieldErrors;
use auditlog_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

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
        Json(json!({"message": message, "code": "service_unavailable"})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unauthorized", "code": "unauthorized"}),
            ),
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                json!({"message": message, "code": "not_found"}),
            ),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": "Validation failed.", "code": "validation_failed", "errors": errors.0}),
            ),
            ApiError::BadRequest { code, message } => (
                StatusCode::BAD_REQUEST,
                json!({"message": message, "code": code}),
            ),
            ApiError::InvalidEvent { message, errors } => (
                StatusCode::BAD_REQUEST,
                json!({"message": message, "code": "invalid_audit_log_event", "errors": errors}),
            ),
            ApiError::Conflict { code, message } => (
                StatusCode::CONFLICT,
                json!({"message": message, "code": code}),
            ),
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"message": format!("The request body is larger than {limit} bytes."), "code": "payload_too_large"}),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"message": "Request bodies must be JSON (Content-Type: application/json).", "code": "unsupported_media_type"}),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"message": "Method not allowed on this path.", "code": "method_not_allowed"}),
            ),
            ApiError::Overloaded { retry_after_secs } => {
                return service_unavailable("The server is busy; retry shortly.", retry_after_secs)
            }
            ApiError::Unavailable { message } => {
                return service_unavailable(&message, STORE_RETRY_AFTER_SECS)
            }
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                json!({"message": "The request body did not arrive in time.", "code": "request_timeout"}),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": "Internal Server Error", "code": "server_error"}),
            ),
        };
        (status, Json(body)).into_response()
    }
}
