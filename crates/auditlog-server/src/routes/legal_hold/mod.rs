//! Legal hold (extension): while held, retention deletes none of an organization's events.

mod change;
mod get;
mod view;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/organizations/{organization_id}/legal_hold",
            get(get::get_legal_hold)
                .post(change::place_legal_hold)
                .delete(change::release_legal_hold),
        )
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}
