//! The viewer's search box: events whose values (action, actor, targets, context, metadata, id)
//! contain the text, case-insensitively, within the page's filters, newest first.
//!
//! No index serves a substring, so one request scans at most [`SCAN_BUDGET`] events and returns
//! what it found with a cursor to go on from: a search costs the same at 10 M events as at 10 k,
//! and the page says how far back it has looked.

use crate::auth::Environment;
use crate::error::ApiError;
use crate::routes::events::list::{cursor_at, decode_cursor, filters, split};
use crate::routes::events::view::EventView;
use crate::routes::list::ListObject;
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use auditlog_domain::FieldErrors;
use auditlog_store::{ExportQuery, PortalSession, StoredEvent};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

/// Events one search request reads at most.
const SCAN_BUDGET: usize = 5_000;
const SCAN_PAGE: i64 = 500;

#[derive(Serialize)]
pub struct SearchPage {
    object: ListObject,
    data: Vec<EventView>,
    list_metadata: SearchMetadata,
}

#[derive(Serialize)]
struct SearchMetadata {
    before: Option<String>,
    /// Go on searching from here (`after=`); `null` once every event was looked at.
    after: Option<String>,
    /// Events this request looked at.
    scanned: usize,
    /// The oldest `occurred_at` looked at so far.
    searched_back_to: Option<Timestamp>,
}

fn contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(text) => text.to_lowercase().contains(needle),
        Value::Number(number) => number.to_string().contains(needle),
        Value::Bool(flag) => flag.to_string() == needle,
        Value::Array(items) => items.iter().any(|item| contains(item, needle)),
        Value::Object(members) => members.values().any(|item| contains(item, needle)),
        Value::Null => false,
    }
}

fn matches(event: &StoredEvent, needle: &str) -> bool {
    if event.id.to_lowercase().contains(needle) {
        return true;
    }
    let payload: Option<Value> = event
        .payload
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    payload.is_some_and(|payload| contains(&payload, needle))
}

pub async fn search_events(
    state: &AppState,
    environment: &Environment,
    session: &PortalSession,
    pairs: Vec<(String, String)>,
    needle: &str,
) -> Result<Json<SearchPage>, ApiError> {
    let request = split(pairs);
    let mut errors = FieldErrors::default();
    let filters = filters(&request, &mut errors);
    let limit = match ListParams::parse(&request.single) {
        Ok(params) => params.limit,
        Err(more) => {
            errors.0.extend(more.0);
            0
        }
    };
    let mut cursor = match request.single.get("after").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => match decode_cursor(text) {
            Some(cursor) => Some(cursor),
            None => {
                errors.push(
                    "after",
                    "invalid_cursor",
                    "the cursor is not one this API issued",
                );
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let query = ExportQuery {
        environment: environment.name().to_string(),
        organization_id: session.organization_id.clone(),
        filters,
    };
    let needle = needle.to_lowercase();
    let (mut data, mut scanned, mut oldest, mut exhausted) = (Vec::new(), 0, None, false);
    'scan: while scanned < SCAN_BUDGET {
        let rows = state
            .store
            .list_events(&query, cursor.as_ref(), false, SCAN_PAGE)
            .await?;
        exhausted = rows.len() < SCAN_PAGE as usize;
        for row in &rows {
            scanned += 1;
            cursor = Some((row.occurred_at, row.id.clone()));
            oldest = Some(row.occurred_at);
            if matches(row, &needle) {
                data.push(EventView::new(row));
                if data.len() >= limit {
                    exhausted = false;
                    break 'scan;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let details = [
        ("search", needle.clone()),
        (
            "filters",
            serde_json::to_string(&request.lists).unwrap_or_default(),
        ),
    ];
    super::record_listing(state, environment, &session.organization_id, &details).await?;
    let after = match (&cursor, exhausted) {
        (Some((at, id)), false) => Some(cursor_at(*at, id)),
        _ => None,
    };
    Ok(Json(SearchPage {
        object: ListObject::List,
        data,
        list_metadata: SearchMetadata {
            before: None,
            after,
            scanned,
            searched_back_to: oldest.map(Timestamp::from_micros),
        },
    }))
}
