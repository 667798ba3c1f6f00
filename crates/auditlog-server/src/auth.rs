//! Bearer API-key authentication. Each key belongs to one environment, and every handler works
//! only inside the environment of the key it was called with.

use crate::error::ApiError;
use crate::keys::hash_key;
use auditlog_store::Store;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The environment of the authenticated caller, inserted as a request extension: an API key's,
/// or an Admin Portal session's (see `portal::session`).
#[derive(Debug, Clone)]
pub struct Environment {
    name: Arc<str>,
    /// Who is calling, for recorded actions: the key's record id (`key_…`, never the key), or
    /// the portal session's id (`portal_session_…`, never its cookie).
    key_id: Arc<str>,
    /// `api_key` or `portal_session`: the meta-audit trail's actor type.
    caller_kind: &'static str,
}

impl Environment {
    /// An Admin Portal session acting in its environment.
    pub fn portal_session(name: &str, session_id: &str) -> Environment {
        Environment {
            name: Arc::from(name),
            key_id: Arc::from(session_id),
            caller_kind: "portal_session",
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The caller as the meta-audit trail records it.
    pub fn meta_actor(&self) -> crate::meta_audit::MetaActor<'_> {
        crate::meta_audit::MetaActor {
            id: &self.key_id,
            kind: self.caller_kind,
        }
    }
}

/// How long a verified key is trusted without asking the store again: a key revoked on any
/// node (or by `auditlog keys revoke`) is refused everywhere within this time.
const CACHE_TTL: Duration = Duration::from_secs(4);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// Verified key hashes → environment. Only successful lookups are cached, so a key created by
/// `auditlog keys create` while the server runs works at once.
/// A verified key's environment and when it was verified.
type CachedKey = (Environment, Instant);

#[derive(Default)]
struct KeyCache {
    entries: RwLock<HashMap<[u8; 32], CachedKey>>,
}

/// Resolves bearer keys to environments: the store's key table behind a short-lived cache.
pub struct ApiKeys {
    store: Arc<dyn Store>,
    cache: KeyCache,
}

impl ApiKeys {
    pub fn new(store: Arc<dyn Store>) -> ApiKeys {
        ApiKeys {
            store,
            cache: KeyCache::default(),
        }
    }
}

impl KeyCache {
    fn get(&self, hash: &[u8; 32]) -> Option<Environment> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(environment, _)| environment.clone())
    }

    fn put(&self, hash: [u8; 32], environment: Environment) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (environment, Instant::now()));
    }
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

async fn resolve(keys: &ApiKeys, token: &str) -> Result<Option<Environment>, ApiError> {
    let hash = hash_key(token);
    if let Some(environment) = keys.cache.get(&hash) {
        return Ok(Some(environment));
    }
    let Some(record) = keys.store.find_api_key(&hash).await? else {
        return Ok(None);
    };
    // The row was found by its hash; compare again in constant time so that no code path
    // decides on a key with a data-dependent comparison.
    if !bool::from(record.key_hash.ct_eq(&hash)) {
        return Ok(None);
    }
    let environment = Environment {
        name: Arc::from(record.environment.as_str()),
        key_id: Arc::from(record.id.as_str()),
        caller_kind: "api_key",
    };
    keys.cache.put(hash, environment.clone());
    Ok(Some(environment))
}

/// Middleware: 401 unless the request carries a known `Authorization: Bearer sk_…` key.
pub async fn require_api_key(
    State(keys): State<Arc<ApiKeys>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer_token(&request) else {
        return ApiError::Unauthorized.into_response();
    };
    match resolve(&keys, token).await {
        Ok(Some(environment)) => {
            tracing::Span::current().record("environment", environment.name());
            request.extensions_mut().insert(environment);
            next.run(request).await
        }
        Ok(None) => ApiError::Unauthorized.into_response(),
        Err(error) => error.into_response(),
    }
}
