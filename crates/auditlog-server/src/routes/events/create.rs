//! `POST /audit_logs/events`: validate, canonicalize, hash, then wait for the group
//! commit. `200 {"success":true}` means the event is on disk.

use super::request::{CreateEventRequest, CreateEventResponse};
use crate::auth::Environment;
use crate::body::EventBody;
use crate::error::ApiError;

use crate::idempotency::{replay_claimed, AlreadyRecorded, IdempotencyClaim, RecordUnder};
use crate::ingest::{prepare_event, SubmitError};
use crate::openapi::responses::{InvalidEvent, NotFound};
use crate::schema_cache::SchemaLookup;
use crate::state::AppState;
use auditlog_domain::canonical::canonical_event_bytes;
use auditlog_domain::schema::SchemaViolation;
use auditlog_domain::EventInput;
use auditlog_store::AppendOutcome;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

const SUCCESS_BODY: &[u8] = br#"{"success":true}"#;

fn success() -> Response {
    let mut response = (StatusCode::OK, SUCCESS_BODY).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Validates the event against its action's schema at its version.
async fn check_schema(
    state: &AppState,
    environment: &str,
    input: &EventInput,
) -> Result<(), ApiError> {
    let lookup = state
        .schema_cache
        .lookup(
            state.store.as_ref(),
            environment,
            &input.action,
            input.version,
        )
        .await?;
    match schema_refusal(&lookup, state.config.require_schemas, input) {
        None => Ok(()),
        Some((message, errors)) => Err(ApiError::InvalidEvent { message, errors }),
    }
}

/// Why `input` must be refused under its action's schema `lookup` (the message and every
/// violation, paths relative to the event), or `None` when it may be stored. Shared with bulk
/// ingest, which looks each (action, version) up once per request.
pub(super) fn schema_refusal(
    lookup: &SchemaLookup,
    require_schemas: bool,
    input: &EventInput,
) -> Option<(String, Vec<SchemaViolation>)> {
    match lookup {
        SchemaLookup::Compiled(schema) => {
            let errors = schema.validate(input);
            if errors.is_empty() {
                None
            } else {
                Some(("Invalid Audit Log event.".into(), errors))
            }
        }
        SchemaLookup::Unconfigured if !require_schemas => None,
        SchemaLookup::Unconfigured | SchemaLookup::UnknownVersion => {
            let message = format!(
                "Invalid Audit Log event: event '{}', version '{}' has not been configured in this environment",
                input.action, input.version
            );
            let errors = vec![SchemaViolation {
                instance_path: "/version".into(),
                schema_path: String::new(),
                keyword: "configured".into(),
                message: message.clone(),
            }];
            Some((message, errors))
        }
    }
}

/// Create an audit log event
///
/// Validates the event (422 field errors), checks it against its action's schema at its
/// `version` (400 `invalid_audit_log_event`), then answers 200 once it is committed and
/// fsync'd. Actions without any schema are accepted unless the server runs with
/// `--require-schemas`.
#[utoipa::path(
    post,
    path = "/audit_logs/events",
    operation_id = "createEvent",
    tag = "events",
    extensions(("x-workos-operation-id" = json!("AuditLogEventsController_create"))),
    request_body = CreateEventRequest,
    responses(
        (status = 200, description = "Stored.", body = CreateEventResponse,
            example = json!({"success": true})),
        (status = 400, response = InvalidEvent),
        (status = 404, response = NotFound),
    ),
)]
#[tracing::instrument(skip_all, fields(environment = %environment.name()))]
pub async fn create_event(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    claim: Option<Extension<IdempotencyClaim>>,
    EventBody(input): EventBody,
) -> Response {
    let claim = claim.map(|Extension(claim)| claim);
    // A keyed request is fingerprinted from the event parsed here (its canonical bytes with
    // no id), not by parsing its body again.
    let fingerprint = claim
        .as_ref()
        .map(|claim| claim.fingerprint_of(canonical_event_bytes("", &input).as_bytes()));
    let mut response =
        match store_event(&state, &environment, claim.as_ref(), fingerprint, input).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
    if let Some(fingerprint) = fingerprint {
        // Whatever the idempotency layer records for this answer, it records under the same
        // fingerprint as the store would have.
        response.extensions_mut().insert(RecordUnder(fingerprint));
    }
    response
}

async fn store_event(
    state: &AppState,
    environment: &Environment,
    claim: Option<&IdempotencyClaim>,
    fingerprint: Option<[u8; 32]>,
    input: EventInput,
) -> Result<Response, ApiError> {
    state
        .meta_audit
        .refuse_changes_to_trail(
            environment.name(),
            &input.organization_id,
            "an event from a client",
        )
        .await?;
    check_schema(state, environment.name(), &input).await?;
    let idempotency = claim.zip(fingerprint).map(|(claim, fingerprint)| {
        claim.record_with_hash(
            environment.name(),
            fingerprint,
            StatusCode::OK,
            SUCCESS_BODY,
        )
    });
    let event = prepare_event(environment.name(), &input, idempotency);
    let outcome = state
        .ingest
        .submit(event)
        .await
        .map_err(|error| match error {
            SubmitError::Overloaded => ApiError::Overloaded {
                retry_after_secs: 1,
            },
            SubmitError::Unavailable => ApiError::store_unavailable(),
            SubmitError::Failed => ApiError::Internal,
        })?;
    let mut response = match (outcome, claim) {
        (AppendOutcome::Stored { .. }, _) => success(),
        (AppendOutcome::Replay(record), Some(claim)) => {
            replay_claimed(&record, claim, fingerprint.as_ref())
        }
        // The store replays only events that carry an idempotency record.
        (AppendOutcome::Replay(_), None) => return Err(ApiError::Internal),
        (AppendOutcome::OrganizationNotFound, _) => {
            return Err(ApiError::organization_not_found(&input.organization_id))
        }
    };
    if claim.is_some() {
        response.extensions_mut().insert(AlreadyRecorded);
    }
    Ok(response)
}
