//! Tamper evidence (extension): signed checkpoints of each organization's Merkle log, inclusion
//! and consistency proofs, and the public verifier key.

mod checkpoint;
mod checkpoint_create;
mod consistency_proof;
pub(crate) mod inclusion_proof;
mod key;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(inclusion_proof::get_inclusion_proof))
            .routes(routes!(
                checkpoint::get_checkpoint,
                checkpoint_create::create_checkpoint
            ))
            .routes(routes!(consistency_proof::get_consistency_proof)),
    )
}

/// Needs no API key: anyone checking a bundle or checkpoint needs the key.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(key::get_log_key))
}
