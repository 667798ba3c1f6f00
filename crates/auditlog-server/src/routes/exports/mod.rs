//! Exports: a CSV of an organization's events produced by a background job, and its verifiable
//! bundle.

mod bundle;
mod create;
mod get;
pub(crate) mod view;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit_logs/exports", post(create::create_export))
        .route("/audit_logs/exports/{export_id}", get(get::get_export))
        .route(
            "/audit_logs/exports/{export_id}/bundle",
            get(bundle::get_export_bundle),
        )
        .route_layer(axum::middleware::from_fn(crate::idempotency::claim_keys))
}
