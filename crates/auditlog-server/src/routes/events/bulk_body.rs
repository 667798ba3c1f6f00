//! The body of `POST /audit_logs/events/bulk`: a JSON array of create-event requests, or NDJSON
//! (one request per line, blank lines ignored), split into one slice of the body per item:
//! nothing is copied, and each item is parsed once, by the handler. The choices are in docs/api.md.

use crate::config::defaults::MAX_BULK_EVENTS;
use crate::error::ApiError;
use auditlog_domain::FieldErrors;
use axum::http::{header, HeaderMap};
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::Value;

/// How the items are laid out in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json` (or `application/*+json`, or no Content-Type): one JSON array.
    JsonArray,
    /// `application/x-ndjson` or `application/jsonl`: one JSON object per line.
    Ndjson,
}

/// The format a request's Content-Type names; 415 for any other type.
pub fn format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(Format::JsonArray);
    };
    let text = value.to_str().map_err(|_| ApiError::UnsupportedMediaType)?;
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/jsonl" => Ok(Format::Ndjson),
        "application/json" => Ok(Format::JsonArray),
        _ if essence.starts_with("application/") && essence.ends_with("+json") => {
            Ok(Format::JsonArray)
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// One 422 error about the body as a whole.
fn body_error(code: &str, message: String) -> ApiError {
    let mut errors = FieldErrors::default();
    errors.push("body", code, message);
    ApiError::Validation(errors)
}

fn too_many(detail: String) -> ApiError {
    body_error(
        "too_many_items",
        format!("a bulk request carries at most {MAX_BULK_EVENTS} events; {detail}"),
    )
}

/// One item of a bulk: the bytes of one create-event request, not parsed yet.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub bytes: &'a [u8],
    /// The 1-based NDJSON line, for naming it when it is not JSON; `None` in a JSON array
    /// (whose items are known to be JSON).
    line: Option<usize>,
}

impl Item<'_> {
    /// The item as a JSON value (the slow path, which names every faulty field): a 400 naming
    /// the line when it is not JSON, a 422 naming each field (from the item) that holds U+0000.
    pub fn value(&self) -> Result<Value, ApiError> {
        let value: Value = serde_json::from_slice(self.bytes).map_err(|error| match self.line {
            Some(line) => ApiError::BadRequest {
                code: "invalid_json",
                message: format!(
                    "The request body is not valid NDJSON: line {line} is not valid JSON: {error}"
                ),
            },
            None => ApiError::invalid_json(error),
        })?;
        let nul = crate::nul::body_errors(self.bytes, &value);
        if !nul.is_empty() {
            return Err(ApiError::Validation(nul));
        }
        Ok(value)
    }
}

/// The items of `raw`: 1 to [`MAX_BULK_EVENTS`], each the bytes of one request still to be
/// parsed (`EventInput::from_valid_slice`, or [`Item::value`]) and validated. A body that is
/// not JSON is a 400; a JSON body that is not an array, or an empty or oversized bulk, a 422.
/// NDJSON lines are only split here: a line that is not JSON is found by its item's parse.
pub fn items(raw: &[u8], format: Format) -> Result<Vec<Item<'_>>, ApiError> {
    let items = match format {
        Format::JsonArray => json_array(raw)?,
        Format::Ndjson => ndjson(raw)?,
    };
    if items.is_empty() {
        return Err(body_error(
            "required",
            "a bulk request carries at least one event".into(),
        ));
    }
    Ok(items)
}

fn json_array(raw: &[u8]) -> Result<Vec<Item<'_>>, ApiError> {
    // The array's items as slices of the body, checked to be JSON but not parsed.
    match serde_json::from_slice::<Vec<&RawValue>>(raw) {
        Ok(items) if items.len() > MAX_BULK_EVENTS => {
            Err(too_many(format!("this one has {}", items.len())))
        }
        Ok(items) => Ok(items
            .into_iter()
            .map(|item| Item {
                bytes: item.get().as_bytes(),
                line: None,
            })
            .collect()),
        // Not an array: malformed JSON (400), or another JSON value (422).
        Err(_) => {
            serde_json::from_slice::<IgnoredAny>(raw).map_err(ApiError::invalid_json)?;
            Err(body_error(
                "invalid_type",
                "the request body must be a JSON array of events (or NDJSON with Content-Type: \
                 application/x-ndjson)"
                    .into(),
            ))
        }
    }
}

