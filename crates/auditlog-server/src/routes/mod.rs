//! The router, one module per resource; each resource module has its own `router()`.

mod downloads;
mod events;
mod exports;
mod fallback;
mod health;
mod legal_hold;
pub(crate) mod list;
mod log;
mod meta_audit;
mod openapi;
mod organizations;
mod retention;
mod schemas;

use crate::auth::require_api_key;
use crate::state::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::{Extension, Router};

/// Every API route; all of them require an API key.
fn api_routes(state: AppState) -> Router {
    Router::new()
        .merge(events::router())
        .merge(exports::router())
        .merge(schemas::router())
        .merge(organizations::router())
        .merge(retention::router())
        .merge(legal_hold::router())
        .merge(log::router())
        .merge(meta_audit::router())
        .route_layer(axum::middleware::from_fn(crate::request_span::record_route))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        // Layers run bottom-up: authentication first; the resources' idempotency route layers
        // (which need the environment) find their service in the extensions.
        .layer(Extension(state.idempotency.clone()))
        .layer(from_fn_with_state(state.api_keys.clone(), require_api_key))
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::get_health))
        .route("/openapi.json", get(openapi::get_openapi_document))
        .merge(log::public_router())
        .merge(downloads::public_router())
        .route_layer(axum::middleware::from_fn(crate::request_span::record_route))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback_service(api_routes(state.clone()))
        .with_state(state)
}
