//! Reading request bodies: size limit (JSON 413), content type (JSON 415), malformed JSON and
//! invalid UTF-8 (JSON 400), U+0000 in any string or key (JSON 422, see `nul`). Nothing here
//! can produce a 5xx.

use crate::error::ApiError;
use crate::listen::BodyTimedOut;
use auditlog_domain::EventInput;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge(limit))
        }
        Err(error) if timed_out(error.as_ref()) => Err(ApiError::RequestTimeout),
        Err(error) => Err(ApiError::BadRequest {
            code: "invalid_body",
            message: format!("The request body could not be read: {error}"),
        }),
    }
}

/// True when the body stopped because its deadline passed (somewhere in the error's causes).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// A missing Content-Type is tolerated (the body must still be JSON); any other type than
/// `application/json` or `…+json` is refused.
fn content_type_is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A request body parsed as a JSON value.
pub struct JsonBody(pub Value);

/// The largest request body a route accepts, from the state it runs with.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Reads a JSON request's body: content type, then size limit.
async fn json_bytes<S>(request: Request, state: &S) -> Result<Bytes, ApiError>
where
    BodyLimit: axum::extract::FromRef<S>,
{
    let BodyLimit(limit) = axum::extract::FromRef::from_ref(state);
    if !content_type_is_json(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    read_limited(request.into_body(), limit).await
}

/// Parses JSON bytes into a value, refusing malformed JSON (400) and U+0000 (422).
pub fn json_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(ApiError::invalid_json)?;
    let nul = crate::nul::body_errors(bytes, &value);
    if !nul.is_empty() {
        return Err(ApiError::Validation(nul));
    }
    Ok(value)
}

impl<S> FromRequest<S> for JsonBody
where
    S: Send + Sync,
    BodyLimit: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(request, state).await?;
        json_value(&bytes).map(JsonBody)
    }
}

/// The body of `POST /audit_logs/events` as a validated event.
pub struct EventBody(pub EventInput);

/// Parses an event request body. A valid body goes from its bytes straight into the event's
/// typed fields; any other (or one that may hold U+0000) goes through a JSON value, which
/// names every faulty field. Both accept the same bodies (see `EventInput::from_valid_slice`).
pub fn parse_event(bytes: &[u8]) -> Result<EventInput, ApiError> {
    if !crate::nul::may_contain_nul(bytes) {
        if let Some(event) = EventInput::from_valid_slice(bytes) {
            return Ok(event);
        }
    }
    EventInput::from_value(json_value(bytes)?).map_err(ApiError::Validation)
}

impl<S> FromRequest<S> for EventBody
where
    S: Send + Sync,
    BodyLimit: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(request, state).await?;
        parse_event(&bytes).map(EventBody)
    }
}
