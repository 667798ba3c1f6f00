//! `Idempotency-Key` on every POST (the choices are in docs/api.md):
//! scoped per environment, kept 24 hours; the first completed response (any status below 500
//! except 429) is replayed byte for byte; the same key with a different request is a 409.
//!
//! Before a request runs it claims its key in the store (a row marked in flight until a
//! deadline). Duplicates on the same node queue on a per-key lock; duplicates on other nodes
//! find the claim and poll until the first request completes, then replay it. A node that dies
//! mid-request leaves a claim that lapses after 30 s. The event endpoint stores its final
//! record in the same transaction as the event (see `IdempotencyClaim`); other endpoints store
//! it here, after the handler has answered; a 5xx or 429 drops the claim so a retry runs again.
//!
//! Routes opt in with a route layer: [`claim_keys`] for most POSTs, [`keys_recorded_by_handler`]
//! for the one whose handler records the key with its effect. Both find the [`Idempotency`]
//! service in the request's extensions (an app-level layer puts it there).

use crate::auth::Environment;
use crate::body::read_limited;
use crate::clock::now_micros;
use crate::error::ApiError;
use auditlog_domain::canonical::canonical_bytes;
use auditlog_store::{ClaimOutcome, IdempotencyRecord, Store};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use utoipa_axum::router::OpenApiRouter;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
pub const TTL_MICROS: i64 = 24 * 60 * 60 * 1_000_000;
pub const MAX_KEY_CHARS: usize = 255;

/// Request extension: the key and the request, for handlers that store their response
/// atomically with their effect.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub key: String,
    method: Method,
    path_and_query: String,
    body: Bytes,
    /// [`fingerprint`] of the request, computed when first needed: a handler that fingerprints
    /// what it parsed (see [`IdempotencyClaim::fingerprint_of`]) never parses the body twice.
    by_body: Arc<OnceLock<[u8; 32]>>,
}

impl IdempotencyClaim {
    /// The request's fingerprint by its body's meaning (RFC 8785 form of the JSON).
    pub fn request_hash(&self) -> [u8; 32] {
        *self
            .by_body
            .get_or_init(|| fingerprint(&self.method, &self.path_and_query, &self.body))
    }

    /// A fingerprint of the request from what the handler made of its body (`canonical`: the
    /// handler's canonical bytes of it), for a handler that parsed the body into typed values
    /// and would otherwise parse it a second time for [`IdempotencyClaim::request_hash`].
    pub fn fingerprint_of(&self, canonical: &[u8]) -> [u8; 32] {
        digest(&self.method, &self.path_and_query, b"typed", canonical)
    }

    /// Whether a stored record was made for this request: by the handler's fingerprint
    /// (`typed`), or by the body's, which the layer stores for answers the handler did not
    /// record and earlier releases stored for every request.
    pub fn matches(&self, record: &IdempotencyRecord, typed: Option<&[u8; 32]>) -> bool {
        typed == Some(&record.request_hash) || record.request_hash == self.request_hash()
    }

    pub fn record(&self, environment: &str, status: StatusCode, body: &[u8]) -> IdempotencyRecord {
        self.record_with_hash(environment, self.request_hash(), status, body)
    }

    pub fn record_with_hash(
        &self,
        environment: &str,
        request_hash: [u8; 32],
        status: StatusCode,
        body: &[u8],
    ) -> IdempotencyRecord {
        let now = now_micros();
        IdempotencyRecord {
            environment: environment.to_string(),
            key: self.key.clone(),
            request_hash,
            status: status.as_u16(),
            body: body.to_vec(),
            created_at: now,
            expires_at: now + TTL_MICROS,
        }
    }
}

/// Response extension: the fingerprint under which the handler's answer is to be recorded
/// (the handler's own, see [`IdempotencyClaim::fingerprint_of`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordUnder(pub [u8; 32]);

/// Response extension: the handler already stored the idempotency record.
#[derive(Debug, Clone, Copy)]
pub struct AlreadyRecorded;

/// (environment, key)
type KeyScope = (String, String);

