//! Completeness (v2 bundles): an export filtered by action proves that no event of its span is
//! missing; a row dropped, an omitted event that matches the filters, an omitted event's text
//! or leaf changed, a shrunk span are each named; redactions and unproven spans are warnings.
//! The attacker here holds the deployment key and re-signs what they changed.

use crate::bundle::Log;
use crate::support::{export_csv, Stored};
use auditlog_domain::canonical::canonical_bytes;
use auditlog_tlog::CheckName::*;
use auditlog_tlog::{
    span_omissions, verify_bundle_csv, BundleLeaf, BundleReport, CheckName, CheckpointSigner,
    Completeness, ExportBundle, ManifestInfo, OmittedEvent, SpanOmissions, BUNDLE_FORMAT,
    BUNDLE_FORMAT_V1,
};
use serde_json::json;
use sha2::{Digest, Sha256};

const ORG: &str = "org_01AAAA";

struct Export {
    signer: CheckpointSigner,
    log: Log,
    /// In export order.
    rows: Vec<(u64, Stored)>,
}

/// 40 events alternating `user.signed_in` / `user.signed_out`; the export selects signed-in.
fn export() -> Export {
    let log = Log::new(ORG, 40, false);
    let mut rows: Vec<_> = log
        .events
        .iter()
        .filter(|(_, e)| e.payload["action"] == "user.signed_in")
        .cloned()
        .collect();
    rows.sort_by(|a, b| (&a.1.occurred_at, &a.1.id).cmp(&(&b.1.occurred_at, &b.1.id)));
    Export {
        signer: CheckpointSigner::from_seed("auditlog.example", [1u8; 32]).unwrap(),
        log,
        rows,
    }
}

fn info() -> ManifestInfo {
    // 2026-01-01 .. 2026-04-01 in microseconds; the events are on 2026-03-01.
    ManifestInfo {
        export_id: "audit_log_export_01TEST".into(),
        organization_id: ORG.into(),
        filters: json!({"range_start": 1_767_225_600_000_000_i64,
            "range_end": 1_775_001_600_000_000_i64, "actions": ["user.signed_in"],
            "actor_names": [], "actor_ids": [], "targets": []}),
        range_start: "2026-01-01T00:00:00.000Z".into(),
        range_end: "2026-04-01T00:00:00.000Z".into(),
        csv_formula_protection: true,
    }
}

fn omitted(log: &Log, sequence: u64) -> OmittedEvent {
    let event = &log.events[sequence as usize].1;
    OmittedEvent {
        sequence,
        leaf_hash: event.leaf,
        canonical_event: Some(String::from_utf8(canonical_bytes(&event.payload)).unwrap()),
        redacted_at: None,
    }
}

fn redacted(log: &Log, sequence: u64) -> OmittedEvent {
    OmittedEvent {
        sequence,
        leaf_hash: log.events[sequence as usize].1.leaf,
        canonical_event: None,
        redacted_at: Some("2026-05-01T00:00:00.000Z".into()),
    }
}

/// What an honest server lists for `rows`: every other sequence of their span, the ones in
/// `redactions` as redacted.
fn honest(log: &Log, rows: &[(u64, Stored)], redactions: &[u64]) -> Completeness {
    let mut sequences: Vec<u64> = rows.iter().map(|(s, _)| *s).collect();
    let SpanOmissions::Listed {
        first,
        last,
        omitted: gaps,
    } = span_omissions(&mut sequences)
    else {
        panic!("a small span")
    };
    let events = gaps
        .into_iter()
        .map(|s| match redactions.contains(&s) {
            true => redacted(log, s),
            false => omitted(log, s),
        })
        .collect();
    Completeness::proven(first, last, events)
}

/// The CSV and the bundle of `rows` with `completeness`, signed with the deployment key.
fn bundle(
    e: &Export,
    rows: &[(u64, Stored)],
    completeness: Completeness,
) -> (Vec<u8>, ExportBundle) {
    let csv = export_csv(&rows.iter().map(|(_, s)| s).collect::<Vec<_>>(), true);
    let leaves = rows
        .iter()
        .map(|(sequence, s)| BundleLeaf {
            sequence: *sequence,
            leaf_hash: s.leaf,
        })
        .collect();
    let bundle = ExportBundle::build(
        info(),
        Sha256::digest(&csv).into(),
        leaves,
        Some(completeness),
        e.log.checkpoint(&e.signer, ORG),
        &e.log.store,
        &e.signer,
    )
    .unwrap();
    (csv, bundle)
}

