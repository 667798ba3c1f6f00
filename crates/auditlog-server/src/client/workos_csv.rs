//! Reading an audit-log CSV exported by WorkOS, for `auditlog import`.
//!
//! WorkOS does not document its export columns; the layout known from parsers of real exports
//! names `action`, `occurred_at`, `actor_{id,type,name,metadata}`, `context_location`,
//! `context_user_agent`, `metadata` and numbered `target_{id,type,name,metadata}_<n>` columns,
//! in an order nobody promises and with `n` starting at 0 or 1. So columns are found by name,
//! in any order, targets are taken in the order of their numbers, metadata cells are JSON
//! objects, an empty cell is an absent value, and columns this reader does not know (an
//! `id`, an `organization`) are ignored, except that an `id` column names the idempotency key.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The columns of one WorkOS export, found by name.
pub struct WorkosCsv {
    columns: HashMap<String, usize>,
    /// Per target number, in ascending order: the column of its id, type, name and metadata.
    targets: Vec<[Option<usize>; 4]>,
}

const TARGET_FIELDS: [&str; 4] = ["id", "type", "name", "metadata"];

impl WorkosCsv {
    /// The layout of `header`, or why it is not a WorkOS export header.
    pub fn from_header(header: &csv::StringRecord) -> Result<WorkosCsv, String> {
        let mut columns = HashMap::new();
        let mut numbered: BTreeMap<u32, [Option<usize>; 4]> = BTreeMap::new();
        for (index, name) in header.iter().enumerate() {
            let name = name.trim();
            if let Some((field, number)) = target_column(name) {
                numbered.entry(number).or_default()[field] = Some(index);
            } else {
                columns.insert(name.to_string(), index);
            }
        }
        let missing: Vec<&str> = ["action", "occurred_at"]
            .into_iter()
            .filter(|name| !columns.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header has no {} column: it is neither an auditlog nor a WorkOS export",
                missing.join(" or ")
            ));
        }
        Ok(WorkosCsv {
            columns,
            targets: numbered.into_values().collect(),
        })
    }

    /// The source event's id, when the file has an `id` column and the row a value in it.
    pub fn source_id<'r>(&self, record: &'r csv::StringRecord) -> Option<&'r str> {
        self.cell(record, "id")
    }

    /// The event of one row, as a create-event body's `event`.
    pub fn event(&self, record: &csv::StringRecord) -> Result<Value, String> {
        let mut event = Map::new();
        for name in ["action", "occurred_at"] {
            let value = self
                .cell(record, name)
                .ok_or_else(|| format!("{name} is empty"))?;
            event.insert(name.into(), value.into());
        }
        if let Some(version) = self.cell(record, "version") {
            let version: i64 = version
                .parse()
                .map_err(|_| format!("version is not an integer: {version:?}"))?;
            event.insert("version".into(), version.into());
        }
        let mut actor = Map::new();
        for field in TARGET_FIELDS {
            let column = format!("actor_{field}");
            if let Some(value) = self.cell(record, &column) {
                actor.insert(field.into(), cell_value(field, &column, value)?);
            }
        }
        event.insert("actor".into(), Value::Object(actor));
        let mut targets = Vec::new();
        for (position, columns) in self.targets.iter().enumerate() {
            let mut target = Map::new();
            for (field, column) in TARGET_FIELDS.iter().zip(columns) {
                let Some(value) = column.and_then(|c| present(record.get(c))) else {
                    continue;
                };
                let name = format!("target {} {field}", position + 1);
                target.insert((*field).into(), cell_value(field, &name, value)?);
            }
            if !target.is_empty() {
                targets.push(Value::Object(target));
            }
        }
        event.insert("targets".into(), Value::Array(targets));
        let mut context = Map::new();
        for field in ["location", "user_agent"] {
            if let Some(value) = self.cell(record, &format!("context_{field}")) {
                context.insert(field.into(), value.into());
            }
        }
        event.insert("context".into(), Value::Object(context));
        if let Some(metadata) = self.cell(record, "metadata") {
            event.insert("metadata".into(), json_object("metadata", metadata)?);
        }
        Ok(Value::Object(event))
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.columns
            .get(name)
            .and_then(|index| present(record.get(*index)))
    }
}

fn present(cell: Option<&str>) -> Option<&str> {
    cell.filter(|value| !value.is_empty())
}

/// `target_<field>_<n>` as (index into [`TARGET_FIELDS`], n).
fn target_column(name: &str) -> Option<(usize, u32)> {
    let rest = name.strip_prefix("target_")?;
    let (field, number) = rest.rsplit_once('_')?;
    let field = TARGET_FIELDS.iter().position(|known| *known == field)?;
    Some((field, number.parse().ok()?))
}

fn cell_value(field: &str, column: &str, text: &str) -> Result<Value, String> {
    if field == "metadata" {
        json_object(column, text)
    } else {
        Ok(text.into())
    }
}

fn json_object(column: &str, text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(format!("{column} is not a JSON object: {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(cells: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(cells.to_vec())
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_with_targets_from_zero() {
        let layout = WorkosCsv::from_header(&record(&[
            "target_type_0",
            "metadata",
            "occurred_at",
            "target_id_0",
            "actor_type",
            "action",
            "actor_id",
            "context_location",
            "target_id_1",
            "target_type_1",
            "actor_metadata",
        ]))
        .unwrap();
        let event = layout
            .event(&record(&[
                "team",
                r#"{"plan":"pro"}"#,
                "2026-01-01T00:00:00.000Z",
                "team_1",
                "user",
                "user.invited",
                "user_1",
                "203.0.113.7",
                "",
                "",
                "",
            ]))
            .unwrap();
        assert_eq!(
            event,
            json!({"action": "user.invited", "occurred_at": "2026-01-01T00:00:00.000Z",
                "actor": {"id": "user_1", "type": "user"},
                "targets": [{"id": "team_1", "type": "team"}],
                "context": {"location": "203.0.113.7"}, "metadata": {"plan": "pro"}})
        );
    }

    #[test]
    fn a_header_without_action_or_a_cell_that_is_not_json_is_refused() {
        let error = WorkosCsv::from_header(&record(&["occurred_at", "actor_id"]))
            .err()
            .unwrap();
        assert!(error.contains("no action column"), "{error}");
        let layout =
            WorkosCsv::from_header(&record(&["action", "occurred_at", "metadata"])).unwrap();
        let error = layout
            .event(&record(&["a.b", "2026-01-01T00:00:00Z", "[1]"]))
            .unwrap_err();
        assert!(error.contains("metadata is not a JSON object"), "{error}");
    }
}
