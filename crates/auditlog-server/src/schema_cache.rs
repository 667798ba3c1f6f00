//! Compiled action schemas, cached per (environment, action, version).
//!
//! Versions are immutable, so a compiled entry can never go stale — not on this node, not on
//! any other node of a cluster — and needs no invalidation. The only thing that changes is
//! "this action has no schema yet": that negative answer is cached for a short time, dropped
//! at once on this node when a schema is created, and at most `NEGATIVE_TTL` old elsewhere.

use crate::error::ApiError;
use auditlog_domain::schema::{ActionSchema, CompiledSchema};
use auditlog_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const NEGATIVE_TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

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

#[derive(Default)]
pub struct SchemaCache {
    compiled: RwLock<HashMap<VersionKey, Arc<CompiledSchema>>>,
    unconfigured: RwLock<HashMap<ActionKey, Instant>>,
    /// Bumped by every schema creation on this node. A lookup that saw "no schema" only
    /// caches that answer if no schema was created while it was reading the store.
    generation: AtomicU64,
}

impl SchemaCache {
    pub async fn lookup(
        &self,
        store: &dyn Store,
        environment: &str,
        action: &str,
        version: i64,
    ) -> Result<SchemaLookup, ApiError> {
        let version_key = (environment.to_string(), action.to_string(), version);
        if let Some(compiled) = self
            .compiled
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&version_key)
        {
            return Ok(SchemaLookup::Compiled(compiled.clone()));
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
            let mut entries = self.compiled.write().unwrap_or_else(|p| p.into_inner());
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(version_key, compiled.clone());
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
