//! `POST /audit_logs/events/bulk` (an extension): up to 1,000 events in one request, stored all
//! or nothing in one durable transaction. Every item is checked exactly as
//! `POST /audit_logs/events` checks its body; the errors of every item are answered at once,
//! with the item's index leading each field path. The choices are in docs/api.md.
//!
//! The bulk goes to the store directly, not through the group-commit queue: it is a big batch
//! already, and all-or-nothing needs a transaction of its own.

use super::bulk_body::{self, Format};
use super::create::schema_refusal;
use super::request::{BulkCreateEventsRequest, BulkCreateEventsResponse};
use crate::auth::Environment;
use crate::body::read_limited;
use crate::error::ApiError;
use crate::idempotency::{replay_claimed, AlreadyRecorded, IdempotencyClaim, RecordUnder};
use crate::ingest::prepare_event;
use crate::openapi::responses::{InvalidEvent, NotFound};
use crate::schema_cache::SchemaLookup;
use crate::state::{AppState, BulkPermits};
use auditlog_domain::canonical::canonical_event_bytes;
use auditlog_domain::schema::SchemaViolation;
use auditlog_domain::{EventInput, FieldErrors};
use auditlog_store::{BulkOutcome, PendingEvent};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Most errors listed in one answer (an invalid bulk of 1,000 large events could otherwise
/// carry a hundred thousand).
const MAX_REPORTED_ERRORS: usize = 1000;

/// The success body: the same bytes for the first answer and its replay.
fn success_body(count: usize) -> Vec<u8> {
    format!(r#"{{"success":true,"count":{count}}}"#).into_bytes()
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Parses every item and validates its fields: the events, or every item's field errors with
/// `{index}.` before each field (`{index}` alone for an item that is not an object). A valid
/// item goes from its bytes straight into typed fields (`EventInput::from_valid_slice`, as the
/// single-event route does); any other, or one that may hold U+0000, through a JSON value,
/// which names every faulty field. CPU-bound: runs on a blocking thread.
fn parse_and_validate(raw: &[u8], format: Format) -> Result<Vec<EventInput>, ApiError> {
    let items = bulk_body::items(raw, format)?;
    let mut inputs = Vec::with_capacity(items.len());
    let mut errors = FieldErrors::default();
    for (index, item) in items.iter().enumerate() {
        if !crate::nul::may_contain_nul(item.bytes) {
            if let Some(input) = EventInput::from_valid_slice(item.bytes) {
                if errors.is_empty() {
                    inputs.push(input);
                }
                continue;
            }
        }
        let item_errors = match item.value() {
            Ok(value) => match EventInput::from_value(value) {
                Ok(input) => {
                    if errors.is_empty() {
                        inputs.push(input);
                    }
                    continue;
                }
                Err(item_errors) => item_errors,
            },
            Err(ApiError::Validation(nul)) => nul,
            // Not JSON (an NDJSON line): a 400 naming the line, whatever else is wrong.
            Err(other) => return Err(other),
        };
        for error in item_errors.0 {
            if errors.0.len() == MAX_REPORTED_ERRORS {
                break;
            }
            let field = match error.field.as_str() {
                "body" => index.to_string(),
                field => format!("{index}.{field}"),
            };
            errors.push(field, &error.code, error.message);
        }
    }
    errors.into_result(inputs).map_err(ApiError::Validation)
}

/// Checks every event against its action's schema (`schemas[lookup_of[i]]` for item i) and
/// prepares them for storage; a 400 listing every item's violations otherwise, each
/// `instancePath` a JSON pointer into the request body (`/3/event/targets`). CPU-bound.
fn check_and_prepare(
    environment: &str,
    inputs: &[EventInput],
    schemas: &[SchemaLookup],
    lookup_of: &[usize],
    require_schemas: bool,
) -> Result<Vec<PendingEvent>, ApiError> {
    let mut violations: Vec<SchemaViolation> = Vec::new();
    let mut refused: Vec<(usize, String)> = Vec::new();
    for (index, (input, &lookup)) in inputs.iter().zip(lookup_of).enumerate() {
        if let Some((message, errors)) = schema_refusal(&schemas[lookup], require_schemas, input) {
            refused.push((index, message));
            let room = MAX_REPORTED_ERRORS.saturating_sub(violations.len());
            violations.extend(errors.into_iter().take(room).map(|mut violation| {
                violation.instance_path = format!("/{index}/event{}", violation.instance_path);
                violation
            }));
        }
    }
    match refused.as_slice() {
        [] => Ok(inputs
            .iter()
            .map(|input| prepare_event(environment, input, None))
            .collect()),
        [(index, message)] => Err(ApiError::InvalidEvent {
            message: format!("Event {index} of the bulk is refused: {message} Nothing was stored."),
            errors: violations,
        }),
        [(first, _), ..] => Err(ApiError::InvalidEvent {
            message: format!(
                "{} events of the bulk are refused (the first: event {first}); nothing was \
                 stored.",
                refused.len()
            ),
            errors: violations,
        }),
    }
}

/// What a keyed bulk is fingerprinted by: each event's canonical bytes without an id (as the
/// single-event route fingerprints its event), one per line (canonical JSON holds no newline).
/// The same events in either format, any key order or spacing, are the same request.
fn typed_form(inputs: &[EventInput]) -> Vec<u8> {
    let mut form = Vec::new();
    for input in inputs {
        form.extend_from_slice(canonical_event_bytes("", input).as_bytes());
        form.push(b'\n');
    }
    form
}

/// Route layer, outermost on the bulk route: waits for one of the `--bulk-concurrency` permits
/// before anything reads the body (the idempotency layer reads a keyed one), and holds it until
/// the answer.
pub async fn one_of_few_bulks(request: Request, next: Next) -> Response {
    let Some(BulkPermits(permits)) = request.extensions().get::<BulkPermits>().cloned() else {
        tracing::error!("the bulk permits are not in the request extensions");
        return ApiError::Internal.into_response();
    };
    // The semaphore is never closed.
    let Ok(_permit) = permits.acquire().await else {
        return ApiError::Internal.into_response();
    };
    next.run(request).await
}

/// Ingest up to 1,000 events at once (extension)
///
/// The body is a JSON array of create-event requests (`application/json`), or NDJSON (one per
/// line, `application/x-ndjson` or `application/jsonl`; blank lines ignored). Every item is
/// validated as `POST /audit_logs/events` validates its body; if any is refused nothing is
/// stored, and the answer lists the errors of every item, each field path led by the item's
/// index (`3.event.actor.id`; a schema violation's `instancePath` is `/3/event/targets`).
/// Otherwise every event is committed and fsync'd, in one transaction, before the 200; within
/// each organization the events take consecutive sequence numbers in request order. An unknown
/// organization in any item is a 404, nothing stored. The body limit is
/// `--max-bulk-body-bytes` (16 MiB by default), not `--max-body-bytes`.
#[utoipa::path(
    post,
    path = "/audit_logs/events/bulk",
    operation_id = "createEventsBulk",
    tag = "events",
    extensions(("x-auditlog-extension" = json!(true))),
    request_body(
        content = BulkCreateEventsRequest,
        content_type = "application/json",
        description = "1 to 1,000 create-event requests. The same items may be sent as NDJSON \
                       with `Content-Type: application/x-ndjson` (or `application/jsonl`).",
    ),
    responses(
        (status = 200, description = "Every event is stored.", body = BulkCreateEventsResponse,
            example = json!({"success": true, "count": 2})),
        (status = 400, response = InvalidEvent),
        (status = 404, response = NotFound),
    ),
)]
#[tracing::instrument(skip_all, fields(environment = %environment.name()))]
pub async fn create_events_bulk(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    claim: Option<Extension<IdempotencyClaim>>,
    request: Request,
) -> Result<Response, ApiError> {
    let format = bulk_body::format(request.headers())?;
    let raw: Bytes =
        read_limited(request.into_body(), state.config.limits.max_bulk_body_bytes).await?;
    let inputs = tokio::task::spawn_blocking(move || parse_and_validate(&raw, format))
        .await
        .map_err(|_| ApiError::Internal)??;

    // The trail and the schemas are looked up once per organization and per (action, version).
    let mut organizations: Vec<&str> = inputs.iter().map(|i| i.organization_id.as_str()).collect();
    organizations.sort_unstable();
    organizations.dedup();
    for organization_id in organizations {
        state
            .meta_audit
            .refuse_changes_to_trail(
                environment.name(),
                organization_id,
                "an event from a client",
            )
            .await?;
    }
    // `schemas[lookup_of[i]]` is item i's (action, version) lookup.
    let mut schemas: Vec<SchemaLookup> = Vec::new();
    let mut lookup_of: Vec<usize> = Vec::with_capacity(inputs.len());
    let mut seen: HashMap<(&str, i64), usize> = HashMap::new();
    for input in &inputs {
        let index = match seen.entry((input.action.as_str(), input.version)) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let lookup = state
                    .schema_cache
                    .lookup(
                        state.store.as_ref(),
                        environment.name(),
                        &input.action,
                        input.version,
                    )
                    .await?;
                schemas.push(lookup);
                *entry.insert(schemas.len() - 1)
            }
        };
        lookup_of.push(index);
    }
    drop(seen);
    let require_schemas = state.config.require_schemas;
    let name = environment.name().to_string();
    let claim = claim.map(|Extension(claim)| claim);
    let keyed = claim.clone();
    let (events, fingerprint) = tokio::task::spawn_blocking(move || {
        let events = check_and_prepare(&name, &inputs, &schemas, &lookup_of, require_schemas)?;
        // A keyed bulk is fingerprinted from the events parsed here, as a single event is,
        // not by parsing its body again.
        let fingerprint = keyed.map(|claim| claim.fingerprint_of(&typed_form(&inputs)));
        Ok::<_, ApiError>((events, fingerprint))
    })
    .await
    .map_err(|_| ApiError::Internal)??;

    let count = events.len();
    let body = success_body(count);
    let idempotency = claim.as_ref().zip(fingerprint).map(|(claim, fingerprint)| {
        claim.record_with_hash(environment.name(), fingerprint, StatusCode::OK, &body)
    });
    let mut response = match state
        .bulk_events
        .append_all(events.into(), idempotency)
        .await?
    {
        BulkOutcome::Stored { .. } => {
            metrics::counter!(crate::metrics::EVENTS_STORED).increment(count as u64);
            json_response(body)
        }
        BulkOutcome::Replay(record) => match &claim {
            Some(claim) => replay_claimed(&record, claim, fingerprint.as_ref()),
            // The store replays only a bulk that carries an idempotency record.
            None => return Err(ApiError::Internal),
        },
        BulkOutcome::OrganizationNotFound(id) => {
            let mut response = ApiError::organization_not_found(&id).into_response();
            if let Some(fingerprint) = fingerprint {
                // The idempotency layer records this answer under the bulk's fingerprint.
                response.extensions_mut().insert(RecordUnder(fingerprint));
            }
            return Ok(response);
        }
    };
    if claim.is_some() {
        response.extensions_mut().insert(AlreadyRecorded);
    }
    Ok(response)
}
