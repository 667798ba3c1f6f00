//! Audit-log events: `POST /audit_logs/events` (the WorkOS create-event call), its bulk
//! extension `POST /audit_logs/events/bulk`, and the read API over stored events.

mod bulk;
mod bulk_body;
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
    .merge(
        crate::idempotency::idempotent_bulk_posts_recorded_by_handler(
            OpenApiRouter::default().routes(routes!(bulk::create_events_bulk)),
        )
        // Outermost: a bulk waits for its permit before the idempotency layer reads its body.
        .route_layer(axum::middleware::from_fn(bulk::one_of_few_bulks)),
    )
}
