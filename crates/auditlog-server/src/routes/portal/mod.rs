//! The Admin Portal's API half (WorkOS `POST /portal/generate_link`): the SaaS app asks for a
//! short-lived link and hands it to its customer's admin. What the link opens is in `portal`.

mod generate_link;
mod revoke_link;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(generate_link::generate_portal_link))
            .routes(routes!(revoke_link::revoke_portal_link)),
    )
}
