//! Exports: a CSV of an organization's events produced by a background job, and its verifiable
//! bundle.

mod bundle;
pub(crate) mod create;
pub(crate) mod get;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(create::create_export))
            .routes(routes!(get::get_export))
            .routes(routes!(bundle::get_export_bundle)),
    )
}
