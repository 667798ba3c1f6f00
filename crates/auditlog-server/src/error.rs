//! The WorkOS error envelope. Every failure leaves the server as JSON with a `message`, and a
//! `code` where WorkOS or our SDK mapping (spec §1.3) calls for one.

use auditlog_domain::schema::SchemaViolation;
use auditlog_domain::FieldErrors;
use auditlog_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

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
/// While the store stays unavailable, at most one log line per this many seconds says so.
const UNAVAILABLE_LOG_EVERY_SECS: u64 = 10;

/// When the last "storage unavailable" line was logged (seconds since the first), and how many
/// were left out since: a full disk fails every write of every request and background job,
/// and one line per failure would flood the log (and the disk it may share).
static UNAVAILABLE_LOGGED_AT: AtomicU64 = AtomicU64::new(0);
static UNAVAILABLE_SUPPRESSED: AtomicU64 = AtomicU64::new(0);

fn seconds_since_start() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    // Offset by the interval so that the very first report is logged.
    START.get_or_init(Instant::now).elapsed().as_secs() + UNAVAILABLE_LOG_EVERY_SECS
}

/// Logs that the store is unavailable, at most once per interval.
fn report_unavailable(context: &str, chain: &str) {
    let now = seconds_since_start();
    let last = UNAVAILABLE_LOGGED_AT.load(Ordering::Relaxed);
    if now < last + UNAVAILABLE_LOG_EVERY_SECS
        || UNAVAILABLE_LOGGED_AT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        UNAVAILABLE_SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let suppressed = UNAVAILABLE_SUPPRESSED.swap(0, Ordering::Relaxed);
    tracing::warn!(
        error = %chain,
        similar_failures_not_logged = suppressed,
        "{context}: storage unavailable; answering 503 until it recovers"
    );
}

/// True when a [`StoreError::Unavailable`] is `error` or among its causes.
fn store_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable)
        {
            return true;
        }
        current = error.source();
    }
    false
}

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
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        if store_unavailable(error) {
            report_unavailable(context, &chain);
            return ApiError::store_unavailable();
        }
        tracing::error!(error = %chain, "{context}");
        ApiError::Internal
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
