//! Export requests: the range and filters of `POST /audit_logs/exports`.
//!
//! Range: `range_start` inclusive, `range_end` exclusive — `[start, end)` — so consecutive
//! exports (`end` of one = `start` of the next) neither miss nor repeat an event. A start after
//! the end is refused; an equal start and end is an empty range. Filters: AND across fields, OR
//! within one field; an empty list means "no filter". `actors` is the deprecated alias of
//! `actor_names` (both given: their union).

use crate::field_error::FieldErrors;
use crate::timestamp::{parse_timestamp, to_micros};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most values in one filter list.
pub const MAX_FILTER_VALUES: usize = 100;

/// What an export selects within one organization; stored with the export as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFilters {
    /// Inclusive, microseconds since the epoch.
    pub range_start: i64,
    /// Exclusive, microseconds since the epoch.
    pub range_end: i64,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub actor_names: Vec<String>,
    #[serde(default)]
    pub actor_ids: Vec<String>,
    /// Target types.
    #[serde(default)]
    pub targets: Vec<String>,
    /// The export's cut: only events with a sequence number up to this one (the organization's
    /// last sequence when the export was created), so an event committed while the export runs
    /// never changes it, and a retried job writes the identical file. `None` (exports stored
    /// before the cut existed, and other readers): no cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sequence: Option<i64>,
}

impl ExportFilters {
    /// Whether these filters select the event at `sequence` whose canonical JSON
    /// (`crate::canonical`, version 1) is `event`: exactly the rule the stores' export query
    /// applies to an unredacted event's columns (auditlog-store `event_filter.rs` and
    /// `postgres/exports.rs`), restated over the canonical form so an offline verifier can
    /// apply it. Column by column: `occurred_at` in `[range_start, range_end)`; `sequence` at
    /// most `max_sequence`; `action` in `actions`; the actor's `id` in `actor_ids`; its `name`
    /// in `actor_names` (an absent name, NULL in the database, never matches); some target's
    /// `type` in `targets`; an empty list selects everything. Strings compare byte for byte,
    /// as the databases' binary / "C" collations do. The environment is not part of the event
    /// and every event of an organization is in its environment, so it is not checked.
    /// An event missing a member the rule reads is an error, not a non-match.
    pub fn select_canonical(&self, sequence: i64, event: &Value) -> Result<bool, String> {
        let text = |value: &Value, what: &str| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("the event has no {what}"))
        };
        let occurred_at = text(&event["occurred_at"], "occurred_at")?;
        let occurred_at = parse_timestamp(&occurred_at)
            .map(to_micros)
            .ok_or_else(|| format!("occurred_at {occurred_at:?} is not a timestamp"))?;
        let action = text(&event["action"], "action")?;
        let actor_id = text(&event["actor"]["id"], "actor id")?;
        let actor_name = event["actor"].get("name").and_then(Value::as_str);
        let target_types = event["targets"]
            .as_array()
            .ok_or("the event has no targets list")?
            .iter()
            .map(|target| text(&target["type"], "target type"))
            .collect::<Result<Vec<_>, _>>()?;
        let listed =
            |values: &[String], value: &str| values.is_empty() || values.iter().any(|v| v == value);
        Ok(self.range_start <= occurred_at
            && occurred_at < self.range_end
            && self.max_sequence.is_none_or(|max| sequence <= max)
            && listed(&self.actions, &action)
            && listed(&self.actor_ids, &actor_id)
            && (self.actor_names.is_empty()
                || actor_name.is_some_and(|name| self.actor_names.iter().any(|n| n == name)))
            && (self.targets.is_empty() || target_types.iter().any(|t| self.targets.contains(t))))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    pub organization_id: String,
    pub filters: ExportFilters,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportRequestError {
    /// Missing or ill-typed fields (422).
    Fields(FieldErrors),
    /// Unparsable dates or start after end (400 `invalid_audit_log_export_range_date`).
    Range(String),
}

fn string_list(
    object: &serde_json::Map<String, Value>,
    key: &str,
    errors: &mut FieldErrors,
) -> Vec<String> {
    match object.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() > MAX_FILTER_VALUES => {
            errors.push(
                key,
                "too_many_items",
                format!("{key} may hold at most {MAX_FILTER_VALUES} values"),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let mut values = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(text) => values.push(text.to_string()),
                    None => errors.push(
                        format!("{key}.{index}"),
                        "invalid_type",
                        format!("{key} must be an array of strings"),
                    ),
                }
            }
            values
        }
        Some(_) => {
            errors.push(
                key,
                "invalid_type",
                format!("{key} must be an array of strings"),
            );
            Vec::new()
        }
    }
}

fn date(
    object: &serde_json::Map<String, Value>,
    key: &str,
    errors: &mut FieldErrors,
    range: &mut Vec<String>,
) -> Option<i64> {
    match object.get(key) {
        None | Some(Value::Null) => {
            errors.push(key, "required", format!("{key} is required"));
            None
        }
        Some(Value::String(text)) => match parse_timestamp(text) {
            Some(at) => Some(to_micros(at)),
            None => {
                range.push(format!("{key} is not an ISO 8601 date-time: '{text}'"));
                None
            }
        },
        Some(_) => {
            errors.push(
                key,
                "invalid_type",
                format!("{key} must be an ISO 8601 date-time string"),
            );
            None
        }
    }
}

