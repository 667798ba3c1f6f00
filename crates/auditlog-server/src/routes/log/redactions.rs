//! `GET /audit_logs/log/{organization_id}/redactions?after_sequence=N&limit=L` (extension): the
//! organization's events whose payload retention removed, in sequence order.
//!
//! The read API's tail skips them, and a deleted event is skipped too; this list is what tells
//! the two apart from outside. Each entry keeps what retention keeps (sequence, id, occurred_at,
//! leaf hash), so a monitor can hold the leaf to the log's and the time to the retention period.

use super::view::{b64, require_organization, LogPath, LogRouteError};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::openapi::responses::{NotFound, ValidationFailed};
use crate::routes::events::list::after_sequence;
use crate::routes::list::ListObject;
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use auditlog_store::StoredEvent;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// Page size bounds: pages are small records (no payload), so bigger than the tail's.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; the handler reads them from the query map.
struct RedactionsQuery {
    /// Redactions of events with a greater `sequence`; `-1` (default) starts at the first.
    #[param(minimum = -1, maximum = 9223372036854775807_i64, default = -1)]
    after_sequence: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
enum RedactionObject {
    #[serde(rename = "redaction")]
    Redaction,
}

/// An event whose payload retention removed: what the log keeps of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Redaction)]
pub struct RedactionView {
    #[schema(inline)]
    object: RedactionObject,
    /// The event's `sequence`: its leaf index in the organization's log.
    #[schema(minimum = 0)]
    sequence: i64,
    event_id: String,
    /// When the event occurred, as stored; what retention measured its age by.
    occurred_at: Timestamp,
    /// The event's logged leaf hash, SHA-256(0x00 ‖ canonical event bytes), base64.
    #[schema(content_encoding = "base64")]
    leaf_hash: String,
}

impl RedactionView {
    fn new(event: &StoredEvent) -> RedactionView {
        RedactionView {
            object: RedactionObject::Redaction,
            sequence: event.sequence,
            event_id: event.id.clone(),
            occurred_at: Timestamp::from_micros(event.occurred_at),
            leaf_hash: b64(&event.leaf_hash),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedactionListMetadata {
    /// The sequence to pass as `after_sequence` next time (the given one when the page is
    /// empty).
    #[schema(minimum = -1)]
    last_sequence: i64,
}

/// A page of redactions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RedactionList)]
pub struct RedactionListView {
    #[schema(inline)]
    object: ListObject,
    data: Vec<RedactionView>,
    list_metadata: RedactionListMetadata,
}

/// `limit`: an integer in 1..=1000, default 100.
fn limit_param(text: Option<&String>, errors: &mut FieldErrors) -> i64 {
    let Some(text) = text.filter(|text| !text.is_empty()) else {
        return DEFAULT_LIMIT;
    };
    match text.parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        _ => {
            errors.push(
                "limit",
                "invalid_value",
                format!("limit must be an integer between 1 and {MAX_LIMIT}"),
            );
            DEFAULT_LIMIT
        }
    }
}

/// List the events retention redacted
///
/// The organization's events whose payload retention removed, in ascending `sequence` order
/// after `after_sequence`. The read API does not serve them; their sequence, id, occurred_at
/// and leaf hash stay, and are listed here, so that a missing event can be told from a deleted
/// one. `list_metadata.last_sequence` is the value to pass next time.
#[utoipa::path(
    get,
    path = "/audit_logs/log/{organization_id}/redactions",
    operation_id = "listLogRedactions",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(LogPath, RedactionsQuery),
    responses(
        (status = 200, description = "A page of redactions.", body = RedactionListView),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    ),
)]
pub async fn list_redactions(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<RedactionListView>, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let mut errors = FieldErrors::default();
    let after = query
        .get("after_sequence")
        .filter(|text| !text.is_empty())
        .map_or(-1, |text| after_sequence(text, &mut errors));
    let limit = limit_param(query.get("limit"), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
    }
    let events = state
        .store
        .redacted_events(environment.name(), &organization_id, after, limit)
        .await?;
    let last_sequence = events.last().map_or(after, |event| event.sequence);
    Ok(Json(RedactionListView {
        object: ListObject::List,
        data: events.iter().map(RedactionView::new).collect(),
        list_metadata: RedactionListMetadata { last_sequence },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_a_thousand_are_field_errors() {
        let mut errors = FieldErrors::default();
        assert_eq!(limit_param(None, &mut errors), 100);
        assert_eq!(limit_param(Some(&String::new()), &mut errors), 100);
        assert_eq!(limit_param(Some(&"1".into()), &mut errors), 1);
        assert_eq!(limit_param(Some(&"1000".into()), &mut errors), 1000);
        assert!(errors.is_empty());
        for bad in ["0", "1001", "-3", "x", "1.5"] {
            let mut errors = FieldErrors::default();
            limit_param(Some(&bad.to_string()), &mut errors);
            assert!(!errors.is_empty(), "{bad}");
        }
    }
}
