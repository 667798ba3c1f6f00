//! `GET /.well-known/auditlog/witnesses` (extension, no API key): the witness policy the
//! deployment publishes — which witnesses cosign its checkpoints and how many must.

use crate::state::AppState;
use auditlog_tlog::cosignature::WitnessPolicy;
use axum::extract::State;
use axum::Json;

/// The log's witness policy
///
/// The witnesses (their names and C2SP cosignature/v1 verifier keys) asked to cosign every
/// checkpoint, and `quorum`: how many of their cosignatures a checkpoint needs. Cosignature
/// lines follow the log's own signature in the checkpoint notes. `auditlog monitor` checks
/// checkpoints against this policy (or one the auditor configures). No API key.
#[utoipa::path(
    get,
    path = "/.well-known/auditlog/witnesses",
    operation_id = "getWitnessPolicy",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "The witness policy.", body = WitnessPolicy)),
)]
pub async fn get_witness_policy(State(state): State<AppState>) -> Json<WitnessPolicy> {
    Json(state.tlog.witnesses.policy().clone())
}
