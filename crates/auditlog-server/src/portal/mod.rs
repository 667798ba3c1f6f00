//! The Admin Portal: what a link from `POST /portal/generate_link` opens in the customer's
//! browser. Intent `audit_logs` is the event viewer (filters, search, live tail, detail with
//! proof checked in the browser, export); `log_streams` is the stream setup page.
//!
//! How it is built: static HTML pages, one stylesheet and a few small scripts of our own, all
//! compiled into the binary (`assets`), so the server needs nothing but Rust to build and run.
//! The pages hold no data; their scripts fetch it as JSON from `/portal/api` (`api`) and put it
//! in the page as text nodes, never as markup, which keeps event fields inert. Sessions are in
//! `session`; the security headers every portal response carries are in `headers`.

mod api;
mod assets;
mod headers;
mod pages;
pub mod session;

use crate::state::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;

/// Every `/portal/…` route but `generate_link` (which is the API's, under its key).
pub fn router(state: &AppState) -> Router<AppState> {
    let security = headers::SecurityHeaders::new(&state.config.portal);
    Router::new()
        .route("/portal", get(pages::open_portal))
        .route("/portal/launch", get(pages::launch))
        .route("/portal/audit-logs", get(pages::audit_logs_page))
        .route("/portal/log-streams", get(pages::log_streams_page))
        .route("/portal/signed-out", get(pages::signed_out_page))
        .route("/portal/assets/{name}", get(assets::get_asset))
        .merge(api::router(state))
        .layer(from_fn_with_state(security, headers::add_security_headers))
}
