//! `GET /openapi.json`: this API's OpenAPI 3.1 document, generated from the router when it is
//! built (see `crate::openapi`). No authentication.

use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use bytes::Bytes;

/// The serialized document, shared by every request.
#[derive(Clone)]
pub struct ServedDocument(pub Bytes);

/// This document
///
/// The OpenAPI 3.1 description of this API. No API key.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "meta",
    extensions(("x-auditlog-extension" = json!(true))),
    responses((
        status = 200,
        description = "The document.",
        content_type = "application/json",
        body = Object,
    )),
)]
pub async fn get_openapi_document(
    Extension(document): Extension<ServedDocument>,
) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0)
}
