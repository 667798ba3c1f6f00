//! Shared state handed to every handler.

use crate::auth::ApiKeys;
use crate::body::BodyLimit;
use crate::config::Config;
use crate::idempotency::Idempotency;
use crate::ingest::IngestQueue;
use crate::meta_audit::MetaAudit;
use crate::schema_cache::SchemaCache;
use auditlog_blob::{BlobStore, LinkSigner};
use auditlog_store::Store;
use std::sync::Arc;

/// Every request clones the state (axum's `State` extractor, middleware); one shared `Arc`
/// makes that one reference count instead of one per service, which profiled at ~3 % of the
/// server's CPU under ingest load.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What handlers and background jobs share.
pub struct Services {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub ingest: IngestQueue,
    /// Where bulk ingest appends (`POST /audit_logs/events/bulk`, outside the group commit):
    /// the store, or the discarding one in a `ceiling-diagnostic` build, as for `ingest`.
    pub bulk_events: Arc<dyn auditlog_store::EventStore>,
    /// Bounds the bulk requests in progress (`--bulk-concurrency`).
    pub bulk_permits: BulkPermits,
    pub api_keys: Arc<ApiKeys>,
    pub idempotency: Arc<Idempotency>,
    pub schema_cache: Arc<SchemaCache>,
    /// Export files.
    pub blob: Arc<BlobStore>,
    /// Signs download links of local export files.
    pub links: Arc<LinkSigner>,
    /// Base of links this server hands out, without a trailing slash.
    pub public_url: Arc<str>,
    /// Identifies this process as a job lease owner.
    pub node_id: Arc<str>,
    /// The per-environment trail of reads, exports and downloads.
    pub meta_audit: Arc<MetaAudit>,
    /// Wakes the job runner when a job is queued.
    pub jobs_wakeup: Arc<tokio::sync::Notify>,
    /// Tamper evidence: the deployment's log signer and the log builder's wake-up.
    pub tlog: Arc<crate::tlog::Tlog>,
}

/// Permits for bulk requests (`POST /audit_logs/events/bulk`), `--bulk-concurrency` of them:
/// each bulk holds a body of up to `--max-bulk-body-bytes` and its parsed events, so their
/// memory is bounded by the permits, not by the connection count. A request waits for one
/// before its body is read (the bulk route's outermost layer takes it from the extensions).
#[derive(Clone)]
pub struct BulkPermits(pub Arc<tokio::sync::Semaphore>);

impl BulkPermits {
    pub fn new(permits: usize) -> BulkPermits {
        BulkPermits(Arc::new(tokio::sync::Semaphore::new(permits.max(1))))
    }
}

impl axum::extract::FromRef<AppState> for BodyLimit {
    fn from_ref(state: &AppState) -> BodyLimit {
        BodyLimit(state.config.limits.max_body_bytes)
    }
}