/// One async lock per (environment, key) while a request with that key is in flight.
#[derive(Default)]
pub struct KeyLocks {
    locks: Mutex<HashMap<KeyScope, Weak<tokio::sync::Mutex<()>>>>,
}

impl KeyLocks {
    fn lock_for(&self, environment: &str, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 4096 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let slot = (environment.to_string(), key.to_string());
        if let Some(lock) = locks.get(&slot).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(slot, Arc::downgrade(&lock));
        lock
    }
}

/// What the idempotency layer needs: the store that keeps claims and records, this node's
/// per-key locks, and how large a body it may read.
pub struct Idempotency {
    store: Arc<dyn Store>,
    locks: KeyLocks,
    max_body_bytes: usize,
    /// The body limit of bulk routes ([`bulk_keys_recorded_by_handler`]).
    max_bulk_body_bytes: usize,
}

impl Idempotency {
    pub fn new(
        store: Arc<dyn Store>,
        max_body_bytes: usize,
        max_bulk_body_bytes: usize,
    ) -> Idempotency {
        Idempotency {
            store,
            locks: KeyLocks::default(),
            max_body_bytes,
            max_bulk_body_bytes,
        }
    }
}

/// Where a route's response to a keyed request is recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recording {
    /// Claimed in the store before the handler runs, recorded after it answers.
    ByLayer,
    /// By the handler, in the transaction of its effect (see [`keys_recorded_by_handler`]).
    ByHandler,
}

/// Which body limit a route's requests are read with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bodies {
    /// `--max-body-bytes`.
    Single,
    /// `--max-bulk-body-bytes` (`POST /audit_logs/events/bulk`).
    Bulk,
}

/// Fingerprint of a request: method, path and body. A JSON body is compared by meaning (its
/// RFC 8785 canonical form), because SDKs that rebuild a request on retry may serialize the
/// same object with another key order or spacing.
fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .map(|value| canonical_bytes(&value));
    let body = canonical.as_deref().unwrap_or(body);
    digest(method, path_and_query, b"", body)
}

/// SHA-256 of method, path, a label for how the body was reduced (empty for the body's RFC 8785
/// form, as every release has stored it) and the reduced body.
fn digest(method: &Method, path_and_query: &str, label: &[u8], body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(path_and_query.as_bytes());
    hasher.update([0]);
    if !label.is_empty() {
        hasher.update(label);
        hasher.update([0]);
    }
    hasher.update(body);
    hasher.finalize().into()
}

/// The stored response again, or a 409 when the key was used for another request.
pub fn replay(record: &IdempotencyRecord, request_hash: &[u8; 32]) -> Response {
    replay_if(record, &record.request_hash == request_hash)
}

/// The stored response again if it was made for the `claim`ed request (see
/// [`IdempotencyClaim::matches`]), else a 409.
pub fn replay_claimed(
    record: &IdempotencyRecord,
    claim: &IdempotencyClaim,
    typed: Option<&[u8; 32]>,
) -> Response {
    replay_if(record, claim.matches(record, typed))
}

