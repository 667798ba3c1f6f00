//! The subset of the WorkOS Organizations API that the official SDKs call.

mod create;
mod delete;
mod fields;
mod get;
mod list;
mod request;
mod update;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(
                create::create_organization,
                list::list_organizations
            ))
            .routes(routes!(
                get::get_organization,
                update::update_organization,
                delete::delete_organization
            )),
    )
}
