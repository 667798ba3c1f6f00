//! `auditlog verify` on the completeness of bundles from a real server: a filtered export
//! proves its span complete; an attacker who holds the deployment key and re-signs a bundle
//! cannot drop an exported row, nor pass one off as omitted; a v1 bundle still verifies, with
//! completeness "not claimed".

use crate::common::TestServer;
use crate::tlog_support::*;
use crate::verify_cli::*;
use auditlog_tlog::{
    csv_sha256_hex, CheckpointSigner, ExportBundle, MemoryHashStore, MultiProof, OmittedEvent,
    BUNDLE_FORMAT_V1,
};
use serde_json::{json, Value};

/// An organization with events 0..9 alternating signed-in (even) and signed-out (odd), and the
/// CSV and bundle of its export of the signed-out ones: rows 1, 3, 5, 7; omitted 2, 4, 6.
async fn filtered_export(server: &TestServer) -> (String, Vec<u8>, ExportBundle) {
    let org = server.create_org("Acme").await;
    for i in 0..9 {
        post_event(server, &alternating_event(&org, i)).await;
    }
    let (id, state) = finished_export(server, &org, json!({"actions": ["user.signed_out"]})).await;
    assert_eq!(state, "ready");
    let csv = export_csv(server, &id).await;
    let (status, bundle) = export_bundle(server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    (org, csv, serde_json::from_value(bundle).unwrap())
}

/// The deployment's own key, as an attacker who copied it holds it.
fn deployment_signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("auditlog", hex_seed()).unwrap()
}

/// Removes the row of `sequence` from the CSV and the manifest (its leaf, the row count and
/// the CSV's hash): returns the edited CSV.
fn drop_row(csv: &[u8], bundle: &mut ExportBundle, sequence: u64) -> Vec<u8> {
    let manifest = &mut bundle.manifest;
    let at = manifest
        .leaves
        .iter()
        .position(|l| l.sequence == sequence)
        .expect("an exported sequence");
    manifest.leaves.remove(at);
    let mut lines = rows(csv);
    lines.remove(at + 1); // after the header
    let csv = lines.concat().into_bytes();
    manifest.row_count -= 1;
    manifest.csv_sha256 = csv_sha256_hex(&csv);
    csv
}

fn to_value(bundle: &ExportBundle) -> Value {
    serde_json::to_value(bundle).unwrap()
}

fn message_of(run: &Run, name: &str) -> String {
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {}", run.stdout))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn key_file(server: &TestServer, dir: &tempfile::TempDir) -> std::path::PathBuf {
    write(dir, "log.vkey", log_key(server).await)
}

#[tokio::test]
async fn a_filtered_export_verifies_complete_and_a_dropped_row_is_named() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(&server, &dir).await;
    let (org, csv, bundle) = filtered_export(&server).await;

    let bundle_file = write(&dir, "bundle.json", serde_json::to_vec(&bundle).unwrap());
    let csv_file = write(&dir, "export.csv", &csv);
    let run = verify(&[
        "--bundle",
        text(&bundle_file),
        "--csv",
        text(&csv_file),
        "--key",
        text(&key),
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for line in [
        "PASS  completeness: claimed for sequences 1..=7: 4 exported, 3 omitted",
        "PASS  span coverage: each of the 7 sequences 1..=7",
        "PASS  omitted events outside the filters: none of the 3",
        "VERIFIED: all 14 checks passed",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }

    // The attacker drops row 3 and re-proves the rest from the database's leaves, so that
    // every signature, hash and proof holds: only the span gives it away.
    let mut dropped = bundle.clone();
    let edited_csv = drop_row(&csv, &mut dropped, 3);
    let manifest = &mut dropped.manifest;
    let mut tree = MemoryHashStore::new();
    for event in server.stored_events("default", &org).await {
        tree.append(event.leaf_hash).unwrap();
    }
    let completeness = manifest.completeness.as_ref().unwrap();
    let sequences: Vec<u64> = manifest
        .leaves
        .iter()
        .map(|l| l.sequence)
        .chain(completeness.omitted.iter().map(|o| o.sequence))
        .collect();
    manifest.proof = MultiProof::prove(manifest.proof.tree_size, &sequences, &tree).unwrap();
    let dropped = ExportBundle::sign(dropped.manifest, &deployment_signer()).unwrap();
    let run = verify_bundle(&dir, &to_value(&dropped), &edited_csv, &key);
    assert_eq!(failed_checks(&run), ["span_coverage"]);
    let message = message_of(&run, "span_coverage");
    assert!(
        message.contains("sequences 3 (1 in all) are neither exported"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_exported_row_passed_off_as_omitted_fails_the_filters() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(&server, &dir).await;
    let (org, csv, mut bundle) = filtered_export(&server).await;
    let edited_csv = drop_row(&csv, &mut bundle, 5);
    // Listed as omitted with its genuine text and leaf: the proof covers the same leaves.
    let event = server.stored_events("default", &org).await.remove(5);
    let completeness = bundle.manifest.completeness.as_mut().unwrap();
    completeness.omitted.push(OmittedEvent {
        sequence: 5,
        leaf_hash: event.leaf_hash,
        canonical_event: event.payload,
        redacted_at: None,
    });
    completeness.omitted.sort_by_key(|o| o.sequence);
    let forged = ExportBundle::sign(bundle.manifest, &deployment_signer()).unwrap();
    let run = verify_bundle(&dir, &to_value(&forged), &edited_csv, &key);
    assert_eq!(failed_checks(&run), ["omitted_filters"]);
    let message = message_of(&run, "omitted_filters");
    assert!(message.contains("sequence 5 ("), "{message}");
    assert!(
        message.contains("the export's filters select it"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_v1_bundle_verifies_with_completeness_not_claimed() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(&server, &dir).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let id = ready_export(&server, &org).await;
    let csv = export_csv(&server, &id).await;
    let (_, bundle) = export_bundle(&server, &id).await;
    // What a server from before completeness served: no omissions here, so the same proof.
    let mut bundle: ExportBundle = serde_json::from_value(bundle).unwrap();
    assert!(bundle
        .manifest
        .completeness
        .take()
        .unwrap()
        .omitted
        .is_empty());
    bundle.manifest.format = BUNDLE_FORMAT_V1.into();
    let v1 = ExportBundle::sign(bundle.manifest, &deployment_signer()).unwrap();
    let bundle_file = write(&dir, "v1.json", serde_json::to_vec(&v1).unwrap());
    let csv_file = write(&dir, "v1.csv", &csv);
    let args = [
        "--bundle",
        text(&bundle_file),
        "--csv",
        text(&csv_file),
        "--key",
        text(&key),
    ];
    let run = verify(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("WARN  completeness: not claimed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("VERIFIED: all 10 checks passed (1 with a warning)"),
        "{}",
        run.stdout
    );
    let json = verify(&[&args[..], &["--json"]].concat());
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["verified"], true);
    let completeness = &report["checks"].as_array().unwrap()[9];
    assert_eq!(
        (&completeness["name"], &completeness["warning"]),
        (&json!("completeness"), &json!(true))
    );
    server.stop().await;
}
