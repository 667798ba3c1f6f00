//! The headers on every portal response: a Content-Security-Policy that allows only the
//! binary's own scripts and styles (no inline script, no `eval`, no other origin), framing
//! only by the configured ancestors, no caching of data, no referrer (a launch URL's token
//! must not travel on).

use crate::config::PortalConfig;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

#[derive(Clone)]
pub struct SecurityHeaders(Arc<Vec<(HeaderName, HeaderValue)>>);

impl SecurityHeaders {
    pub fn new(config: &PortalConfig) -> SecurityHeaders {
        let ancestors = if config.portal_frame_ancestors.is_empty() {
            "'none'".to_string()
        } else {
            config.portal_frame_ancestors.join(" ")
        };
        let policy = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; \
             frame-ancestors {ancestors}"
        );
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy).expect("frame ancestors are validated origins"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
            ),
        ];
        if config.portal_frame_ancestors.is_empty() {
            // For browsers that predate frame-ancestors.
            headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
        }
        SecurityHeaders(Arc::new(headers))
    }
}

pub async fn add_security_headers(
    State(security): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in security.0.iter() {
        headers.insert(name.clone(), value.clone());
    }
    response
}
