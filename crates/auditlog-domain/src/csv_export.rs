//! The export CSV: RFC 4180, UTF-8, CRLF line ends, a header row.
//!
//! Columns: `occurred_at, action, version, actor_id, actor_type, actor_name, actor_metadata,
//! context_location, context_user_agent, metadata`, then `target_id_N, target_type_N,
//! target_name_N, target_metadata_N` for N = 1 … (targets of the widest exported event), then
//! `id`. Metadata cells hold the RFC 8785 JSON of the object; an absent optional value is an
//! empty cell. `occurred_at` is the canonical text. So a row plus the organization id is enough
//! to rebuild an event's canonical bytes and leaf hash.
//!
//! Formula-injection protection (on by default): a cell that begins with `=`, `+`, `-`, `@`, tab
//! or carriage return — or with `'` — gets one `'` prepended, so spreadsheets show it as text.
//! The rule is reversible: a protected cell always starts with `'`; strip exactly one.

use crate::canonical::canonical_bytes;
use serde_json::Value;
use std::borrow::Cow;

const BASE_COLUMNS: [&str; 10] = [
    "occurred_at",
    "action",
    "version",
    "actor_id",
    "actor_type",
    "actor_name",
    "actor_metadata",
    "context_location",
    "context_user_agent",
    "metadata",
];

pub fn header(max_targets: usize) -> Vec<String> {
    let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|c| c.to_string()).collect();
    for n in 1..=max_targets {
        for part in ["id", "type", "name", "metadata"] {
            columns.push(format!("target_{part}_{n}"));
        }
    }
    columns.push("id".into());
    columns
}

/// Prepends `'` to a cell a spreadsheet would evaluate (and to one already starting with `'`).
/// A leading NUL counts too: some spreadsheets skip it and then evaluate what follows. Events
/// stored today cannot hold NUL, but events stored by earlier releases can.
pub fn protect(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'' | '\0') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Inverse of [`protect`].
pub fn unprotect(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_cell(value: &Value) -> String {
    if value.is_null() {
        String::new()
    } else {
        String::from_utf8(canonical_bytes(value)).unwrap_or_default()
    }
}

/// The cells of one event, from its canonical payload.
pub fn row(payload: &Value, max_targets: usize) -> Vec<String> {
    let actor = &payload["actor"];
    let mut cells = vec![
        text(&payload["occurred_at"]),
        text(&payload["action"]),
        text(&payload["version"]),
        text(&actor["id"]),
        text(&actor["type"]),
        text(&actor["name"]),
        json_cell(&actor["metadata"]),
        text(&payload["context"]["location"]),
        text(&payload["context"]["user_agent"]),
        json_cell(&payload["metadata"]),
    ];
    let targets = payload["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for n in 0..max_targets {
        match targets.get(n) {
            Some(target) => {
                cells.push(text(&target["id"]));
                cells.push(text(&target["type"]));
                cells.push(text(&target["name"]));
                cells.push(json_cell(&target["metadata"]));
            }
            None => cells.extend(std::iter::repeat_n(String::new(), 4)),
        }
    }
    cells.push(text(&payload["id"]));
    cells
}

/// A stored payload borrowed from its canonical JSON text: strings without escapes and the
/// raw text of metadata objects are used in place, nothing is re-parsed into a `Value`.
#[derive(serde::Deserialize)]
struct StoredPayload<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    version: i64,
    #[serde(borrow)]
    occurred_at: Cow<'a, str>,
    #[serde(borrow)]
    actor: StoredParty<'a>,
    #[serde(borrow)]
    targets: Vec<StoredParty<'a>>,
    #[serde(borrow)]
    context: StoredContext<'a>,
    #[serde(borrow, default)]
    metadata: Option<&'a serde_json::value::RawValue>,
}

#[derive(serde::Deserialize)]
struct StoredParty<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Option<&'a serde_json::value::RawValue>,
}

#[derive(serde::Deserialize)]
struct StoredContext<'a> {
    #[serde(borrow)]
    location: Cow<'a, str>,
    #[serde(borrow, default)]
    user_agent: Option<Cow<'a, str>>,
}

/// The text of a raw JSON value, or an empty cell when absent or null.
fn raw(value: Option<&serde_json::value::RawValue>) -> &str {
    value.map_or("", |raw| raw.get())
}

/// Appends rows to an in-memory CSV buffer.
pub struct CsvEncoder {
    writer: csv::Writer<Vec<u8>>,
    protect_formulas: bool,
}

impl CsvEncoder {
    pub fn new(protect_formulas: bool) -> CsvEncoder {
        CsvEncoder {
            writer: Self::buffer(),
            protect_formulas,
        }
    }

