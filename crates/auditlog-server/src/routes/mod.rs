//! The router, one module per resource; each resource module has its own `router()`, whose
//! handlers' annotations also make up the OpenAPI document.

mod downloads;
pub(crate) mod events;
pub(crate) mod exports;
mod fallback;
mod health;
mod legal_hold;
pub(crate) mod list;
pub(crate) mod log;
pub(crate) mod log_streams;
mod meta_audit;
mod openapi;
#[cfg(test)]
mod openapi_tests;
mod organizations;
mod portal;
mod ready;
mod retention;
mod schemas;
pub(crate) mod timestamp;

use crate::auth::require_api_key;
use crate::state::AppState;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::{Extension, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes that need no API key.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(health::get_health))
        .routes(routes!(ready::get_readiness))
        .routes(routes!(openapi::get_openapi_document))
        .merge(log::public_router())
        .merge(downloads::public_router())
}

/// Every API route; all of them require an API key.
fn authenticated_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .merge(events::router())
        .merge(exports::router())
        .merge(schemas::router())
        .merge(organizations::router())
        .merge(retention::router())
        .merge(legal_hold::router())
        .merge(log_streams::router())
        .merge(log::router())
        .merge(meta_audit::router())
        .merge(portal::router())
}

/// The OpenAPI document of [`router`], without building its state (for the snapshot test).
#[cfg(test)]
fn openapi_document() -> utoipa::openapi::OpenApi {
    crate::openapi::document(
        public_routes().into_openapi(),
        authenticated_routes().into_openapi(),
    )
}

pub fn router(state: AppState) -> Router {
    let (public, public_document) = public_routes().split_for_parts();
    let (authenticated, authenticated_document) = authenticated_routes().split_for_parts();
    let document = crate::openapi::document(public_document, authenticated_document);
    let document = openapi::ServedDocument(
        document
            .to_json()
            .expect("the OpenAPI document serializes")
            .into(),
    );
    let authenticated = authenticated
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        // Layers run bottom-up: the route is recorded first (a 401 has one too), then
        // authentication; the resources' idempotency route layers (which need the environment)
        // find their service in the extensions, and the bulk route its permits.
        .layer(Extension(state.idempotency.clone()))
        .layer(Extension(state.bulk_permits.clone()))
        .layer(from_fn_with_state(state.api_keys.clone(), require_api_key))
        .layer(from_fn(crate::request_span::record_route))
        .with_state(state.clone());
    public
        .layer(Extension(document))
        .layer(from_fn(crate::request_span::record_route))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback_service(authenticated)
        .with_state(state)
}
