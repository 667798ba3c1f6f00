//! Prometheus metrics, served on their own listener (`--metrics-listen`) at `GET /metrics`.
//!
//! Names follow Prometheus conventions: the `auditlog_` prefix, base units in the name
//! (`_seconds`), `_total` on counters. Labels are bounded: a route is its path template, never
//! an id; a status is its code; outcomes are fixed words. The recorder is process-wide (the
//! `metrics` facade), installed once; every server in the process reports into it.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::net::TcpListener;

pub const HTTP_REQUESTS: &str = "auditlog_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "auditlog_http_request_duration_seconds";
pub const INGEST_QUEUE_DEPTH: &str = "auditlog_ingest_queue_depth";
pub const INGEST_BATCH_EVENTS: &str = "auditlog_ingest_batch_events";
pub const INGEST_COMMIT_DURATION: &str = "auditlog_ingest_commit_duration_seconds";
pub const EVENTS_STORED: &str = "auditlog_events_stored_total";
pub const IDEMPOTENT_REPLAYS: &str = "auditlog_idempotent_replays_total";
pub const EXPORT_JOBS: &str = "auditlog_export_jobs_total";
pub const EXPORT_DURATION: &str = "auditlog_export_duration_seconds";
pub const RETENTION_SWEEPS: &str = "auditlog_retention_sweeps_total";
pub const RETENTION_EVENTS_REDACTED: &str = "auditlog_retention_events_redacted_total";
pub const STORE_CONNECTIONS: &str = "auditlog_store_connections";
pub const LOG_UNSIGNED_EVENTS: &str = "auditlog_log_unsigned_events";
pub const LOG_CHECKPOINTS_SIGNED: &str = "auditlog_log_checkpoints_signed_total";
pub const LOG_COSIGNATURES: &str = "auditlog_log_cosignatures_total";
pub const STREAM_DELIVERIES: &str = "auditlog_stream_deliveries_total";
pub const STREAM_DELIVERY_DURATION: &str = "auditlog_stream_delivery_duration_seconds";
pub const STREAM_EVENTS_DELIVERED: &str = "auditlog_stream_events_delivered_total";
pub const STREAM_EVENTS_SKIPPED: &str = "auditlog_stream_events_skipped_total";
pub const STREAMS: &str = "auditlog_streams";
pub const STREAM_LAG_EVENTS: &str = "auditlog_stream_lag_events";

/// Latency buckets, in seconds: 0.5 ms to 30 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Group-commit sizes, in events, up to the largest `--ingest-batch` worth asking about.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// The process's recorder, installed on first use.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(INGEST_BATCH_EVENTS.into()),
                        BATCH_BUCKETS,
                    )
                })
                .expect("bucket lists are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder already installed (an embedding program's): ours still renders
            // what it is given, which is nothing; say so once.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            handle
        })
        .clone()
}

/// Sets the gauges of the store's connection pools; called at each scrape, so they are current.
pub fn record_pool_use(store: &dyn auditlog_store::PoolStats) {
    for pool in store.pool_use() {
        let in_use = pool.open.saturating_sub(pool.idle);
        for (state, count) in [("idle", pool.idle), ("in_use", in_use)] {
            let labels = [("pool", pool.pool), ("state", state)];
            metrics::gauge!(STORE_CONNECTIONS, &labels).set(f64::from(count));
        }
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves; `before_render` refreshes
/// the gauges that are read rather than kept (pool use).
pub async fn serve(
    listener: TcpListener,
    before_render: Arc<dyn Fn() + Send + Sync>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = handle();
    let rendering = handle.clone();
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let handle = rendering.clone();
            let before_render = before_render.clone();
            async move {
                before_render();
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    );
    // A histogram's samples wait in a queue until they are drained into its buckets, which
    // rendering does; with no scraper (or a slow one) the queue grew by every request's
    // latency: 100 MiB in 4 minutes of ingest at 64 connections. Drain it on a timer too.
    let upkeep = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(UPKEEP_EVERY);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served
}

/// How often histogram samples are drained into their buckets between scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the routing of a request writes its matched route, for [`track_requests`] to read
/// after the answer (the route is known only inside the router).
#[derive(Clone, Default)]
pub struct RouteSlot(Arc<OnceLock<String>>);

impl RouteSlot {
    pub fn set(&self, route: &str) {
        let _ = self.0.set(route.to_string());
    }
}

/// Outermost middleware: counts each request and times it by route template, method and status.
/// Requests no route matched count under `unmatched`.
pub async fn track_requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    let route = slot.0.get().cloned().unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}
