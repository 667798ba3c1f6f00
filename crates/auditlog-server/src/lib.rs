//! `auditlog` as a library: [`run`] starts the whole service on a listener, so the binary and
//! the integration tests start exactly the same app.

pub mod auth;
pub mod backup;
pub mod body;
pub mod client;
pub mod clock;
pub mod config;
mod discarding_store;
pub mod error;
pub mod extract;
pub mod failure;
pub mod idempotency;
pub mod ingest;
pub mod jobs;
pub mod keys;
pub mod listen;
pub mod meta_audit;
pub mod metrics;
pub mod nul;
pub mod openapi;
pub mod outbound;
mod portal;
mod private_files;
mod request_span;
mod routes;
pub mod schema_cache;
pub mod seed;
pub mod state;
pub mod streams;
pub mod tlog;
pub mod tokens;
pub mod verify;
pub mod witness;

#[cfg(test)]
mod architecture_tests;

use crate::auth::ApiKeys;
use crate::config::{Config, StorageConfig};
use crate::error::ApiError;
use crate::idempotency::Idempotency;
use crate::ingest::IngestQueue;
use crate::keys::KeyChange;
use crate::schema_cache::SchemaCache;
use crate::state::AppState;
use anyhow::Context;
use auditlog_blob::{BlobStore, LinkSigner};
use auditlog_store::postgres::PostgresStore;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::Store;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The environment that bootstrap keys (`AUDITLOG_API_KEYS`) and the first generated key belong to.
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// Where the SQLite database lives for this configuration.
pub fn sqlite_path(config: &StorageConfig) -> anyhow::Result<PathBuf> {
    match config.database_url() {
        None => Ok(config.data_dir.join("auditlog.db")),
        Some(url) => match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(path) => Ok(PathBuf::from(path)),
            None => anyhow::bail!("not a SQLite database URL: {url}"),
        },
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the configured store: PostgreSQL for `postgres://…`, otherwise SQLite (in the data
/// dir by default), creating the data directory if needed.
pub async fn open_store(config: &StorageConfig) -> anyhow::Result<Arc<dyn Store>> {
    private_files::create_private_dir(&config.data_dir)?;
    if let Some(url) = config.database_url().filter(|url| is_postgres_url(url)) {
        // The URL may carry a password: never echo it.
        let store = PostgresStore::connect(url)
            .await
            .context("connecting to PostgreSQL (--database-url)")?;
        return Ok(Arc::new(store));
    }
    let path = sqlite_path(config)?;
    private_files::create_database_file(&path)?;
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// Registers `AUDITLOG_API_KEYS` and revokes configured keys that left it; with no key
/// anywhere, creates one and prints it once. Returns what changed, for the meta-audit trail.
async fn bootstrap_keys(store: &dyn Store, config: &Config) -> anyhow::Result<Vec<KeyChange>> {
    let now = clock::now_micros();
    let configured: Vec<&str> = config
        .api_keys
        .iter()
        .map(|k| k.expose().trim())
        .filter(|k| !k.is_empty())
        .collect();
    for key in &configured {
        if let Some(why) = keys::weak_configured_key(key) {
            anyhow::bail!("{why} (AUDITLOG_API_KEYS)");
        }
    }
    let mut changes = Vec::new();
    for key in &configured {
        let source = auditlog_store::KEY_SOURCE_CONFIGURED;
        if let Some(record) =
            keys::register_key(store, DEFAULT_ENVIRONMENT, key, source, now).await?
        {
            changes.push(KeyChange::created(&record, "configuration"));
        }
    }
    let hashes: Vec<[u8; 32]> = configured.iter().map(|k| keys::hash_key(k)).collect();
    let all = store.list_api_keys().await?;
    for id in keys::revoke_unconfigured(store, &hashes, now).await? {
        if let Some(record) = all.iter().find(|k| k.id == id) {
            tracing::warn!(key_id = %id, "API key revoked: it is no longer in AUDITLOG_API_KEYS");
            changes.push(KeyChange::revoked(record, "configuration"));
        }
    }
    if store.count_api_keys().await? == 0 {
        let key = keys::generate_key();
        let source = auditlog_store::KEY_SOURCE_CREATED;
        if let Some(record) =
            keys::register_key(store, DEFAULT_ENVIRONMENT, &key, source, now).await?
        {
            changes.push(KeyChange::created(&record, "first_start"));
        }
        // Printed, not logged: it must never reach a log pipeline.
        println!(
            "No API key was configured, so one was created for the environment \"{DEFAULT_ENVIRONMENT}\".\n\
             It is shown only this once; keep it:\n\n    {key}\n"
        );
    }
    Ok(changes)
}

#[derive(Clone, Copy)]
struct MakeRequestUlid;

impl MakeRequestId for MakeRequestUlid {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = auditlog_domain::ids::new_id("req");
        id.parse().ok().map(RequestId::new)
    }
}

/// Logs a 5xx response, except 503: an overloaded queue or an unavailable store answers every
/// request with it for as long as the condition lasts, and says so itself in a throttled
/// warning; one error line per request would flood the log.
fn log_failed_response(class: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    if matches!(class, ServerErrorsFailureClass::StatusCode(status) if status == StatusCode::SERVICE_UNAVAILABLE)
    {
        return;
    }
    tracing::error!(classification = %class, latency_ms = latency.as_millis() as u64, "response failed");
}

/// The access log: one line per answered request, inside its span (request id, method, URI
/// without secrets, route, environment). Its own target, so that `AUDITLOG_LOG` can silence it
/// (`auditlog::access=off`) without silencing anything else.
fn log_response<B>(response: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        target: "auditlog::access",
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request answered"
    );
}

/// The router with the cross-cutting layers: request ids on every response, tracing, and a
/// JSON 500 if a handler panics.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let portal = portal::router(&state)
        .layer(axum::middleware::from_fn(request_span::record_route))
        .with_state(state.clone());
    routes::router(state)
        .merge(portal)
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal.into_response()
        }))
        .layer(axum::middleware::from_fn(metrics::track_requests))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span::make_span)
                .on_response(log_response)
                .on_failure(log_failed_response),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUlid))
}

