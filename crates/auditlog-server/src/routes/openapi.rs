//! `GET /openapi.json`: the OpenAPI document generated from this code (`crate::openapi`). No
//! authentication.

use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

static DOCUMENT: LazyLock<String> = LazyLock::new(crate::openapi::document_json);

/// This document
///
/// The OpenAPI 3.1 document of this server, generated from its code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "meta",
    security(()),
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub async fn get_openapi_document() -> Response {
    let mut response = DOCUMENT.as_str().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_openapi_document))
}
