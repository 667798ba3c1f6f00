//! Rebuilding an event's canonical bytes (auditlog-domain `canonical`, version 1) and its leaf
//! hash from one row of an export CSV (auditlog-domain `csv_export`).
//!
//! The row carries every canonical field; the organization id comes from the export. Strict on
//! purpose: the header must be exactly the export header, every cell must be in the form the
//! exporter writes (`version` in decimal, metadata as RFC 8785 JSON), and an empty cell is an
//! absent optional value (the domain refuses empty optional strings, so nothing is lost). A
//! cell in any other form is an error, not a silently normalized value.

use crate::Hash;
use auditlog_domain::canonical::{canonical_bytes, leaf_hash, CANONICAL_FORMAT_VERSION};
use auditlog_domain::csv_export::{header, unprotect};
use csv::StringRecord;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvLeafError {
    #[error("the CSV header is not an export header: {0}")]
    Header(String),
    #[error("the row has {found} cells; the header has {expected}")]
    Width { expected: usize, found: usize },
    #[error("{0} is empty but required")]
    Missing(String),
    #[error("{column} is not in the exported form: {reason}")]
    NotCanonical { column: String, reason: String },
    #[error("target {0} is present after an absent target")]
    TargetGap(usize),
}

/// The column layout of one export CSV, from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvLayout {
    columns: Vec<String>,
    targets: usize,
}

const TARGET_BASE: usize = 10;

impl CsvLayout {
    pub fn from_header(record: &StringRecord) -> Result<CsvLayout, CsvLeafError> {
        let targets = record
            .iter()
            .filter(|c| c.starts_with("target_id_"))
            .count();
        let expected = header(targets);
        if record.len() != expected.len() || record.iter().zip(&expected).any(|(a, b)| a != b) {
            return Err(CsvLeafError::Header(format!(
                "expected {} (for {targets} targets), found {}",
                expected.join(","),
                record.iter().collect::<Vec<_>>().join(",")
            )));
        }
        Ok(CsvLayout {
            columns: expected,
            targets,
        })
    }

    /// The leaf hash of the event in `record`.
    pub fn leaf(
        &self,
        record: &StringRecord,
        organization_id: &str,
        formula_protected: bool,
    ) -> Result<Hash, CsvLeafError> {
        let value = self.canonical_value(record, organization_id, formula_protected)?;
        Ok(leaf_hash(&canonical_bytes(&value)))
    }

    /// The canonical JSON value of the event in `record` (what [`CsvLayout::leaf`] hashes).
    pub fn canonical_value(
        &self,
        record: &StringRecord,
        organization_id: &str,
        formula_protected: bool,
    ) -> Result<Value, CsvLeafError> {
        if record.len() != self.columns.len() {
            return Err(CsvLeafError::Width {
                expected: self.columns.len(),
                found: record.len(),
            });
        }
        let row = Row {
            record,
            columns: &self.columns,
            protected: formula_protected,
        };
        let version_text = row.required(2)?;
        let version = version_text
            .parse::<i64>()
            .ok()
            .filter(|v| v.to_string() == version_text)
            .ok_or_else(|| row.not_canonical(2, "not a decimal integer"))?;
        let mut context = Map::new();
        context.insert("location".into(), json!(row.required(7)?));
        if let Some(user_agent) = row.optional(8) {
            context.insert("user_agent".into(), json!(user_agent));
        }
        let mut targets = Vec::new();
        for n in 0..self.targets {
            let at = TARGET_BASE + 4 * n;
            if row.cell(at).is_empty() {
                if (at + 1..at + 4).any(|i| !row.cell(i).is_empty()) {
                    return Err(CsvLeafError::Missing(self.columns[at].clone()));
                }
                continue;
            }
            if targets.len() != n {
                return Err(CsvLeafError::TargetGap(n + 1));
            }
            targets.push(row.actor(at)?);
        }
        let mut event = Map::new();
        event.insert("v".into(), json!(CANONICAL_FORMAT_VERSION));
        event.insert("id".into(), json!(row.required(self.columns.len() - 1)?));
        event.insert("organization_id".into(), json!(organization_id));
        event.insert("action".into(), json!(row.required(1)?));
        event.insert("version".into(), json!(version));
        event.insert("occurred_at".into(), json!(row.required(0)?));
        event.insert("actor".into(), row.actor(3)?);
        event.insert("targets".into(), Value::Array(targets));
        event.insert("context".into(), Value::Object(context));
        if let Some(metadata) = row.metadata(9)? {
            event.insert("metadata".into(), metadata);
        }
        Ok(Value::Object(event))
    }
}

struct Row<'a> {
    record: &'a StringRecord,
    columns: &'a [String],
    protected: bool,
}

impl Row<'_> {
    fn cell(&self, i: usize) -> &str {
        let raw = self.record.get(i).unwrap_or_default();
        if self.protected {
            unprotect(raw)
        } else {
            raw
        }
    }

    fn optional(&self, i: usize) -> Option<&str> {
        Some(self.cell(i)).filter(|c| !c.is_empty())
    }

    fn required(&self, i: usize) -> Result<&str, CsvLeafError> {
        self.optional(i)
            .ok_or_else(|| CsvLeafError::Missing(self.columns[i].clone()))
    }

    fn not_canonical(&self, i: usize, reason: &str) -> CsvLeafError {
        CsvLeafError::NotCanonical {
            column: self.columns[i].clone(),
            reason: reason.into(),
        }
    }

    fn metadata(&self, i: usize) -> Result<Option<Value>, CsvLeafError> {
        let Some(text) = self.optional(i) else {
            return Ok(None);
        };
        let value: Value = serde_json::from_str(text)
            .map_err(|e| self.not_canonical(i, &format!("not JSON ({e})")))?;
        if !value.is_object() {
            return Err(self.not_canonical(i, "not a JSON object"));
        }
        if canonical_bytes(&value) != text.as_bytes() {
            return Err(self.not_canonical(i, "not RFC 8785 canonical JSON"));
        }
        Ok(Some(value))
    }

    /// An actor or target from its four columns (id, type, name, metadata) starting at `at`.
    fn actor(&self, at: usize) -> Result<Value, CsvLeafError> {
        let mut object = Map::new();
        object.insert("id".into(), json!(self.required(at)?));
        object.insert("type".into(), json!(self.required(at + 1)?));
        if let Some(name) = self.optional(at + 2) {
            object.insert("name".into(), json!(name));
        }
        if let Some(metadata) = self.metadata(at + 3)? {
            object.insert("metadata".into(), metadata);
        }
        Ok(Value::Object(object))
    }
}

/// The leaf hash of the event in one export CSV row: SHA-256(0x00 ‖ canonical bytes), with the
/// organization id of the export. `formula_protected`: whether the export prefixed cells with
/// `'` against formula injection (then exactly one leading `'` is stripped from every cell).
/// For many rows, build a [`CsvLayout`] once instead.
pub fn leaf_from_csv_row(
    header: &StringRecord,
    record: &StringRecord,
    organization_id: &str,
    formula_protected: bool,
) -> Result<Hash, CsvLeafError> {
    CsvLayout::from_header(header)?.leaf(record, organization_id, formula_protected)
}
