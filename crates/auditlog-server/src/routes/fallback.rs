//! JSON answers for unknown paths and wrong methods.

use crate::error::ApiError;
use axum::http::Uri;

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("No route for {}.", uri.path()))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
