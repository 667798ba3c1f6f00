//! An organization's retention period and its audit-log configuration.

mod configuration;
mod get;
mod update;
mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get::get_retention, update::update_retention))
        .routes(routes!(configuration::get_audit_log_configuration))
}
