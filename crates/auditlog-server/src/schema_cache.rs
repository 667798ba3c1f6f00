//! Compiled action schemas, cached per (environment, action, version).
//!
//! Versions are immutable, so a compiled entry can never go stale — not on this node, not on
//! any other node of a cluster — and needs no invalidation. The only thing that changes is
//! "this action has no schema yet": that negative answer is cached for a short time, dropped
//! at once on this node when a schema is created, and at most `NEGATIVE_TTL` old elsewhere.
//!
//! Compiled validators are bounded by an estimate of their memory, not by their count: one
//! large schema compiles to tens of megabytes (every `pattern` becomes a regular expression),
//! so a count bound let a few dozen of them take over a gigabyte. The least recently used
//! entries leave first.

use crate::error::ApiError;
use auditlog_domain::schema::{ActionSchema, CompiledSchema};
use auditlog_store::Store;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const NEGATIVE_TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;
/// Bytes of memory a compiled schema takes per byte of its JSON, measured on schemas of
/// string properties with patterns (the costliest common shape): about 48.
const COMPILED_BYTES_PER_JSON_BYTE: u64 = 48;
/// Weight of an entry that is not the schema itself (keys, bookkeeping).
const ENTRY_OVERHEAD_BYTES: u64 = 1024;

type VersionKey = (String, String, i64);
type ActionKey = (String, String);

/// What governs an event of a given action and version.
#[derive(Debug, Clone)]
pub enum SchemaLookup {
    Compiled(Arc<CompiledSchema>),
    /// The action has no schema at all in this environment.
    Unconfigured,
    /// The action has schemas, but not this version.
    UnknownVersion,
}

/// A compiled schema and the memory it is estimated to take.
#[derive(Clone)]
struct CachedSchema {
    compiled: Arc<CompiledSchema>,
    bytes: u64,
}

#[derive(Clone)]
struct ByEstimatedBytes;

impl Weighter<VersionKey, CachedSchema> for ByEstimatedBytes {
    fn weight(&self, _key: &VersionKey, value: &CachedSchema) -> u64 {
        value.bytes
    }
}

pub struct SchemaCache {
    compiled: Cache<VersionKey, CachedSchema, ByEstimatedBytes>,
    unconfigured: RwLock<HashMap<ActionKey, Instant>>,
    /// Bumped by every schema creation on this node. A lookup that saw "no schema" only
    /// caches that answer if no schema was created while it was reading the store.
    generation: AtomicU64,
}

impl SchemaCache {
    /// A cache whose compiled schemas are estimated to take at most `budget_bytes`.
    pub fn with_budget(budget_bytes: u64) -> SchemaCache {
        // The item estimate only sizes the table; the weight is the bound.
        let items = (budget_bytes / (64 * 1024)).clamp(16, MAX_ENTRIES as u64) as usize;
        SchemaCache {
            compiled: Cache::with_weighter(items, budget_bytes, ByEstimatedBytes),
            unconfigured: RwLock::default(),
            generation: AtomicU64::default(),
        }
    }

    pub async fn lookup(
        &self,
        store: &dyn Store,
        environment: &str,
        action: &str,
        version: i64,
    ) -> Result<SchemaLookup, ApiError> {
        let version_key = (environment.to_string(), action.to_string(), version);
        if let Some(cached) = self.compiled.get(&version_key) {
            return Ok(SchemaLookup::Compiled(cached.compiled));
        }
        let action_key = (environment.to_string(), action.to_string());
        let recently_unconfigured = self
            .unconfigured
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&action_key)
            .is_some_and(|at| at.elapsed() < NEGATIVE_TTL);
        if recently_unconfigured {
            return Ok(SchemaLookup::Unconfigured);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(record) = store.get_schema(environment, action, version).await? {
            let compiled = ActionSchema::from_json(&record.document)
                .and_then(|schema| CompiledSchema::compile(&schema).ok())
                .ok_or_else(|| {
                    tracing::error!(
                        environment,
                        action,
                        version,
                        "a stored schema no longer compiles"
                    );
                    ApiError::Internal
                })?;
            let compiled = Arc::new(compiled);
            let json_bytes = serde_json::to_vec(&record.document).map_or(0, |b| b.len()) as u64;
            let bytes = json_bytes * COMPILED_BYTES_PER_JSON_BYTE + ENTRY_OVERHEAD_BYTES;
            self.compiled.insert(
                version_key,
                CachedSchema {
                    compiled: compiled.clone(),
                    bytes,
                },
            );
            return Ok(SchemaLookup::Compiled(compiled));
        }
        if store.get_action(environment, action).await?.is_some() {
            return Ok(SchemaLookup::UnknownVersion);
        }
        let mut unconfigured = self.unconfigured.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return Ok(SchemaLookup::Unconfigured); // a schema appeared meanwhile: don't cache
        }
        if unconfigured.len() >= MAX_ENTRIES {
            unconfigured.clear();
        }
        unconfigured.insert(action_key, Instant::now());
        Ok(SchemaLookup::Unconfigured)
    }

    /// A schema was just created for `action`: forget that it had none.
    pub fn schema_created(&self, environment: &str, action: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.unconfigured
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(environment.to_string(), action.to_string()));
    }
}
