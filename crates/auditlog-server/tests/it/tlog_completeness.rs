//! Reconciliation (issue 21, completeness): an event row deleted directly in the database makes
//! a new export fail and the bundle of an earlier export answer `log_integrity_failure`, both
//! naming the missing sequence number, on SQLite and on PostgreSQL.

use crate::common::TestServer;
use crate::tlog_support::*;
use serde_json::json;

#[tokio::test]
async fn a_deleted_event_row_fails_exports_and_bundles_naming_its_sequence() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..6).await;
    let before = ready_export(&server, &org).await;
    let (status, bundle) = export_bundle(&server, &before).await;
    assert_eq!(status, 200, "{bundle}");

    let events = server.stored_events("default", &org).await;
    assert_eq!(events[3].sequence, 3);
    delete_event_row(&server, &events[3].id).await;

    // A new export: the job refuses to write a file with a hole, and says where the hole is.
    let (after, state) = finished_export(&server, &org, json!({})).await;
    assert_eq!(state, "error");
    let export = server
        .open_store()
        .await
        .get_export("default", &after)
        .await
        .unwrap()
        .unwrap();
    let reason = export.error.unwrap_or_default();
    assert!(reason.contains("missing sequence numbers: 3)"), "{reason}");

    // The bundle of the export made before the deletion: its rows are all still there, but the
    // log below its checkpoint is not.
    let (status, body) = export_bundle(&server, &before).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("log_integrity_failure")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("missing sequence numbers: 3)"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bundles_list_the_events_a_filtered_export_omits() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    for i in 0..9 {
        post_event(&server, &alternating_event(&org, i)).await;
    }
    let (id, state) = finished_export(&server, &org, json!({"actions": ["user.signed_out"]})).await;
    assert_eq!(state, "ready");
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    let manifest = &bundle["manifest"];
    assert_eq!(manifest["format"], "auditlog-export-bundle/v2");
    let completeness = &manifest["completeness"];
    assert_eq!(completeness["proven"], true);
    assert_eq!(
        (
            &completeness["first_sequence"],
            &completeness["last_sequence"]
        ),
        (&json!(1), &json!(7))
    );
    let omitted: Vec<u64> = completeness["omitted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(omitted, [2, 4, 6]);
    let events = server.stored_events("default", &org).await;
    assert_eq!(
        completeness["omitted"][0]["canonical_event"].as_str(),
        events[2].payload.as_deref()
    );
    // An omitted event redacted since (as retention would): listed by leaf and redaction time.
    redact_event_row(&server, &events[4].id, 1_780_000_000_000_000).await;
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    let redacted = &bundle["manifest"]["completeness"]["omitted"][1];
    assert_eq!(
        redacted,
        &json!({"sequence": 4, "leaf_hash": hex::encode(events[4].leaf_hash),
            "redacted_at": "2026-05-28T20:26:40.000Z"})
    );
    let report = auditlog_tlog::verify_bundle_csv(
        &export_csv(&server, &id).await,
        &serde_json::from_value(bundle).unwrap(),
        &log_key(&server).await,
    );
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.warnings(),
        [auditlog_tlog::CheckName::RedactedOmissions]
    );
    // An export without rows has no span to prove.
    let (id, _) = finished_export(&server, &org, json!({"actions": ["nobody.did_this"]})).await;
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["manifest"]["completeness"]["proven"], false);
    server.stop().await;
}
