//! The organization's log for a portal session (what `auditlog monitor --portal-link` reads):
//! the newest checkpoint, consistency proofs, level-0 tiles and the events retention redacted,
//! answered by the API's own
//! handlers for the session's organization. The guard has already refused any other
//! organization in the path.

use crate::auth::Environment;
use crate::extract::{PathId, PathIds, QueryMap};
use crate::routes::log::{checkpoint, consistency_proof, redactions, tiles};
use crate::state::AppState;
use auditlog_store::PortalSession;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;

pub async fn get_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    query: QueryMap,
) -> Response {
    let organization = PathId(session.organization_id);
    checkpoint::get_checkpoint(State(state), Extension(environment), organization, query)
        .await
        .into_response()
}

pub async fn get_consistency_proof(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    query: QueryMap,
) -> Response {
    let organization = PathId(session.organization_id);
    consistency_proof::get_consistency_proof(
        State(state),
        Extension(environment),
        organization,
        query,
    )
    .await
    .into_response()
}

pub async fn list_redactions(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    query: QueryMap,
) -> Response {
    let organization = PathId(session.organization_id);
    redactions::list_redactions(State(state), Extension(environment), organization, query)
        .await
        .into_response()
}

pub async fn get_tile(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    PathIds(_, tile_path): PathIds,
) -> Response {
    let path = PathIds(session.organization_id, tile_path);
    tiles::get_tlog_tile(State(state), Extension(environment), path)
        .await
        .into_response()
}
