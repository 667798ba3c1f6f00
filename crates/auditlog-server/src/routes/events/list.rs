//! `GET /audit_logs/events` (extension): page through an organization's events with the
//! export filters, or tail them by sequence number.
//!
//! Pages: newest first by (occurred_at, id) by default, the WorkOS list envelope, opaque
//! cursors. Tail (`after_sequence=N`): events with a sequence number above N in sequence order,
//! and `list_metadata.last_sequence` to pass next time. Sequence numbers become visible in
//! commit order, so a poller that stores `last_sequence` sees every later event exactly once,
//! however late its `occurred_at` and whichever node committed it.

use super::view::event_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::meta_audit::MetaActor;
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
use serde_json::{json, Value};
use std::collections::HashMap;

const LIST_FILTERS: [&str; 4] = ["actions", "actor_ids", "actor_names", "targets"];

fn encode_cursor(event: &StoredEvent) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", event.occurred_at, event.id))
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((at.parse().ok()?, id.to_string()))
}

struct Request {
    single: HashMap<String, String>,
    lists: HashMap<&'static str, Vec<String>>,
}

fn split(pairs: Vec<(String, String)>) -> Request {
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

fn filters(request: &Request, errors: &mut FieldErrors) -> ExportFilters {
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

pub async fn list_events(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
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
        .map(|text| match text.parse::<i64>() {
            Ok(n) if n >= -1 => n,
            _ => {
                errors.push(
                    "after_sequence",
                    "invalid_value",
                    "after_sequence must be an integer ≥ -1",
                );
                -1
            }
        });
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
                json!({
                    "object": "list",
                    "data": events.iter().map(event_json).collect::<Vec<_>>(),
                    "list_metadata": {"before": null, "after": null, "last_sequence": last},
                })
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
                json!({
                    "object": "list",
                    "data": page.data.iter().map(event_json).collect::<Vec<_>>(),
                    "list_metadata": {"before": page.before, "after": page.after},
                })
            }
        };
        Ok::<Value, ApiError>(body)
    };
    let described = serde_json::to_string(&request.single).unwrap_or_default();
    let actor = MetaActor {
        id: environment.key_id(),
        kind: "api_key",
    };
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
