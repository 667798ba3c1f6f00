//! Audit-log events: `POST /audit_logs/events` (the WorkOS create-event call) and the read API
//! over stored events.

mod create;
mod get;
mod list;
mod view;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/audit_logs/events",
            post(create::create_event).get(list::list_events),
        )
        .route("/audit_logs/events/{event_id}", get(get::get_event))
        .route_layer(axum::middleware::from_fn(
            crate::idempotency::keys_recorded_by_handler,
        ))
}