fn ndjson(raw: &[u8]) -> Result<Vec<Item<'_>>, ApiError> {
    let mut items = Vec::new();
    for (number, line) in raw.split(|byte| *byte == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if items.len() == MAX_BULK_EVENTS {
            return Err(too_many(format!(
                "line {} holds event number {}",
                number + 1,
                MAX_BULK_EVENTS + 1
            )));
        }
        items.push(Item {
            bytes: line,
            line: Some(number + 1),
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::response::IntoResponse;

    fn status_and_body(error: ApiError) -> (u16, Value) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 20))
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn content_types() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            format(&headers).ok()
        };
        assert_eq!(format(&HeaderMap::new()).ok(), Some(Format::JsonArray));
        assert_eq!(
            with("application/json; charset=utf-8"),
            Some(Format::JsonArray)
        );
        assert_eq!(with("application/x-ndjson"), Some(Format::Ndjson));
        assert_eq!(with("Application/JSONL"), Some(Format::Ndjson));
        assert_eq!(with("text/plain"), None);
        assert_eq!(with("application/json-seq"), None);
    }

    #[test]
    fn ndjson_skips_blank_lines_and_names_a_bad_line() {
        let raw = b"{\"a\":1}\r\n\n  \n{\"a\":2}\n";
        assert_eq!(ndjson(raw).unwrap().len(), 2);
        let items = ndjson(b"{\"a\":1}\n\n{\"a\":\n").unwrap();
        assert!(items[0].value().is_ok());
        let (status, body) = status_and_body(items[1].value().unwrap_err());
        assert_eq!(status, 400);
        assert_eq!(body["code"], "invalid_json");
        assert!(
            body["message"].as_str().unwrap().contains("line 3"),
            "{body}"
        );
    }

    #[test]
    fn items_are_slices_of_the_body_and_nul_is_found_in_their_values() {
        let raw = br#" [ {"a": 1} , {"event":{"actor":{"id":"u\u0000"}}} ] "#;
        let items = json_array(raw).unwrap();
        assert_eq!(items[0].bytes, br#"{"a": 1}"#);
        let (status, body) = status_and_body(items[1].value().unwrap_err());
        assert_eq!(status, 422);
        assert_eq!(body["errors"][0]["field"], "event.actor.id");
        let items =
            ndjson(b"{\"a\":1}\n\n{\"event\":{\"actor\":{\"id\":\"u\\u0000\"}}}\n").unwrap();
        let (_, body) = status_and_body(items[1].value().unwrap_err());
        assert_eq!(body["errors"][0]["field"], "event.actor.id");
    }

    #[test]
    fn counts_are_bounded() {
        let (status, body) = status_and_body(items(b"[]", Format::JsonArray).unwrap_err());
        assert_eq!(
            (status, body["errors"][0]["code"].as_str()),
            (422, Some("required"))
        );
        let (status, _) = status_and_body(items(b"\n \n", Format::Ndjson).unwrap_err());
        assert_eq!(status, 422);
        let many = format!("[{}]", vec!["{}"; MAX_BULK_EVENTS + 1].join(","));
        let (_, body) = status_and_body(items(many.as_bytes(), Format::JsonArray).unwrap_err());
        assert_eq!(body["errors"][0]["code"], "too_many_items");
        let many = "{}\n".repeat(MAX_BULK_EVENTS + 1);
        let (_, body) = status_and_body(items(many.as_bytes(), Format::Ndjson).unwrap_err());
        assert_eq!(body["errors"][0]["code"], "too_many_items");
        assert_eq!(
            items(b"{}\n".repeat(MAX_BULK_EVENTS).as_slice(), Format::Ndjson)
                .unwrap()
                .len(),
            MAX_BULK_EVENTS
        );
        let (_, body) = status_and_body(items(b"{}", Format::JsonArray).unwrap_err());
        assert_eq!(body["errors"][0]["code"], "invalid_type");
        let (status, body) = status_and_body(items(b"[{}, {", Format::JsonArray).unwrap_err());
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    }
}
