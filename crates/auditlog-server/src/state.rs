//! Shared state handed to every handler.

use crate::auth::KeyCache;
use crate::config::Config;
use crate::idempotency::KeyLocks;
use crate::ingest::IngestQueue;
use crate::schema_cache::SchemaCache;
use auditlog_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub ingest: IngestQueue,
    pub key_cache: Arc<KeyCache>,
    pub idempotency_locks: Arc<KeyLocks>,
    pub schema_cache: Arc<SchemaCache>,
}
