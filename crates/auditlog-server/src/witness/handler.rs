//! The witness's HTTP API, text only:
//!
//! - `POST /add-checkpoint` (C2SP tlog-witness): 200 with the cosignature line, or the spec's
//!   4xx; a stale old size is a 409 with `Content-Type: text/x.tlog.size` and the latest size.
//! - `GET /checkpoint/<origin>` (our extension for monitors; the spec's monitoring API is not
//!   written yet): the latest checkpoint cosigned for the origin (URL-encoded, or with its
//!   slashes as they are), with the witness's cosignature appended; 404 if none.
//! - `GET /health`.
//!
//! Bodies above 64 KiB get a 413. A client mistake never gets a 5xx.

use super::add_checkpoint::{AddError, Witness};
use crate::body::read_limited;
use crate::error::ApiError;
use auditlog_tlog::cosignature::add_signature_lines;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;

/// The largest add-checkpoint body: a note and 63 proof lines fit many times over.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";
/// C2SP tlog-witness: the body of a 409 for a stale old size is the latest size.
const TLOG_SIZE: &str = "text/x.tlog.size";

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/checkpoint/{*origin}", get(latest_checkpoint))
        .route(
            "/health",
            get(|| async { text(StatusCode::OK, TEXT, "ok\n".into()) }),
        )
        .fallback(|| async { text(StatusCode::NOT_FOUND, TEXT, "not found\n".into()) })
        .with_state(witness)
        .layer(CatchPanicLayer::custom(|_| {
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                TEXT,
                "internal error\n".into(),
            )
        }))
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, request: Request) -> Response {
    let body = match read_limited(request.into_body(), MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(ApiError::PayloadTooLarge(limit)) => {
            let why = format!("the body exceeds {limit} bytes\n");
            return text(StatusCode::PAYLOAD_TOO_LARGE, TEXT, why);
        }
        Err(ApiError::RequestTimeout) => {
            let why = "the body did not arrive in time\n".to_string();
            return text(StatusCode::REQUEST_TIMEOUT, TEXT, why);
        }
        Err(_) => {
            let why = "the body could not be read\n".to_string();
            return text(StatusCode::BAD_REQUEST, TEXT, why);
        }
    };
    match witness.add_checkpoint(&body).await {
        Ok(cosignature) => text(StatusCode::OK, TEXT, cosignature),
        Err(AddError::Stale { latest, .. }) => {
            text(StatusCode::CONFLICT, TLOG_SIZE, format!("{latest}\n"))
        }
        Err(AddError::Store(error)) => {
            tracing::error!(error = %format!("{error:#}"), "witness store failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                TEXT,
                "internal error\n".into(),
            )
        }
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            text(status, TEXT, format!("{refusal}\n"))
        }
    }
}

async fn latest_checkpoint(
    State(witness): State<Arc<Witness>>,
    Path(origin): Path<String>,
) -> Response {
    match witness.store.latest(&origin).await {
        Ok(Some(latest)) => text(
            StatusCode::OK,
            TEXT,
            add_signature_lines(&latest.note, &latest.cosignature),
        ),
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            TEXT,
            format!("no checkpoint cosigned for {origin:?}\n"),
        ),
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "witness store failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                TEXT,
                "internal error\n".into(),
            )
        }
    }
}
