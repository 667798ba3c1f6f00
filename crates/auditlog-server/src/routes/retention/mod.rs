//! An organization's retention period and its audit-log configuration.

mod configuration;
mod get;
mod update;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/organizations/{organization_id}/audit_logs_retention",
            get(get::get_retention).put(update::update_retention),
        )
        .route(
            "/organizations/{organization_id}/audit_log_configuration",
            get(configuration::get_audit_log_configuration),
        )
}
