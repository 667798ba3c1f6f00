//! The router: one file per endpoint.

mod actions_list;
mod audit_log_configuration_get;
mod downloads_get;
mod event_inclusion_proof;
mod event_view;
mod events_create;
mod events_get;
mod events_list;
mod export_bundle_get;
mod export_view;
mod exports_create;
mod exports_get;
mod fallback;
mod health;
mod legal_hold_change;
mod legal_hold_get;
mod legal_hold_view;
pub(crate) mod list_envelope;
mod log_checkpoint_create;
mod log_checkpoint_get;
mod log_consistency_proof;
mod log_key_get;
mod log_view;
mod meta_audit_get;
mod openapi_get;
mod organizations;
mod retention_get;
mod retention_update;
mod schema_view;
mod schemas_create;
mod schemas_list;

use crate::auth::require_api_key;
use crate::idempotency::idempotency;
use crate::state::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

/// Every API route; all of them require an API key.
fn api_routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/audit_logs/events",
            post(events_create::handler).get(events_list::handler),
        )
        .route("/audit_logs/events/{id}", get(events_get::handler))
        .route("/audit_logs/meta_audit", get(meta_audit_get::handler))
        .route("/audit_logs/exports", post(exports_create::handler))
        .route("/audit_logs/exports/{id}", get(exports_get::handler))
        // Tamper evidence (extensions).
        .route(
            "/audit_logs/exports/{id}/bundle",
            get(export_bundle_get::handler),
        )
        .route(
            "/audit_logs/events/{id}/inclusion_proof",
            get(event_inclusion_proof::handler),
        )
        .route(
            "/audit_logs/log/{id}/checkpoint",
            get(log_checkpoint_get::handler).post(log_checkpoint_create::handler),
        )
        .route(
            "/audit_logs/log/{id}/consistency_proof",
            get(log_consistency_proof::handler),
        )
        .route("/audit_logs/actions", get(actions_list::handler))
        .route(
            "/audit_logs/actions/{id}/schemas",
            post(schemas_create::handler).get(schemas_list::handler),
        )
        .route(
            "/organizations",
            post(organizations::create::handler).get(organizations::list::handler),
        )
        .route(
            "/organizations/{id}",
            get(organizations::get::handler)
                .put(organizations::update::handler)
                .delete(organizations::delete::handler),
        )
        .route(
            "/organizations/{id}/audit_logs_retention",
            get(retention_get::handler).put(retention_update::handler),
        )
        .route(
            "/organizations/{id}/legal_hold",
            get(legal_hold_get::handler)
                .post(legal_hold_change::place)
                .delete(legal_hold_change::release),
        )
        .route(
            "/organizations/{id}/audit_log_configuration",
            get(audit_log_configuration_get::handler),
        )
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        // Layers run bottom-up: authentication first, then idempotency (which needs the environment).
        .layer(from_fn_with_state(state.clone(), idempotency))
        .layer(from_fn_with_state(state.clone(), require_api_key))
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::handler))
        .route("/openapi.json", get(openapi_get::handler))
        // The log's public verifier key.
        .route("/.well-known/auditlog/log-key", get(log_key_get::handler))
        // Authenticated by its signed link, not by an API key.
        .route("/downloads/exports/{id}", get(downloads_get::handler))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback_service(api_routes(state.clone()))
        .with_state(state)
}
