//! `GET /audit_logs/events/{event_id}/inclusion_proof[?tree_size=N]` (extension): the RFC 9162
//! inclusion proof of an event in its organization's log, against the stored checkpoint of
//! that size (default: the newest). 409 `not_yet_in_log` while the event is beyond it.
//!
//! `event_matches_leaf` re-hashes the event as stored now and compares it with its logged leaf
//! hash: `false` means the stored event was rewritten after it was logged (`null`: retention
//! removed its payload; the leaf stays provable).
//!
//! Before answering, the proof is checked: the event's stored leaf hash, with the proof, must
//! lead to the checkpoint's signed root. When it does not (the event's leaf hash was rewritten
//! along with its payload, or the log's stored hashes were), the answer is the 500
//! `log_integrity_failure` that names it, never a proof that proves nothing.

use super::view::{b64, not_yet_in_log, tree_size_param, LogRouteError};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::openapi::responses::{Conflict, LogIntegrityFailure, NotFound};
use crate::state::AppState;
use crate::tlog::hashes::prefetch;
use crate::tlog::{parse_note, LogError};
use auditlog_domain::canonical::leaf_hash;
use auditlog_domain::FieldErrors;
use auditlog_tlog::{inclusion_proof, verify_inclusion};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameter; `tree_size_param` reads it.
struct InclusionQuery {
    /// Size of a stored checkpoint to prove against; default the newest.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    tree_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
enum InclusionObject {
    #[serde(rename = "inclusion_proof")]
    InclusionProof,
}

/// An RFC 9162 inclusion proof of one event in its organization's log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InclusionProof)]
pub struct InclusionProofView {
    #[schema(inline)]
    object: InclusionObject,
    event_id: String,
    organization_id: String,
    /// The event's `sequence`.
    #[schema(minimum = 0)]
    leaf_index: i64,
    /// SHA-256(0x00 ‖ canonical event bytes), base64.
    #[schema(content_encoding = "base64")]
    leaf_hash: String,
    /// The event as stored now, re-hashed, equals its logged leaf: `false` means it was
    /// rewritten after it was logged; `null` when retention removed its payload (the leaf stays
    /// provable).
    #[schema(required = true)]
    event_matches_leaf: Option<bool>,
    #[schema(minimum = 1)]
    tree_size: i64,
    /// Root hash of the checkpoint, base64.
    #[schema(content_encoding = "base64")]
    root_hash: String,
    /// RFC 9162 inclusion proof, leaf to root: node hashes, base64.
    proof: Vec<String>,
    /// The signed checkpoint the proof leads to.
    checkpoint: String,
}

/// Prove an event is in its organization's log
///
/// Against the stored checkpoint of `tree_size` (404 if there is none), default the newest.
/// 409 `not_yet_in_log` while the log has no checkpoint or the event is beyond it.
#[utoipa::path(
    get,
    path = "/audit_logs/events/{event_id}/inclusion_proof",
    operation_id = "getEventInclusionProof",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(
        ("event_id" = String, Path, example = "audit_log_event_01J9Z6W3X4Y5Z6A7B8C9D0E1F2"),
        InclusionQuery,
    ),
    responses(
        (status = 200, description = "The proof.", body = InclusionProofView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = LogIntegrityFailure),
    ),
)]
pub async fn get_inclusion_proof(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(event_id): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<InclusionProofView>, LogRouteError> {
    let event = state
        .store
        .get_event(environment.name(), &event_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Audit Log Event not found: '{event_id}'.")))?;
    let mut errors = FieldErrors::default();
    let size = tree_size_param(&query, "tree_size", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
    }
    let organization_id = event.organization_id.as_str();
    let checkpoint = match size {
        Some(size) => state
            .store
            .checkpoint_at(organization_id, size)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "No checkpoint of the log of '{organization_id}' at tree size {size}."
                ))
            })?,
        None => state
            .store
            .latest_checkpoint(organization_id)
            .await?
            .ok_or_else(|| {
                not_yet_in_log(format!(
                    "The log of '{organization_id}' has no checkpoint yet; try again shortly."
                ))
            })?,
    };
    let tree_size = checkpoint.tree_size;
    if event.sequence >= tree_size {
        return Err(not_yet_in_log(format!(
            "The event (sequence {}) is not in the tree of size {tree_size} yet; ask again \
             after the next checkpoint.",
            event.sequence
        ))
        .into());
    }
    let (size, index) = (tree_size as u64, event.sequence as u64);
    let hashes = prefetch(state.store.as_ref(), organization_id, |dry| {
        let _ = inclusion_proof(size, index, dry);
    })
    .await?;
    let proof = inclusion_proof(size, index, &hashes).map_err(LogError::from)?;
    let root = parse_note(&checkpoint.note)
        .map(|(_, _, root)| root)
        .ok_or_else(|| {
            LogError::Integrity(format!(
                "The stored checkpoint of '{organization_id}' at tree size {tree_size} cannot be read."
            ))
        })?;
    if !verify_inclusion(event.leaf_hash, index, size, &proof, root) {
        return Err(LogError::Integrity(format!(
            "The leaf hash stored with event '{}' (sequence {index}) does not lead to the signed \
             root of the log of '{organization_id}' at tree size {tree_size}: the event or the \
             log was altered after it was logged.",
            event.id
        ))
        .into());
    }
    let matches = event
        .payload
        .as_ref()
        .map(|payload| leaf_hash(payload.as_bytes()) == event.leaf_hash);
    Ok(Json(InclusionProofView {
        object: InclusionObject::InclusionProof,
        event_id: event.id.clone(),
        organization_id: organization_id.to_string(),
        leaf_index: event.sequence,
        leaf_hash: b64(&event.leaf_hash),
        event_matches_leaf: matches,
        tree_size,
        root_hash: b64(&root),
        proof: proof.iter().map(b64).collect(),
        checkpoint: checkpoint.note,
    }))
}
