//! exports_api: CSV fidelity.

use super::*;

/// Values that break naive CSV writers or spreadsheets.
const AWKWARD: [&str; 20] = [
    "plain",
    "comma, separated, values",
    "say \"hello\" to \"them\"",
    "two\nlines",
    "crlf\r\nline",
    "emoji 🎉🔥 and é and 中文 and 日本語",
    "=SUM(A1:A9)",
    "+1-2",
    "-cmd",
    "@import",
    "'already quoted",
    "\ttab first",
    "\rcarriage first",
    "=HYPERLINK(\"http://x\",\"a,b\")\n",
    "é",
    "中文字符",
    "  leading spaces",
    "trailing space ",
    "\"quote first",
    "🎉",
];

fn awkward(i: usize) -> &'static str {
    AWKWARD[i % AWKWARD.len()]
}

/// Event `i` puts an awkward value in every string field; over `AWKWARD.len()` events every
/// value appears in every field.
fn awkward_event(org: &str, i: usize) -> Value {
    let at = format!("2026-03-01T10:00:{i:02}.000Z");
    json!({
        "organization_id": org,
        "event": {
            "action": awkward(i),
            "occurred_at": at,
            "actor": {"id": awkward(i + 1), "type": awkward(i + 2), "name": awkward(i + 3),
                      "metadata": {"v": awkward(i + 11), "n": -7}},
            "targets": [
                {"id": awkward(i + 4), "type": awkward(i + 5), "name": awkward(i + 6),
                 "metadata": {"v": awkward(i + 12), "f": false}},
                {"id": awkward(i + 13), "type": awkward(i + 14)}
            ],
            "context": {"location": awkward(i + 7), "user_agent": awkward(i + 8)},
            "metadata": {"v": awkward(i + 9), "w": awkward(i + 10), "x": 1.5, "b": true}
        }
    })
}

async fn awkward_values_round_trip(protection: bool) {
    let server = TestServer::start_with(|c| c.exports.csv_formula_protection = protection).await;
    let org = server.create_org("Quoting Co").await;
    let bodies: Vec<Value> = (0..AWKWARD.len()).map(|i| awkward_event(&org, i)).collect();
    for body in &bodies {
        post_event(&server, body).await;
    }
    let stored = server.stored_events(ENV, &org).await; // sequence order = send order
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(2));
    assert_eq!(rows.len(), bodies.len());

    let text_cell = |cell: &str, original: &str, what: &str| {
        if protection {
            assert_eq!(cell, protected(original), "{what}: protected cell");
            assert_eq!(unprotect(cell), original, "{what}: after unprotect");
        } else {
            assert_eq!(cell, original, "{what}: verbatim");
        }
    };
    let json_cell = |cell: &str, original: &Value, what: &str| {
        assert!(
            cell.starts_with('{'),
            "{what}: JSON cells are never prefixed"
        );
        let parsed: Value =
            serde_json::from_str(cell).unwrap_or_else(|e| panic!("{what}: {cell:?}: {e}"));
        assert_eq!(&parsed, original, "{what}");
    };
    // Each event occurred one second after the previous one, so row i is event i.
    for (i, (row, body)) in rows.iter().zip(&bodies).enumerate() {
        let e = &body["event"];
        let s = |v: &Value| v.as_str().unwrap().to_string();
        assert_eq!(row[0], s(&e["occurred_at"]), "row {i} occurred_at");
        assert_eq!(row[2], "1");
        let texts = [
            (1, &e["action"], "action"),
            (3, &e["actor"]["id"], "actor_id"),
            (4, &e["actor"]["type"], "actor_type"),
            (5, &e["actor"]["name"], "actor_name"),
            (7, &e["context"]["location"], "context_location"),
            (8, &e["context"]["user_agent"], "context_user_agent"),
            (10, &e["targets"][0]["id"], "target_id_1"),
            (11, &e["targets"][0]["type"], "target_type_1"),
            (12, &e["targets"][0]["name"], "target_name_1"),
            (14, &e["targets"][1]["id"], "target_id_2"),
            (15, &e["targets"][1]["type"], "target_type_2"),
        ];
        for (index, original, name) in texts {
            text_cell(&row[index], &s(original), &format!("row {i} {name}"));
        }
        json_cell(
            &row[6],
            &e["actor"]["metadata"],
            &format!("row {i} actor_metadata"),
        );
        json_cell(&row[9], &e["metadata"], &format!("row {i} metadata"));
        json_cell(
            &row[13],
            &e["targets"][0]["metadata"],
            &format!("row {i} target_metadata_1"),
        );
        assert_eq!(row[16], "", "target_name_2 is absent");
        assert_eq!(row[17], "", "target_metadata_2 is absent");
        assert_eq!(row[18], stored[i].id, "row {i} id");
    }
}

#[tokio::test]
async fn awkward_values_round_trip_with_formula_protection() {
    awkward_values_round_trip(true).await;
}

#[tokio::test]
async fn awkward_values_are_verbatim_without_formula_protection() {
    awkward_values_round_trip(false).await;
}