impl ExportRequest {
    pub fn parse(body: &Value) -> Result<ExportRequest, ExportRequestError> {
        let mut errors = FieldErrors::default();
        let Some(object) = body.as_object() else {
            errors.push(
                "body",
                "invalid_type",
                "the request body must be a JSON object",
            );
            return Err(ExportRequestError::Fields(errors));
        };
        let organization_id = match object.get("organization_id") {
            Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                errors.push("organization_id", "required", "organization_id is required");
                None
            }
            Some(_) => {
                errors.push(
                    "organization_id",
                    "invalid_type",
                    "organization_id must be a string",
                );
                None
            }
        };
        let mut range_problems = Vec::new();
        let range_start = date(object, "range_start", &mut errors, &mut range_problems);
        let range_end = date(object, "range_end", &mut errors, &mut range_problems);
        let actions = string_list(object, "actions", &mut errors);
        let mut actor_names = string_list(object, "actor_names", &mut errors);
        for alias in string_list(object, "actors", &mut errors) {
            if !actor_names.contains(&alias) {
                actor_names.push(alias);
            }
        }
        let actor_ids = string_list(object, "actor_ids", &mut errors);
        let targets = string_list(object, "targets", &mut errors);
        if !errors.is_empty() {
            return Err(ExportRequestError::Fields(errors));
        }
        if !range_problems.is_empty() {
            return Err(ExportRequestError::Range(range_problems.join("; ")));
        }
        let (Some(organization_id), Some(range_start), Some(range_end)) =
            (organization_id, range_start, range_end)
        else {
            return Err(ExportRequestError::Fields(errors));
        };
        if range_start > range_end {
            return Err(ExportRequestError::Range(
                "range_start must not be after range_end".into(),
            ));
        }
        Ok(ExportRequest {
            organization_id,
            filters: ExportFilters {
                range_start,
                range_end,
                actions,
                actor_names,
                actor_ids,
                targets,
                max_sequence: None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_filters_and_the_actors_alias() {
        let request = ExportRequest::parse(&json!({
            "organization_id": "org_1",
            "range_start": "2026-01-01T00:00:00Z",
            "range_end": "2026-01-01T02:00:00+01:00",
            "actions": ["a"], "actor_names": ["Jon"], "actors": ["Jon", "Ann"], "targets": ["team"]
        }))
        .unwrap();
        assert_eq!(
            request.filters.range_end - request.filters.range_start,
            3_600_000_000
        );
        assert_eq!(request.filters.actor_names, vec!["Jon", "Ann"]);
        assert!(request.filters.actor_ids.is_empty());
    }

    #[test]
    fn canonical_events_are_selected_as_the_export_query_selects_rows() {
        let event = json!({"occurred_at": "2026-01-01T00:00:00.000Z", "action": "a",
            "actor": {"id": "u1", "type": "user"},
            "targets": [{"id": "t", "type": "team"}, {"id": "d", "type": "doc"}]});
        let at = to_micros(parse_timestamp("2026-01-01T00:00:00Z").unwrap());
        let all = ExportFilters {
            range_start: at,
            range_end: at + 1,
            ..Default::default()
        };
        assert_eq!(all.select_canonical(7, &event), Ok(true));
        let with = |change: fn(&mut ExportFilters)| {
            let mut filters = all.clone();
            change(&mut filters);
            filters.select_canonical(7, &event).unwrap()
        };
        // The range is [start, end).
        assert!(!with(|f| f.range_start += 1));
        assert!(!with(|f| f.range_end -= 1));
        assert!(with(|f| f.max_sequence = Some(7)));
        assert!(!with(|f| f.max_sequence = Some(6)));
        assert!(with(|f| f.actions = vec!["b".into(), "a".into()]));
        assert!(!with(|f| f.actions = vec!["A".into()]));
        assert!(with(|f| f.actor_ids = vec!["u1".into()]));
        assert!(!with(|f| f.actor_ids = vec!["u2".into()]));
        // No actor name: no actor-name filter matches it (NULL in the database).
        assert!(!with(|f| f.actor_names = vec!["".into()]));
        assert!(with(|f| f.targets = vec!["doc".into()]));
        assert!(!with(|f| f.targets = vec!["user".into()]));
        let named = json!({"occurred_at": "2026-01-01T00:00:00.000Z", "action": "a",
            "actor": {"id": "u1", "type": "user", "name": "Jon"}, "targets": []});
        let mut by_name = all.clone();
        by_name.actor_names = vec!["Jon".into()];
        assert_eq!(by_name.select_canonical(0, &named), Ok(true));
        by_name.targets = vec!["team".into()];
        assert_eq!(by_name.select_canonical(0, &named), Ok(false));
        assert!(all.select_canonical(0, &json!({"action": "a"})).is_err());
    }

    #[test]
    fn separates_field_errors_from_range_errors() {
        let missing = ExportRequest::parse(&json!({"actions": "a"})).unwrap_err();
        let ExportRequestError::Fields(errors) = missing else {
            panic!()
        };
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["organization_id", "range_start", "range_end", "actions"]
        );
        let unparsable = json!({"organization_id": "o", "range_start": "soon", "range_end": "2026-01-01T00:00:00Z"});
        assert!(
            matches!(ExportRequest::parse(&unparsable), Err(ExportRequestError::Range(m)) if m.contains("range_start"))
        );
        let reversed = json!({"organization_id": "o", "range_start": "2026-01-02T00:00:00Z", "range_end": "2026-01-01T00:00:00Z"});
        assert!(matches!(
            ExportRequest::parse(&reversed),
            Err(ExportRequestError::Range(_))
        ));
        let empty = json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-01T00:00:00Z"});
        assert!(ExportRequest::parse(&empty).is_ok());
    }
}