    fn buffer() -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::with_capacity(1 << 16))
    }

    pub fn write(&mut self, cells: &[String]) {
        let protect_formulas = self.protect_formulas;
        let record = cells.iter().map(|cell| {
            if protect_formulas {
                protect(cell)
            } else {
                Cow::Borrowed(cell.as_str())
            }
        });
        // Writing to a Vec cannot fail.
        let _ = self.writer.write_record(record.map(|c| c.into_owned()));
    }

    /// Appends the row of one stored payload (canonical JSON text, as written at ingest).
    /// Same cells as [`row`]: the payload is canonical, so the raw text of a metadata object
    /// is already its canonical form. A payload of another shape takes the general path.
    pub fn write_payload(
        &mut self,
        text: &str,
        max_targets: usize,
    ) -> Result<(), serde_json::Error> {
        let Ok(payload) = serde_json::from_str::<StoredPayload>(text) else {
            let value: Value = serde_json::from_str(text)?;
            self.write(&row(&value, max_targets));
            return Ok(());
        };
        let version = payload.version.to_string();
        let actor = &payload.actor;
        self.cell(&payload.occurred_at);
        self.cell(&payload.action);
        self.cell(&version);
        self.cell(&actor.id);
        self.cell(&actor.kind);
        self.cell(actor.name.as_deref().unwrap_or(""));
        self.cell(raw(actor.metadata));
        self.cell(&payload.context.location);
        self.cell(payload.context.user_agent.as_deref().unwrap_or(""));
        self.cell(raw(payload.metadata));
        for n in 0..max_targets {
            match payload.targets.get(n) {
                Some(target) => {
                    self.cell(&target.id);
                    self.cell(&target.kind);
                    self.cell(target.name.as_deref().unwrap_or(""));
                    self.cell(raw(target.metadata));
                }
                None => {
                    for _ in 0..4 {
                        self.cell("");
                    }
                }
            }
        }
        self.cell(&payload.id);
        let _ = self.writer.write_record(None::<&[u8]>);
        Ok(())
    }

    fn cell(&mut self, cell: &str) {
        let _ = if self.protect_formulas {
            self.writer.write_field(protect(cell).as_bytes())
        } else {
            self.writer.write_field(cell)
        };
    }

    /// Takes the bytes encoded so far, leaving the encoder empty and ready for more rows.
    pub fn take(&mut self) -> Vec<u8> {
        let full = std::mem::replace(&mut self.writer, Self::buffer());
        full.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_numbers_targets_from_one_and_ends_with_id() {
        let columns = header(2);
        assert_eq!(
            columns[10..14],
            [
                "target_id_1",
                "target_type_1",
                "target_name_1",
                "target_metadata_1"
            ]
        );
        assert_eq!(columns.last().unwrap(), "id");
        assert_eq!(header(0).len(), 11);
    }

    #[test]
    fn rows_round_trip_through_a_csv_reader_with_protection() {
        let payload = json!({
            "id": "audit_log_event_1", "action": "=cmd|' /C calc'!A0", "version": 1,
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "actor": {"id": "-1+1", "type": "user", "name": "Zoë, \"the\"\nAdmin", "metadata": {"b": 2, "a": "x"}},
            "targets": [{"id": "@t", "type": "team"}],
            "context": {"location": "'quoted"}
        });
        let mut encoder = CsvEncoder::new(true);
        encoder.write(&header(2));
        encoder.write(&row(&payload, 2));
        let bytes = encoder.take();
        assert!(bytes.windows(2).any(|w| w == b"\r\n"));
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[1], "'=cmd|' /C calc'!A0");
        assert_eq!(unprotect(&record[1]), "=cmd|' /C calc'!A0");
        assert_eq!(&record[3], "'-1+1");
        assert_eq!(&record[5], "Zoë, \"the\"\nAdmin");
        assert_eq!(&record[6], r#"{"a":"x","b":2}"#);
        assert_eq!(unprotect(&record[7]), "'quoted");
        assert_eq!(&record[8], "", "absent user agent is an empty cell");
        assert_eq!(&record[9], "", "absent metadata is an empty cell");
        assert_eq!(unprotect(&record[10]), "@t");
        assert_eq!(&record[14], "", "second target columns are empty");
        assert_eq!(&record[18], "audit_log_event_1");
    }

    #[test]
    fn a_leading_nul_is_protected_and_reversible() {
        assert_eq!(protect("\0=1+1"), "'\0=1+1");
        assert_eq!(unprotect(&protect("\0=1+1")), "\0=1+1");
        assert_eq!(protect("a\0"), "a\0", "only a leading NUL");
    }

    #[test]
    fn protection_can_be_turned_off() {
        let mut encoder = CsvEncoder::new(false);
        encoder.write(&["=1".to_string()]);
        assert_eq!(encoder.take(), b"=1\r\n");
    }

    #[test]
    fn stored_payloads_encode_exactly_like_rows() {
        use crate::canonical::{canonical_bytes, canonical_value};
        use crate::EventInput;
        let bodies = [
            json!({"organization_id": "org_1", "event": {
                "action": "=a.b", "occurred_at": "2026-01-01T01:00:00+01:00", "version": 3,
                "actor": {"type": "user", "id": "-u", "name": "Zoë, \"the\"\nAdmin", "metadata": {"z": 1.5, "a": "é"}},
                "targets": [{"id": "t1", "type": "team", "metadata": {"k": "v"}}, {"id": "t2", "type": "doc", "name": "@x"}],
                "context": {"location": "::1", "user_agent": "+ua"},
                "metadata": {"b": "x\"y\u{1}", "a": 1e21, "c": true, "d": -0.5, "e": 12345678901234567890u64}}}),
            json!({"organization_id": "org_1", "event": {
                "action": "a", "occurred_at": "2026-01-01T00:00:00Z",
                "actor": {"type": "user", "id": "u"}, "targets": [], "context": {"location": "x"}}}),
        ];
        for protect in [true, false] {
            for body in &bodies {
                let event = EventInput::parse(body).unwrap();
                let text = String::from_utf8(canonical_bytes(&canonical_value(
                    "audit_log_event_X",
                    &event,
                )))
                .unwrap();
                let mut slow = CsvEncoder::new(protect);
                slow.write(&row(&serde_json::from_str(&text).unwrap(), 3));
                let mut fast = CsvEncoder::new(protect);
                fast.write_payload(&text, 3).unwrap();
                assert_eq!(
                    String::from_utf8(fast.take()).unwrap(),
                    String::from_utf8(slow.take()).unwrap()
                );
            }
        }
    }
}
