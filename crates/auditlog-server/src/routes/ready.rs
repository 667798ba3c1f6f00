//! `GET /ready`: whether this node can serve, for load balancers and orchestrators. It asks the
//! store (a read of the key table) and the blob store (a metadata request) and answers 503 when
//! either fails or takes longer than [`CHECK_TIMEOUT`]. No authentication, and it names no
//! cause beyond which dependency failed: the cause is logged. `/health` stays the cheap
//! liveness check that asks nothing.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use utoipa::ToSchema;

/// How long one dependency may take to answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// A key no object ever has: asking for it costs one metadata request.
const BLOB_PROBE_KEY: &str = "readiness-probe";

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
    NotReady,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Ok,
    Failed,
    TimedOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessChecks {
    store: CheckOutcome,
    blob_store: CheckOutcome,
}

/// Whether the node is ready, and how each dependency answered.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Readiness)]
pub struct ReadinessView {
    status: ReadinessStatus,
    checks: ReadinessChecks,
}

async fn check<T, E: std::fmt::Display>(
    name: &str,
    probe: impl Future<Output = Result<T, E>>,
) -> CheckOutcome {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(_)) => CheckOutcome::Ok,
        Ok(Err(error)) => {
            tracing::warn!(dependency = name, %error, "readiness check failed");
            CheckOutcome::Failed
        }
        Err(_) => {
            tracing::warn!(dependency = name, "readiness check timed out");
            CheckOutcome::TimedOut
        }
    }
}

/// Readiness
///
/// 200 when the store and the blob store both answer within 2 seconds, else 503 with the one
/// that did not. No API key.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "getReadiness",
    tag = "meta",
    extensions(("x-auditlog-extension" = json!(true))),
    responses(
        (status = 200, description = "Ready.", body = ReadinessView,
            example = json!({"status": "ready", "checks": {"store": "ok", "blob_store": "ok"}})),
        (status = 503, description = "Not ready: a dependency failed or timed out.",
            body = ReadinessView),
    ),
)]
pub async fn get_readiness(State(state): State<AppState>) -> (StatusCode, Json<ReadinessView>) {
    let (store, blob_store) = tokio::join!(
        check("store", state.store.count_api_keys()),
        check("blob_store", state.blob.exists(BLOB_PROBE_KEY)),
    );
    let ready = store == CheckOutcome::Ok && blob_store == CheckOutcome::Ok;
    let (code, status) = if ready {
        (StatusCode::OK, ReadinessStatus::Ready)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, ReadinessStatus::NotReady)
    };
    let checks = ReadinessChecks { store, blob_store };
    (code, Json(ReadinessView { status, checks }))
}
