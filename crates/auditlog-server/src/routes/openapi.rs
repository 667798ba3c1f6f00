//! `GET /openapi.json`: the hand-written OpenAPI 3.1 description of this API, served as is. No
//! authentication. The file lives beside the crate's Cargo.toml; the `openapi_api` test keeps its
//! paths in step with this router.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn get_openapi_document() -> Response {
    let mut response = DOCUMENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
