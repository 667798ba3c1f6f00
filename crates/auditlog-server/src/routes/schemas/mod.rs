//! Event schemas per action, and the actions that have one.

mod actions;
mod create;
mod list;
mod view;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit_logs/actions", get(actions::list_actions))
        .route(
            "/audit_logs/actions/{action}/schemas",
            post(create::create_schema).get(list::list_schemas),
        )
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}
