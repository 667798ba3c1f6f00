//! The subset of the WorkOS Organizations API that the official SDKs call.

mod create;
mod delete;
mod fields;
mod get;
mod list;
mod update;
mod view;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/organizations",
            post(create::create_organization).get(list::list_organizations),
        )
        .route(
            "/organizations/{organization_id}",
            get(get::get_organization)
                .put(update::update_organization)
                .delete(delete::delete_organization),
        )
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}