fn replay_if(record: &IdempotencyRecord, same_request: bool) -> Response {
    if !same_request {
        return key_reused();
    }
    metrics::counter!(crate::metrics::IDEMPOTENT_REPLAYS).increment(1);
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
    let mut response = (status, record.body.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// How long a claim protects a request being processed; a crashed node's claim lapses then.
const CLAIM_MICROS: i64 = 30_000_000;
/// How long a duplicate waits for an in-flight request with its key before answering 409.
const WAIT_FOR_IN_FLIGHT: Duration = Duration::from_secs(30);
const POLL_IN_FLIGHT: Duration = Duration::from_millis(20);

/// Claims the key for this request; `Some(response)` when the request must not run (a replay,
/// a conflict, or an error).
async fn claim_key(
    service: &Idempotency,
    environment: &str,
    key: &str,
    request_hash: &[u8; 32],
) -> Option<Response> {
    let started = Instant::now();
    loop {
        let now = now_micros();
        match service
            .store
            .claim_idempotency(environment, key, request_hash, now, now + CLAIM_MICROS)
            .await
        {
            Ok(ClaimOutcome::Claimed) => return None,
            Ok(ClaimOutcome::Completed(record)) => return Some(replay(&record, request_hash)),
            Ok(ClaimOutcome::InFlight {
                request_hash: theirs,
            }) if &theirs != request_hash => {
                return Some(key_reused());
            }
            Ok(ClaimOutcome::InFlight { .. }) if started.elapsed() > WAIT_FOR_IN_FLIGHT => {
                return Some(
                    ApiError::Conflict {
                        code: "idempotency_key_in_use",
                        message: "A request with this Idempotency-Key is still being processed; retry later.".into(),
                    }
                    .into_response(),
                );
            }
            Ok(ClaimOutcome::InFlight { .. }) => tokio::time::sleep(POLL_IN_FLIGHT).await,
            Err(error) => return Some(ApiError::from(error).into_response()),
        }
    }
}

fn key_reused() -> Response {
    ApiError::Conflict {
        code: "idempotency_key_reused",
        message:
            "This Idempotency-Key was already used with a different request in the last 24 hours; \
                  send a new key for a new request."
                .to_string(),
    }
    .into_response()
}

/// Route layer for a POST whose handler records the key in the transaction of its effect:
/// `POST /audit_logs/events`, where the group commit replays a completed record or stores the
/// new one atomically with the event, and a concurrent duplicate queues on this node's key lock
/// or, on another node, on the key row the batch transaction locks. A separate claim would cost
/// a durable commit of its own per event, outside the group commit: it made keyed ingest (every
/// Node, Python and Go SDK request) ten times slower than unkeyed.
pub async fn keys_recorded_by_handler(request: Request, next: Next) -> Response {
    handle(request, next, Recording::ByHandler, Bodies::Single).await
}

/// [`keys_recorded_by_handler`] for `POST /audit_logs/events/bulk`, whose bodies may be as
/// large as the bulk limit: one key for the whole bulk, stored in the bulk's transaction.
pub async fn bulk_keys_recorded_by_handler(request: Request, next: Next) -> Response {
    handle(request, next, Recording::ByHandler, Bodies::Bulk).await
}

/// Route layer for POSTs: claims the key, runs the request once, records and replays its answer.
pub async fn claim_keys(request: Request, next: Next) -> Response {
    handle(request, next, Recording::ByLayer, Bodies::Single).await
}

fn worth_keeping(status: StatusCode) -> bool {
    !status.is_server_error() && status != StatusCode::TOO_MANY_REQUESTS
}

/// Acts on POSTs that carry the header; anything else passes through.
async fn handle(request: Request, next: Next, recording: Recording, bodies: Bodies) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(service) = request.extensions().get::<Arc<Idempotency>>().cloned() else {
        tracing::error!("the idempotency service is not in the request extensions");
        return ApiError::Internal.into_response();
    };
    let Some(raw_key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match raw_key.to_str() {
        Ok(key) if !key.trim().is_empty() && key.chars().count() <= MAX_KEY_CHARS => {
            key.trim().to_string()
        }
        _ => {
            return ApiError::BadRequest {
                code: "invalid_idempotency_key",
                message: format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters."
                ),
            }
            .into_response()
        }
    };
    let Some(environment) = request.extensions().get::<Environment>().cloned() else {
        return ApiError::Unauthorized.into_response();
    };
    let (mut parts, body) = request.into_parts();
    let limit = match bodies {
        Bodies::Single => service.max_body_bytes,
        Bodies::Bulk => service.max_bulk_body_bytes,
    };
    let bytes = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let claim = IdempotencyClaim {
        key,
        method: parts.method.clone(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string(),
        body: bytes.clone(),
        by_body: Arc::default(),
    };

    // Duplicates on this node queue on a lock; duplicates on other nodes see the claim row, or
    // for events the key row that the batch transaction locks.
    let lock = service.locks.lock_for(environment.name(), &claim.key);
    let _in_flight = lock.lock().await;
    let claimed = recording == Recording::ByLayer;
    if claimed {
        let request_hash = claim.request_hash();
        if let Some(answer) =
            claim_key(&service, environment.name(), &claim.key, &request_hash).await
        {
            return answer;
        }
    }

    parts.extensions.insert(claim.clone());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.extensions().get::<AlreadyRecorded>().is_some() {
        return response;
    }
    if !worth_keeping(response.status()) {
        if !claimed {
            return response;
        }
        if let Err(error) = service
            .store
            .abandon_idempotency(environment.name(), &claim.key)
            .await
        {
            // The claim lapses by itself after CLAIM_MICROS.
            ApiError::internal("could not release an idempotency claim", &error);
        }
        return response;
    }
    let typed = response
        .extensions()
        .get::<RecordUnder>()
        .map(|under| under.0);
    let (parts, body) = response.into_parts();
    // Our own JSON responses are small; the limit only guards against a handler bug.
    let body = match read_limited(body, 16 * 1024 * 1024).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let request_hash = typed.unwrap_or_else(|| claim.request_hash());
    let record = claim.record_with_hash(environment.name(), request_hash, parts.status, &body);
    match service.store.save_idempotency(&record).await {
        // Unclaimed (an event refused before it reached the store): an earlier request with
        // this key answered first, and its answer stands, or 409 if it was another request.
        Ok(in_force) if !claimed && in_force != record => {
            replay_claimed(&in_force, &claim, typed.as_ref())
        }
        Ok(_) => Response::from_parts(parts, Body::from(body)),
        Err(error) => {
            // The effect happened and the client gets its answer; only a later replay is lost.
            ApiError::internal("could not store an idempotency record", &error);
            Response::from_parts(parts, Body::from(body))
        }
    }
}

/// A resource's routes with idempotent POSTs ([`claim_keys`]), described as such in its
/// operations.
pub fn idempotent_posts<S>(router: OpenApiRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    described(router.route_layer(axum::middleware::from_fn(claim_keys)))
}

/// As [`idempotent_posts`], for handlers that record the key themselves
/// ([`keys_recorded_by_handler`]).
pub fn idempotent_posts_recorded_by_handler<S>(router: OpenApiRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    described(router.route_layer(axum::middleware::from_fn(keys_recorded_by_handler)))
}

/// As [`idempotent_posts_recorded_by_handler`], for the bulk route
/// ([`bulk_keys_recorded_by_handler`]).
pub fn idempotent_bulk_posts_recorded_by_handler<S>(router: OpenApiRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    described(router.route_layer(axum::middleware::from_fn(bulk_keys_recorded_by_handler)))
}

fn described<S>(mut router: OpenApiRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    crate::openapi::mark_idempotent(router.get_openapi_mut());
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(body: &str) -> IdempotencyClaim {
        IdempotencyClaim {
            key: "k".into(),
            method: Method::POST,
            path_and_query: "/audit_logs/events".into(),
            body: Bytes::from(body.to_string()),
            by_body: Arc::default(),
        }
    }

    #[test]
    fn a_record_matches_by_the_handlers_fingerprint_or_the_bodys() {
        let first = claim(r#"{"a": 1, "b": [true]}"#);
        let typed = first.fingerprint_of(b"the event as the handler read it");
        let by_handler = first.record_with_hash("env", typed, StatusCode::OK, b"{}");
        // A record from an earlier release, stored under the body's RFC 8785 fingerprint.
        let by_body = first.record("env", StatusCode::OK, b"{}");
        assert_ne!(by_handler.request_hash, by_body.request_hash);

        // The same request again, spaced and ordered differently.
        let retry = claim(r#"{"b":[true],"a":1}"#);
        let retry_typed = retry.fingerprint_of(b"the event as the handler read it");
        assert!(retry.matches(&by_handler, Some(&retry_typed)));
        assert!(retry.matches(&by_body, Some(&retry_typed)));
        assert!(retry.matches(&by_body, None));

        // Another request with the same key matches neither.
        let other = claim(r#"{"a": 2, "b": [true]}"#);
        let other_typed = other.fingerprint_of(b"another event");
        assert!(!other.matches(&by_handler, Some(&other_typed)));
        assert!(!other.matches(&by_body, Some(&other_typed)));
        // The typed and the body fingerprint never coincide for the same bytes.
        assert_ne!(
            other.fingerprint_of(r#"{"a":2,"b":[true]}"#.as_bytes()),
            other.request_hash()
        );
    }
}
