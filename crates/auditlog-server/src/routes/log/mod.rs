//! Tamper evidence (extension): signed checkpoints of each organization's Merkle log, inclusion
//! and consistency proofs, its tiles, the events retention redacted, and the public verifier
//! key.

pub(crate) mod checkpoint;
mod checkpoint_create;
pub(crate) mod consistency_proof;
pub(crate) mod inclusion_proof;
mod key;
pub(crate) mod redactions;
pub(crate) mod tiles;
pub(crate) mod view;
mod witnesses;

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
            .routes(routes!(consistency_proof::get_consistency_proof))
            .routes(routes!(redactions::list_redactions))
            .routes(routes!(tiles::get_tlog_checkpoint)),
    )
    .merge(tile_router())
}

/// The tile route: its documented path names the tile path as one parameter, and axum matches
/// it with a wildcard, because a C2SP tile path has slashes in it.
fn tile_router() -> OpenApiRouter<AppState> {
    let (schemas, paths, _) = routes!(tiles::get_tlog_tile);
    let mut document = utoipa::openapi::OpenApi::default();
    document.paths = paths;
    let mut components = utoipa::openapi::Components::default();
    components.schemas.extend(schemas);
    document.components = Some(components);
    OpenApiRouter::with_openapi(document).route(
        "/audit_logs/log/{organization_id}/tlog/tile/{*tile_path}",
        axum::routing::get(tiles::get_tlog_tile),
    )
}

/// Needs no API key: anyone checking a bundle or checkpoint needs the key.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(key::get_log_key))
        .routes(routes!(witnesses::get_witness_policy))
}
