//! The router, one module per resource; each resource module has its own `router()`, whose
//! annotated handlers also make up the OpenAPI document (`crate::openapi`).

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
use axum::{Extension, Router};
use utoipa_axum::router::OpenApiRouter;

/// Every API route; all of them require an API key.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(events::router())
        .merge(exports::router())
        .merge(schemas::router())
        .merge(organizations::router())
        .merge(retention::router())
        .merge(legal_hold::router())
        .merge(log::router())
        .merge(meta_audit::router())
}

/// The routes that need no API key.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(log::public_router())
        .merge(downloads::public_router())
}

/// The operations of every route, for the OpenAPI document.
pub fn operations() -> utoipa::openapi::OpenApi {
    let mut operations = api_routes().into_openapi();
    operations.merge(public_routes().into_openapi());
    operations
}

pub fn router(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    let api = api
        .route_layer(axum::middleware::from_fn(crate::request_span::record_route))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        // Layers run bottom-up: authentication first; the resources' idempotency route layers
        // (which need the environment) find their service in the extensions.
        .layer(Extension(state.idempotency.clone()))
        .layer(from_fn_with_state(state.api_keys.clone(), require_api_key))
        .with_state(state.clone());
    let (public, _) = public_routes().split_for_parts();
    public
        .route_layer(axum::middleware::from_fn(crate::request_span::record_route))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback_service(api)
        .with_state(state)
}
