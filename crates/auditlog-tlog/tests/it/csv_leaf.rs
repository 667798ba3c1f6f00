//! The CSV → leaf rebuild equals the leaf the server computed at ingest, for every awkward shape.

use crate::support;

use auditlog_domain::canonical::canonical_bytes;
use auditlog_tlog::{leaf_from_csv_row, CsvLayout, CsvLeafError};
use support::{awkward_bodies, export_csv, plain_body, read_csv, store_event, Stored};

const ORG: &str = "org_01HXYZ";

fn events() -> Vec<Stored> {
    let mut bodies = awkward_bodies(ORG);
    bodies.extend((0..10).map(|i| plain_body(ORG, i)));
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| store_event(&format!("audit_log_event_{i:04}"), body))
        .collect()
}

#[test]
fn rebuilt_leaves_equal_ingest_leaves_with_and_without_formula_protection() {
    let events = events();
    let refs: Vec<&Stored> = events.iter().collect();
    for protect in [true, false] {
        let csv = export_csv(&refs, protect);
        let (header, rows) = read_csv(&csv);
        assert_eq!(rows.len(), events.len());
        let layout = CsvLayout::from_header(&header).unwrap();
        for (event, record) in events.iter().zip(&rows) {
            let leaf = leaf_from_csv_row(&header, record, ORG, protect).unwrap();
            assert_eq!(leaf, event.leaf, "protect={protect}: {}", event.payload);
            // Equal canonical bytes (values may differ: RFC 8785 writes integers beyond 2^53 as
            // their nearest double, so 12345678901234567890 comes back as …67000).
            assert_eq!(
                canonical_bytes(&layout.canonical_value(record, ORG, protect).unwrap()),
                canonical_bytes(&event.payload)
            );
            // Another organization's id gives another leaf.
            assert_ne!(
                layout.leaf(record, "org_other", protect).unwrap(),
                event.leaf
            );
        }
    }
}

#[test]
fn formula_looking_cells_need_the_right_protection_flag() {
    let events = events();
    let awkward = &events[2]; // every cell begins with a character protection guards
    let csv = export_csv(&[awkward], true);
    let (header, rows) = read_csv(&csv);
    assert!(rows[0][1].starts_with("'+"));
    assert_eq!(
        leaf_from_csv_row(&header, &rows[0], ORG, true).unwrap(),
        awkward.leaf
    );
    assert_ne!(
        leaf_from_csv_row(&header, &rows[0], ORG, false).ok(),
        Some(awkward.leaf)
    );
}

#[test]
fn cells_not_in_exported_form_are_errors() {
    let events = events();
    let event = &events[1];
    let csv = export_csv(&[event], false);
    let (header, rows) = read_csv(&csv);
    let record = &rows[0];
    let with = |column: &str, value: &str| {
        let at = header.iter().position(|c| c == column).unwrap();
        let cells: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(i, c)| if i == at { value } else { c })
            .collect();
        leaf_from_csv_row(&header, &csv::StringRecord::from(cells), ORG, false)
    };
    assert!(matches!(
        with("version", "03"),
        Err(CsvLeafError::NotCanonical { .. })
    ));
    assert!(matches!(
        with("version", "three"),
        Err(CsvLeafError::NotCanonical { .. })
    ));
    assert!(matches!(
        with("metadata", r#"{"n": 0, "k": "v", "neg": -0.5}"#),
        Err(CsvLeafError::NotCanonical { .. })
    ));
    assert!(matches!(
        with("metadata", "[1]"),
        Err(CsvLeafError::NotCanonical { .. })
    ));
    assert!(matches!(
        with("metadata", "{"),
        Err(CsvLeafError::NotCanonical { .. })
    ));
    assert!(matches!(with("action", ""), Err(CsvLeafError::Missing(_))));
    assert!(matches!(with("id", ""), Err(CsvLeafError::Missing(_))));
    // A target after an absent one, or half a target.
    assert!(matches!(
        with("target_id_2", ""),
        Err(CsvLeafError::Missing(_))
    ));
    let gap = {
        let cells: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if (14..18).contains(&i) {
                    String::new()
                } else {
                    c.to_string()
                }
            })
            .collect();
        leaf_from_csv_row(&header, &csv::StringRecord::from(cells), ORG, false)
    };
    assert_eq!(gap, Err(CsvLeafError::TargetGap(3)));
    // Changing any one cell changes the leaf (or is refused).
    for (i, cell) in record.iter().enumerate() {
        let changed = format!("{cell}x");
        if let Ok(leaf) = with(&header[i], &changed) {
            assert_ne!(leaf, event.leaf, "column {}", &header[i]);
        }
    }
    assert_eq!(with("action", "document.updated").unwrap(), event.leaf);
}

#[test]
fn headers_must_be_export_headers() {
    let events = events();
    let csv = export_csv(&[&events[0]], false);
    let (header, rows) = read_csv(&csv);
    assert!(CsvLayout::from_header(&header).is_ok());
    let mut renamed: Vec<&str> = header.iter().collect();
    renamed[0] = "when";
    assert!(matches!(
        leaf_from_csv_row(&csv::StringRecord::from(renamed), &rows[0], ORG, false),
        Err(CsvLeafError::Header(_))
    ));
    let mut extra: Vec<&str> = header.iter().collect();
    extra.push("notes");
    assert!(CsvLayout::from_header(&csv::StringRecord::from(extra)).is_err());
    let short = csv::StringRecord::from(vec!["x"; 3]);
    let layout = CsvLayout::from_header(&header).unwrap();
    assert!(matches!(
        layout.leaf(&short, ORG, false),
        Err(CsvLeafError::Width { .. })
    ));
}
