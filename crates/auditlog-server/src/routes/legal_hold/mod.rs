//! Legal hold (extension): while held, retention deletes none of an organization's events.

mod change;
mod get;
mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(OpenApiRouter::default().routes(routes!(
        get::get_legal_hold,
        change::place_legal_hold,
        change::release_legal_hold
    )))
}