fn verify(e: &Export, csv: &[u8], bundle: &ExportBundle) -> BundleReport {
    let report = verify_bundle_csv(csv, bundle, &e.signer.verifier_key());
    println!("{report}");
    report
}

fn message(report: &BundleReport, name: CheckName) -> String {
    report.check(name).unwrap().message.clone()
}

#[test]
fn a_filtered_export_proves_its_span_complete() {
    let e = export();
    let (csv, bundle) = bundle(&e, &e.rows, honest(&e.log, &e.rows, &[]));
    assert_eq!(bundle.manifest.format, BUNDLE_FORMAT);
    let completeness = bundle.manifest.completeness.as_ref().unwrap();
    assert_eq!(
        (completeness.first_sequence, completeness.last_sequence),
        (Some(0), Some(38))
    );
    assert_eq!(completeness.omitted.len(), 19);
    let report = verify(&e, &csv, &bundle);
    assert!(report.passed(), "{report}");
    assert!(report.warnings().is_empty(), "{report}");
    assert_eq!(report.checks.len(), 14);
    assert!(message(&report, Inclusion).contains("20 row leaves and 19 omitted"));
    assert!(message(&report, OmittedFilters).contains("none of the 19"));
    // The bundle survives JSON, unknown members are refused.
    let json = bundle.to_json().unwrap();
    assert_eq!(ExportBundle::from_json(json.as_bytes()).unwrap(), bundle);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["manifest"]["completeness"]["omitted"][0]["extra"] = json!(1);
    assert!(ExportBundle::from_json(value.to_string().as_bytes()).is_err());
}

#[test]
fn a_dropped_row_is_named_by_its_sequence() {
    let e = export();
    let mut rows = e.rows.clone();
    let dropped = rows.iter().position(|(s, _)| *s == 20).unwrap();
    rows.remove(dropped);
    // The rest of the span as before: sequence 20 is neither exported nor omitted.
    let mut completeness = honest(&e.log, &e.rows, &[]);
    completeness.omitted.retain(|o| o.sequence != 20);
    let (csv, bundle) = bundle(&e, &rows, completeness);
    let report = verify(&e, &csv, &bundle);
    assert_eq!(report.failed(), [SpanCoverage]);
    assert!(
        message(&report, SpanCoverage).contains("sequences 20 (1 in all) are neither exported"),
        "{report}"
    );
}

#[test]
fn an_omitted_event_the_filters_select_fails() {
    let e = export();
    let mut rows = e.rows.clone();
    rows.retain(|(s, _)| *s != 20);
    // Listed as omitted, honestly hashed and proven: but it is a signed-in event in range.
    let completeness = honest(&e.log, &rows, &[]);
    assert!(completeness.omitted.iter().any(|o| o.sequence == 20));
    let (csv, bundle) = bundle(&e, &rows, completeness);
    let report = verify(&e, &csv, &bundle);
    assert_eq!(report.failed(), [OmittedFilters]);
    assert!(
        message(&report, OmittedFilters).contains("sequence 20 (audit_log_event_org_01AAAA_0020)"),
        "{report}"
    );
}

