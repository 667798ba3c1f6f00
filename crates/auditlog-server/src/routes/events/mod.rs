//! Audit-log events: `POST /audit_logs/events` (the WorkOS create-event call) and the read API
//! over stored events.

mod create;
pub(crate) mod get;
pub(crate) mod list;
mod request;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts_recorded_by_handler(
        OpenApiRouter::default()
            .routes(routes!(create::create_event, list::list_events))
            .routes(routes!(get::get_event)),
    )
}
