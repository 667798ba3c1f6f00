//! Events built the way the server builds them (auditlog-domain), and CSVs encoded the way the
//! exporter encodes them.
#![allow(dead_code)]

use auditlog_domain::canonical::{canonical_bytes, canonical_value, leaf_hash};
use auditlog_domain::csv_export::{header, row, CsvEncoder};
use auditlog_domain::EventInput;
use serde_json::{json, Value};

/// One stored event: its canonical payload (with id) and leaf hash.
#[derive(Debug, Clone)]
pub struct Stored {
    pub payload: Value,
    pub leaf: [u8; 32],
    pub occurred_at: String,
    pub id: String,
}

pub fn store_event(id: &str, body: Value) -> Stored {
    let event = EventInput::parse(&body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    let payload = canonical_value(id, &event);
    Stored {
        leaf: leaf_hash(&canonical_bytes(&payload)),
        occurred_at: payload["occurred_at"].as_str().unwrap().to_string(),
        id: id.to_string(),
        payload,
    }
}

/// Events with every awkward shape the CSV must carry.
pub fn awkward_bodies(org: &str) -> Vec<Value> {
    vec![
        json!({"organization_id": org, "event": {
            "action": "user.signed_in", "occurred_at": "2026-01-15T12:00:00.000Z",
            "actor": {"id": "user_1", "type": "user"},
            "targets": [], "context": {"location": "1.2.3.4"}}}),
        json!({"organization_id": org, "event": {
            "action": "document.updated", "occurred_at": "2026-01-15T14:00:00.123456+02:00",
            "version": 3,
            "actor": {"id": "user_é", "type": "user", "name": "Zoë, \"the\"\nAdmin 🦀",
                      "metadata": {"role": "admin", "z": 1.5, "a": -2, "big": 12345678901234567890u64,
                                   "flag": true, "tiny": 1e-7, "quote": "\"x\"\r\n"}},
            "targets": [
                {"id": "doc,1", "type": "document", "name": "Q1 \"plan\", draft",
                 "metadata": {"pages": 12, "lang": "日本語"}},
                {"id": "team_2", "type": "team"},
                {"id": "=HYPERLINK(\"x\")", "type": "-sheet", "name": "@name",
                 "metadata": {"formula": "=1+1"}}
            ],
            "context": {"location": "::1", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
            "metadata": {"k": "v", "n": 0, "neg": -0.5}}}),
        json!({"organization_id": org, "event": {
            "action": "+export.created", "occurred_at": "2026-01-15T12:00:00Z",
            "actor": {"id": "'quoted", "type": "'", "name": "\ttabbed"},
            "targets": [{"id": "\rcr", "type": "x", "name": "''double"}],
            "context": {"location": "@home", "user_agent": "-agent"},
            "metadata": {}}}),
        json!({"organization_id": org, "event": {
            "action": "a.b", "occurred_at": "2026-01-15T11:59:59.999Z",
            "actor": {"id": "u", "type": "user", "metadata": {"empty": ""}},
            "targets": [{"id": "t", "type": "team", "metadata": {"x": false}}],
            "context": {"location": "line1\nline2"}}}),
    ]
}

/// A plain event number `i` at a time that does not follow `i` (so export order, by
/// (occurred_at, id), differs from sequence order).
pub fn plain_body(org: &str, i: u64) -> Value {
    let minute = (i * 7) % 50;
    let targets: Vec<Value> = (0..(i % 3))
        .map(|t| json!({"id": format!("t{t}"), "type": "team", "metadata": {"n": t}}))
        .collect();
    json!({"organization_id": org, "event": {
        "action": if i.is_multiple_of(2) { "user.signed_in" } else { "user.signed_out" },
        "occurred_at": format!("2026-03-01T10:{minute:02}:00.000Z"),
        "actor": {"id": format!("user_{i}"), "type": "user", "name": format!("User, {i}")},
        "targets": targets,
        "context": {"location": "10.0.0.1", "user_agent": "curl/8"},
        "metadata": {"i": i}}})
}

/// The export CSV of `events` (already in export order) and its header width.
pub fn export_csv(events: &[&Stored], protect: bool) -> Vec<u8> {
    let max_targets = events
        .iter()
        .map(|e| e.payload["targets"].as_array().unwrap().len())
        .max()
        .unwrap_or(0);
    let mut encoder = CsvEncoder::new(protect);
    encoder.write(&header(max_targets));
    for event in events {
        encoder.write(&row(&event.payload, max_targets));
    }
    encoder.take()
}

/// The header and data records of a CSV.
pub fn read_csv(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}