#[test]
fn an_omitted_event_must_hash_to_a_leaf_in_the_tree() {
    let e = export();
    let mut completeness = honest(&e.log, &e.rows, &[]);
    // Its text changed (say, to another action), its listed leaf kept: the hash differs.
    let text = completeness.omitted[2].canonical_event.clone().unwrap();
    completeness.omitted[2].canonical_event = Some(text.replace("signed_out", "signed_up"));
    let (csv, bundle_text) = bundle(&e, &e.rows, completeness.clone());
    let report = verify(&e, &csv, &bundle_text);
    assert_eq!(report.failed(), [OmittedLeaves]);
    assert!(message(&report, OmittedLeaves).contains("sequence 5:"));
    // The leaf changed to match the text: the proof no longer leads to the signed root. The
    // proof is built against the real tree, so it is read before the leaf is swapped.
    let (_, mut forged) = bundle(&e, &e.rows, completeness.clone());
    let changed = completeness.omitted[2].canonical_event.clone().unwrap();
    let omitted = &mut forged.manifest.completeness.as_mut().unwrap().omitted[2];
    omitted.leaf_hash = auditlog_domain::canonical::leaf_hash(changed.as_bytes());
    let forged = ExportBundle::sign(forged.manifest, &e.signer).unwrap();
    assert_eq!(verify(&e, &csv, &forged).failed(), [Inclusion]);
    // Neither text nor redaction, or both.
    let (_, mut neither) = bundle(&e, &e.rows, honest(&e.log, &e.rows, &[]));
    let listed = &mut neither.manifest.completeness.as_mut().unwrap().omitted;
    listed[0].canonical_event = None;
    listed[1].redacted_at = Some("2026-05-01T00:00:00.000Z".into());
    let neither = ExportBundle::sign(neither.manifest, &e.signer).unwrap();
    let report = verify(&e, &csv, &neither);
    assert_eq!(report.failed(), [OmittedLeaves]);
    let text = message(&report, OmittedLeaves);
    assert!(text.contains("sequence 1: neither") && text.contains("sequence 3: both"));
}

#[test]
fn a_shrunk_span_or_a_stray_omission_is_named() {
    let e = export();
    let mut completeness = honest(&e.log, &e.rows, &[]);
    completeness.first_sequence = Some(2);
    let (csv, bundle_shrunk) = bundle(&e, &e.rows, completeness);
    let report = verify(&e, &csv, &bundle_shrunk);
    assert_eq!(report.failed(), [SpanCoverage]);
    assert!(message(&report, SpanCoverage).contains("not the exported rows' 0..=38"));
    // An exported sequence listed as omitted too (the proof cannot list a leaf twice, so the
    // bundle is edited after it is built).
    let (_, mut twice) = bundle(&e, &e.rows, honest(&e.log, &e.rows, &[]));
    let listed = &mut twice.manifest.completeness.as_mut().unwrap().omitted;
    listed.insert(1, omitted(&e.log, 2));
    let twice = ExportBundle::sign(twice.manifest, &e.signer).unwrap();
    let report = verify(&e, &csv, &twice);
    assert_eq!(report.failed(), [Inclusion, SpanCoverage, OmittedFilters]);
    assert!(message(&report, SpanCoverage).contains("sequences 2 (1 in all) are listed more"));
}

#[test]
fn redacted_omissions_and_unproven_spans_are_warnings() {
    let e = export();
    let (csv, bundle_redacted) = bundle(&e, &e.rows, honest(&e.log, &e.rows, &[3, 17]));
    let report = verify(&e, &csv, &bundle_redacted);
    assert!(report.passed(), "{report}");
    assert_eq!(report.warnings(), [RedactedOmissions]);
    assert!(message(&report, RedactedOmissions).contains("sequences 3, 17 (2 in all)"));
    assert!(report.to_string().contains("(1 with a warning)"));

    let reason = "more than 50000 events of the span are omitted".to_string();
    let (csv, unproven) = bundle(&e, &e.rows, Completeness::unproven(Some((0, 38)), reason));
    let report = verify(&e, &csv, &unproven);
    assert!(report.passed(), "{report}");
    assert_eq!(report.warnings(), [Completeness]);
    assert_eq!(report.checks.len(), 10);
    assert!(message(&report, Completeness).contains("not proven: more than 50000"));
}

#[test]
fn the_format_says_whether_completeness_is_claimed() {
    let e = export();
    let (csv, v2) = bundle(&e, &e.rows, honest(&e.log, &e.rows, &[]));
    let mut manifest = v2.manifest.clone();
    manifest.completeness = None;
    let without = ExportBundle::sign(manifest, &e.signer).unwrap();
    assert!(verify(&e, &csv, &without).failed().contains(&Format));
    let mut manifest = v2.manifest.clone();
    manifest.format = BUNDLE_FORMAT_V1.into();
    let v1_with = ExportBundle::sign(manifest, &e.signer).unwrap();
    assert!(verify(&e, &csv, &v1_with).failed().contains(&Format));
}
