//! Tamper evidence (extension): signed checkpoints of each organization's Merkle log, inclusion
//! and consistency proofs, and the public verifier key.

mod checkpoint;
mod checkpoint_create;
mod consistency_proof;
mod inclusion_proof;
mod key;
pub(crate) mod view;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/audit_logs/events/{event_id}/inclusion_proof",
            get(inclusion_proof::get_inclusion_proof),
        )
        .route(
            "/audit_logs/log/{organization_id}/checkpoint",
            get(checkpoint::get_checkpoint).post(checkpoint_create::create_checkpoint),
        )
        .route(
            "/audit_logs/log/{organization_id}/consistency_proof",
            get(consistency_proof::get_consistency_proof),
        )
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}

/// Needs no API key: anyone checking a bundle or checkpoint needs the key.
pub fn public_router() -> Router<AppState> {
    Router::new().route("/.well-known/auditlog/log-key", get(key::get_log_key))
}
