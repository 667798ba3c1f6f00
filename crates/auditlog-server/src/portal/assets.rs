//! The portal's files, compiled into the binary: pages, one stylesheet, our own scripts.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `(name, content type, body)` of every file under `/portal/assets/`.
const ASSETS: [(&str, &str, &str); 6] = [
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("../../portal/portal.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../portal/common.js"),
    ),
    (
        "viewer.js",
        "text/javascript; charset=utf-8",
        include_str!("../../portal/viewer.js"),
    ),
    (
        "proof.js",
        "text/javascript; charset=utf-8",
        include_str!("../../portal/proof.js"),
    ),
    (
        "streams.js",
        "text/javascript; charset=utf-8",
        include_str!("../../portal/streams.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../portal/favicon.svg"),
    ),
];

pub const AUDIT_LOGS_PAGE: &str = include_str!("../../portal/audit-logs.html");
pub const LOG_STREAMS_PAGE: &str = include_str!("../../portal/log-streams.html");
pub const NOTICE_PAGE: &str = include_str!("../../portal/notice.html");

pub async fn get_asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type)], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
