//! Event schemas per action, and the actions that have one.

mod actions;
mod create;
mod list;
mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(actions::list_actions))
            .routes(routes!(create::create_schema, list::list_schemas)),
    )
}
