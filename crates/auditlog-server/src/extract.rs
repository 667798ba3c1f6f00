//! Path and query extractors whose rejections are WorkOS-shaped JSON instead of axum's text.

use crate::error::ApiError;
use crate::nul;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use std::collections::HashMap;

/// The single `{id}`-style path parameter of a route.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            // No stored id can contain U+0000 (see `nul`): not found, without asking the store.
            Ok(Path(id)) if nul::contains_nul(&id) => Err(ApiError::NotFound(
                "Not found: no id contains the NUL character (U+0000).".into(),
            )),
            Ok(Path(id)) => Ok(PathId(id)),
            Err(rejection) => Err(ApiError::BadRequest {
                code: "invalid_path",
                message: rejection.body_text(),
            }),
        }
    }
}

/// The two `{id}`-style path parameters of a nested route (an organization and one of its
/// resources).
pub struct PathIds(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b))) if nul::contains_nul(&a) || nul::contains_nul(&b) => Err(
                ApiError::NotFound("Not found: no id contains the NUL character (U+0000).".into()),
            ),
            Ok(Path((a, b))) => Ok(PathIds(a, b)),
            Err(rejection) => Err(ApiError::BadRequest {
                code: "invalid_path",
                message: rejection.body_text(),
            }),
        }
    }
}

/// 422 naming each query parameter whose name or value contains U+0000 (see `nul`).
fn refuse_nul(pairs: &[(String, String)]) -> Result<(), ApiError> {
    let errors = nul::query_errors(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The query string as a map; a repeated parameter keeps its last value.
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => {
                refuse_nul(&pairs)?;
                Ok(QueryMap(pairs.into_iter().collect()))
            }
            Err(rejection) => Err(ApiError::BadRequest {
                code: "invalid_query",
                message: rejection.body_text(),
            }),
        }
    }
}

/// The query string as ordered pairs, keeping repeated parameters (`?actions=a&actions=b`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => {
                refuse_nul(&pairs)?;
                Ok(QueryPairs(pairs))
            }
            Err(rejection) => Err(ApiError::BadRequest {
                code: "invalid_query",
                message: rejection.body_text(),
            }),
        }
    }
}
