//! Exports: a CSV of an organization's events produced by a background job, and its verifiable
//! bundle.

mod bundle;
mod create;
mod get;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create_export))
        .routes(routes!(get::get_export))
        .routes(routes!(bundle::get_export_bundle))
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}