/// Runs the service on `listener` until `shutdown` resolves, then drains in-flight requests
/// and lets the writer commit what it was given.
/// The blob store and download-link signer of this configuration.
fn open_blob(config: &Config) -> anyhow::Result<(BlobStore, LinkSigner)> {
    let blob = match config.storage.blob_url.as_deref() {
        None => BlobStore::local(&config.storage.data_dir.join("blobs"))?,
        Some(url) if url.starts_with("s3://") => BlobStore::s3(url)?,
        Some(url) => anyhow::bail!(
            "unsupported blob URL (use s3://bucket/prefix, or none for local files): {url}"
        ),
    };
    let links = match &config.exports.download_secret {
        Some(secret) => LinkSigner::from_configured(secret.expose())?,
        None => {
            let path = config.storage.data_dir.join("download-link.key");
            let signer = LinkSigner::load_or_create(&path)?;
            private_files::restrict(&path, 0o600)?;
            signer
        }
    };
    Ok((blob, links))
}

/// Runs the service on `listener` until `shutdown` resolves, then drains in-flight requests,
/// hands running jobs back, and lets the writer commit what it was given.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&config.storage).await?;
    let key_changes = bootstrap_keys(store.as_ref(), &config).await?;
    if config.meta_audit {
        // Revocations create the trail if need be; keys bootstrapped from the configuration are
        // recorded where a trail exists (a fresh deployment gets no trail organization of its own).
        let (revoked, created): (Vec<_>, Vec<_>) = key_changes
            .into_iter()
            .partition(|change| change.action == keys::KEY_REVOKED);
        for (changes, only_into_existing_trail) in [(revoked, false), (created, true)] {
            meta_audit::record_key_changes(store.as_ref(), &changes, only_into_existing_trail)
                .await
                .map_err(|error| {
                    anyhow::anyhow!("recording API key changes in the meta-audit trail: {error:?}")
                })?;
        }
    }
    let (blob, links) = open_blob(&config)?;
    let tlog = Arc::new(tlog::Tlog::open(&config, store.as_ref(), blob.clone()).await?);
    let address = listener.local_addr()?;
    let public_url = config
        .listen
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"))
        .trim_end_matches('/')
        .to_string();
    let schema_cache =
        SchemaCache::with_budget(config.limits.schema_cache_mb.saturating_mul(1024 * 1024));
    let mut limits = config.connection_limits();
    limits.max_connections = listen::fit_connection_cap(limits.max_connections);
    let ingest_store = discarding_store::ingest_store(store.clone());
    let (ingest, writer) = IngestQueue::start(
        ingest_store.clone(),
        config.limits.ingest_queue,
        config.limits.ingest_batch,
    );
    let meta_audit = meta_audit::MetaAudit::new(config.meta_audit, store.clone(), ingest.clone());
    let state = AppState::new(state::Services {
        api_keys: Arc::new(ApiKeys::new(store.clone())),
        idempotency: Arc::new(Idempotency::new(
            store.clone(),
            config.limits.max_body_bytes,
            config.limits.max_bulk_body_bytes,
        )),
        bulk_events: ingest_store,
        bulk_permits: state::BulkPermits::new(config.limits.bulk_concurrency),
        config: Arc::new(config),
        store,
        ingest,
        schema_cache: Arc::new(schema_cache),
        blob: Arc::new(blob),
        links: Arc::new(links),
        public_url: Arc::from(public_url),
        node_id: Arc::from(auditlog_domain::ids::new_id("node")),
        jobs_wakeup: Arc::new(tokio::sync::Notify::new()),
        tlog,
        meta_audit: Arc::new(meta_audit),
    });
    let stopping = CancellationToken::new();
    let runner = jobs::start(state.clone(), stopping.clone());
    let maintenance = jobs::maintenance::start(state.clone(), stopping.clone());
    let sweeper = jobs::retention::start(state.clone(), stopping.clone());
    let log_builder = jobs::log_builder::start(state.clone(), stopping.clone());
    let stream_delivery = streams::delivery::start(state.clone(), stopping.clone());
    let metrics_server = match state.config.listen.metrics_listen.0 {
        Some(metrics_address) => {
            let metrics_listener = TcpListener::bind(metrics_address)
                .await
                .with_context(|| format!("binding the metrics listener {metrics_address}"))?;
            let bound = metrics_listener.local_addr()?;
            tracing::info!(address = %bound, "metrics listening");
            let stopped = stopping.clone();
            let store = state.store.clone();
            let before_render = Arc::new(move || metrics::record_pool_use(store.as_ref()));
            Some(tokio::spawn(metrics::serve(
                metrics_listener,
                before_render,
                async move { stopped.cancelled().await },
            )))
        }
        None => None,
    };
    tracing::info!(address = %address, node = %state.node_id, "auditlog listening");
    let signal = {
        let stopping = stopping.clone();
        async move {
            shutdown.await;
            stopping.cancel();
        }
    };
    listen::serve(listener, app(state.clone()), limits, signal).await?;
    stopping.cancel();
    runner.await.context("job runner stopped abnormally")?;
    maintenance
        .await
        .context("maintenance stopped abnormally")?;
    sweeper
        .await
        .context("retention sweeper stopped abnormally")?;
    log_builder
        .await
        .context("log builder stopped abnormally")?;
    stream_delivery
        .await
        .context("log stream delivery stopped abnormally")?;
    if let Some(metrics_server) = metrics_server {
        metrics_server
            .await
            .context("metrics listener stopped abnormally")??;
    }
    drop(state);
    // Every other queue handle lived in the router and the jobs, gone now: the writer
    // commits what is queued and stops.
    writer.await.context("ingest writer stopped abnormally")?;
    tracing::info!("auditlog stopped");
    Ok(())
}
