//! `GET /audit_logs/log/{organization_id}/consistency_proof?first=M[&second=N]` (extension):
//! the RFC 9162 consistency proof that the organization's tree of M leaves is a prefix of its
//! tree of N leaves (default: the newest checkpoint's size), with the stored checkpoints of
//! both sizes when there are (`null` otherwise). A client checks it against the checkpoints it
//! saved, with `auditlog verify --old-checkpoint … --new-checkpoint … --consistency-proof …`.

use super::view::{
    b64, not_yet_in_log, require_organization, tree_size_param, LogPath, LogRouteError,
};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::openapi::responses::{Conflict, LogIntegrityFailure, NotFound};
use crate::state::AppState;
use crate::tlog::hashes::prefetch;
use crate::tlog::LogError;
use auditlog_domain::FieldErrors;
use auditlog_tlog::consistency_proof;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; `tree_size_param` reads them.
struct ConsistencyQuery {
    /// The older tree size.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    first: i64,
    /// The newer tree size; default the newest checkpoint's.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    second: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
enum ConsistencyObject {
    #[serde(rename = "consistency_proof")]
    ConsistencyProof,
}

/// An RFC 9162 consistency proof between two sizes of an organization's log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConsistencyProof)]
pub struct ConsistencyProofView {
    #[schema(inline)]
    object: ConsistencyObject,
    organization_id: String,
    #[schema(minimum = 0)]
    first_tree_size: i64,
    #[schema(minimum = 0)]
    second_tree_size: i64,
    /// RFC 9162 consistency proof: node hashes, base64.
    proof: Vec<String>,
    /// The stored checkpoint of the first size, if any.
    #[schema(required = true)]
    first_checkpoint: Option<String>,
    /// The stored checkpoint of the second size, if any.
    #[schema(required = true)]
    second_checkpoint: Option<String>,
}

/// Prove an older tree is a prefix of a newer one
///
/// RFC 9162 consistency proof from `first` leaves to `second` (default: the newest
/// checkpoint's size), with the stored checkpoints of both sizes when there are. 422 when
/// `first` is missing or larger than `second`; 409 `not_yet_in_log` when the log does not hold
/// `second` leaves yet or has no checkpoint.
#[utoipa::path(
    get,
    path = "/audit_logs/log/{organization_id}/consistency_proof",
    operation_id = "getLogConsistencyProof",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(LogPath, ConsistencyQuery),
    responses(
        (status = 200, description = "The proof.", body = ConsistencyProofView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = LogIntegrityFailure),
    ),
)]
pub async fn get_consistency_proof(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<ConsistencyProofView>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let store = state.store.as_ref();
    let mut errors = FieldErrors::default();
    let first = tree_size_param(&query, "first", &mut errors);
    let second = tree_size_param(&query, "second", &mut errors);
    if first.is_none() && !query.contains_key("first") {
        errors.push(
            "first",
            "required",
            "first (the older tree size) is required",
        );
    }
    if let (Some(first), Some(second)) = (first, second) {
        if first > second {
            errors.push("first", "invalid", "first must not be larger than second");
        }
    }
    let Some(first) = first.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors).into());
    };
    let second = match second {
        Some(second) => second,
        None => match store.latest_checkpoint(&organization_id).await? {
            Some(latest) => latest.tree_size,
            None => {
                return Err(not_yet_in_log(format!(
                    "The log of '{organization_id}' has no checkpoint yet; try again shortly."
                ))
                .into())
            }
        },
    };
    if first > second {
        let mut errors = FieldErrors::default();
        errors.push("first", "invalid", "first must not be larger than second");
        return Err(ApiError::Validation(errors).into());
    }
    let built = store.log_tree_size(&organization_id).await?;
    if second > built {
        return Err(not_yet_in_log(format!(
            "The log of '{organization_id}' holds {built} leaves, fewer than {second}."
        ))
        .into());
    }
    let (old, new) = (first as u64, second as u64);
    let hashes = prefetch(store, &organization_id, |dry| {
        let _ = consistency_proof(old, new, dry);
    })
    .await?;
    let proof = consistency_proof(old, new, &hashes).map_err(LogError::from)?;
    let first_checkpoint = store.checkpoint_at(&organization_id, first).await?;
    let second_checkpoint = store.checkpoint_at(&organization_id, second).await?;
    Ok(Json(ConsistencyProofView {
        object: ConsistencyObject::ConsistencyProof,
        organization_id,
        first_tree_size: first,
        second_tree_size: second,
        proof: proof.iter().map(b64).collect(),
        first_checkpoint: first_checkpoint.map(|c| c.note),
        second_checkpoint: second_checkpoint.map(|c| c.note),
    }))
}
