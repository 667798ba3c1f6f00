//! `GET /audit_logs/events` (extension): page through an organization's events with the
//! export filters, or tail them by sequence number.
//!
//! Pages: newest first by (occurred_at, id) by default, the WorkOS list envelope, opaque
//! cursors. Tail (`after_sequence=N`): events with a sequence number above N in sequence order,
//! and `list_metadata.last_sequence` to pass next time. Sequence numbers become visible in
//! commit order, so a poller that stores `last_sequence` sees every later event exactly once,
//! however late its `occurred_at` and whichever node committed it.

use super::view::{EventListMetadata, EventListView, EventView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::openapi::responses::NotFound;
use crate::routes::list::ListObject;
use crate::state::AppState;
use auditlog_domain::export::{ExportFilters, MAX_FILTER_VALUES};
use auditlog_domain::pagination::ListParams;
use auditlog_domain::timestamp::{parse_timestamp, to_micros};
use auditlog_domain::FieldErrors;
use auditlog_store::{ExportQuery, StoredEvent};
use axum::extract::State;
use axum::{Extension, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;
use utoipa::IntoParams;

const LIST_FILTERS: [&str; 4] = ["actions", "actor_ids", "actor_names", "targets"];

fn encode_cursor(event: &StoredEvent) -> String {
    cursor_at(event.occurred_at, &event.id)
}

/// The opaque cursor of the position (occurred_at, id).
pub(crate) fn cursor_at(occurred_at: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{occurred_at}|{id}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((at.parse().ok()?, id.to_string()))
}

pub(crate) struct Request {
    pub single: HashMap<String, String>,
    pub lists: HashMap<&'static str, Vec<String>>,
}

pub(crate) fn split(pairs: Vec<(String, String)>) -> Request {
    let mut single = HashMap::new();
    let mut lists: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (key, value) in pairs {
        let name = key.strip_suffix("[]").unwrap_or(&key);
        match LIST_FILTERS.iter().find(|f| **f == name) {
            Some(filter) => lists.entry(filter).or_default().push(value),
            None => {
                single.insert(key, value);
            }
        }
    }
    Request { single, lists }
}

fn bound(request: &Request, name: &str, default: i64, errors: &mut FieldErrors) -> i64 {
    match request.single.get(name).filter(|v| !v.is_empty()) {
        None => default,
        Some(text) => parse_timestamp(text).map(to_micros).unwrap_or_else(|| {
            errors.push(
                name,
                "invalid_date",
                format!("{name} must be an RFC 3339 date-time"),
            );
            default
        }),
    }
}

pub(crate) fn filters(request: &Request, errors: &mut FieldErrors) -> ExportFilters {
    let list = |name: &str| -> Vec<String> { request.lists.get(name).cloned().unwrap_or_default() };
    for name in LIST_FILTERS {
        if list(name).len() > MAX_FILTER_VALUES {
            errors.push(
                name,
                "too_many_items",
                format!("{name} may hold at most {MAX_FILTER_VALUES} values"),
            );
        }
    }
    ExportFilters {
        range_start: bound(request, "range_start", i64::MIN, errors),
        range_end: bound(request, "range_end", i64::MAX, errors),
        actions: list("actions"),
        actor_names: list("actor_names"),
        actor_ids: list("actor_ids"),
        targets: list("targets"),
        ..Default::default()
    }
}

/// The tail's starting point: an integer ≥ -1 (-1: from the first event).
pub(crate) fn after_sequence(text: &str, errors: &mut FieldErrors) -> i64 {
    match text.parse::<i64>() {
        Ok(n) if n >= -1 => n,
        _ => {
            errors.push(
                "after_sequence",
                "invalid_value",
                "after_sequence must be an integer ≥ -1",
            );
            -1
        }
    }
}

/// The read API's query. The list filters repeat (`?actions=a&actions=b`, or `actions[]=`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; `list_events` reads them from the pairs.
struct ListEventsQuery {
    /// The organization whose events to list.
    organization_id: String,
    /// Inclusive lower bound on `occurred_at` (RFC 3339).
    #[param(format = DateTime)]
    range_start: Option<String>,
    /// Exclusive upper bound on `occurred_at` (RFC 3339).
    #[param(format = DateTime)]
    range_end: Option<String>,
    /// Repeatable: `?actions=a&actions=b`.
    #[param(style = Form, explode)]
    actions: Option<Vec<String>>,
    /// Repeatable.
    #[param(style = Form, explode)]
    actor_ids: Option<Vec<String>>,
    /// Repeatable.
    #[param(style = Form, explode)]
    actor_names: Option<Vec<String>>,
    /// Repeatable; target types.
    #[param(style = Form, explode)]
    targets: Option<Vec<String>>,
    /// Page size; an empty value means the default.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
    /// Opaque cursor: the events before this one. Not with `after`.
    before: Option<String>,
    /// Opaque cursor: the events after this one. Not with `before`.
    after: Option<String>,
    /// By (`occurred_at`, `id`): `desc` (default), `asc`, or `normal`. Not with
    /// `after_sequence`.
    #[param(pattern = "^(desc|asc|normal)?$", default = "desc")]
    order: Option<String>,
    /// Tail mode: events with a greater `sequence`, ascending; `-1` starts at the first event.
    #[param(minimum = -1, maximum = 9223372036854775807_i64)]
    after_sequence: Option<i64>,
}

/// List or tail stored events
///
/// Extension (WorkOS has no read API). Two modes:
///
/// * **Pages** (default): events of one organization ordered by (`occurred_at`, `id`), `desc`
///   by default, filtered by range and the repeatable filters (AND across parameters, OR within
///   one), with opaque `before`/`after` cursors.
/// * **Tail**: with `after_sequence`, events whose `sequence` is greater, in ascending sequence
///   order; `list_metadata.last_sequence` is the value to pass next time. `before`, `after` and
///   `order` are not allowed with it (422).
///
/// Events removed by retention are not listed. Each call is recorded in the meta-audit trail
/// (`GET /audit_logs/meta_audit`).
#[utoipa::path(
    get,
    path = "/audit_logs/events",
    operation_id = "listEvents",
    tag = "events",
    extensions(("x-auditlog-extension" = json!(true))),
    params(ListEventsQuery),
    responses(
        (status = 200, description = "A page of events.", body = EventListView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list_events(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<EventListView>, ApiError> {
    let request = split(pairs);
    let mut errors = FieldErrors::default();
    let organization_id = request
        .single
        .get("organization_id")
        .filter(|v| !v.is_empty())
        .cloned();
    if organization_id.is_none() {
        errors.push("organization_id", "required", "organization_id is required");
    }
    let filters = filters(&request, &mut errors);
    let tail_from = request
        .single
        .get("after_sequence")
        .map(|text| after_sequence(text, &mut errors));
    if tail_from.is_some() {
        for cursor in ["before", "after", "order"] {
            if request.single.get(cursor).is_some_and(|v| !v.is_empty()) {
                errors.push(
                    cursor,
                    "invalid_value",
                    format!("{cursor} cannot be combined with after_sequence"),
                );
            }
        }
    }
    let params = ListParams::parse(&request.single);
    let params = match params {
        Ok(params) if errors.is_empty() => params,
        Ok(_) => return Err(ApiError::Validation(errors)),
        Err(more) => {
            errors.0.extend(more.0);
            return Err(ApiError::Validation(errors));
        }
    };
    let organization_id = organization_id.unwrap_or_default();
    let env = environment.name();
    if state
        .store
        .get_organization(env, &organization_id)
        .await?
        .is_none()
    {
        return Err(ApiError::organization_not_found(&organization_id));
    }
    let limit = params.limit as i64;
    let plan = params.plan();
    let cursor = match (&tail_from, &plan.start_after) {
        (None, Some(text)) => Some(decode_cursor(text).ok_or_else(|| {
            let mut errors = FieldErrors::default();
            errors.push(
                "after",
                "invalid_cursor",
                "the cursor is not one this API issued",
            );
            ApiError::Validation(errors)
        })?),
        _ => None,
    };
    let read = async {
        let body = match tail_from {
            Some(after_sequence) => {
                let events = state
                    .store
                    .tail_events(env, &organization_id, after_sequence, limit)
                    .await?;
                let last = events.last().map(|e| e.sequence).unwrap_or(after_sequence);
                EventListView {
                    object: ListObject::List,
                    data: events.iter().map(EventView::new).collect(),
                    list_metadata: EventListMetadata {
                        before: None,
                        after: None,
                        last_sequence: Some(last),
                    },
                }
            }
            None => {
                let query = ExportQuery {
                    environment: env.to_string(),
                    organization_id: organization_id.clone(),
                    filters: filters.clone(),
                };
                let rows = state
                    .store
                    .list_events(
                        &query,
                        cursor.as_ref(),
                        plan.ascending,
                        plan.fetch_limit() as i64,
                    )
                    .await?;
                let page = plan.finish(rows, encode_cursor);
                EventListView {
                    object: ListObject::List,
                    data: page.data.iter().map(EventView::new).collect(),
                    list_metadata: EventListMetadata {
                        before: page.before,
                        after: page.after,
                        last_sequence: None,
                    },
                }
            }
        };
        Ok::<EventListView, ApiError>(body)
    };
    let described = serde_json::to_string(&request.single).unwrap_or_default();
    let actor = environment.meta_actor();
    let targets = [(organization_id.as_str(), "organization")];
    let details = [
        ("query", described),
        (
            "filters",
            serde_json::to_string(&request.lists).unwrap_or_default(),
        ),
    ];
    let record = state
        .meta_audit
        .record(env, "auditlog.events.listed", actor, &targets, &details);
    // The read is on record durably before any of its data leaves, as before; the query and
    // the record's commit (an fsync) just run at the same time instead of one after the other.
    let (body, ()) = tokio::try_join!(read, record)?;
    Ok(Json(body))
}
