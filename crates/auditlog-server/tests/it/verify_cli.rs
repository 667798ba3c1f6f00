//! `auditlog verify` (the real binary) on bundles and checkpoints fetched from a real server:
//! genuine ones pass; each adversarial change is detected and the failing check is named.

use crate::common;
use crate::tlog_support;

use auditlog_tlog::CheckpointSigner;
use common::TestServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;
use tlog_support::*;

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
}

pub(crate) fn verify(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("verify")
        .args(args)
        .env("AUDITLOG_LOG", "error")
        .output()
        .expect("run auditlog verify");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

pub(crate) fn write(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub(crate) fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The names of the failed checks of a `--json` report (asserting it failed, exit 1).
pub(crate) fn failed_checks(run: &Run) -> Vec<String> {
    assert_eq!(run.code, 1, "verification should fail: {}", run.stdout);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["verified"], false);
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// Verifies `csv` against `bundle` with the binary (`--json`).
pub(crate) fn verify_bundle(dir: &TempDir, bundle: &Value, csv: &[u8], key: &Path) -> Run {
    let bundle = write(dir, "bundle.json", serde_json::to_vec(bundle).unwrap());
    let csv = write(dir, "export.csv", csv);
    verify(&[
        "--bundle",
        text(&bundle),
        "--csv",
        text(&csv),
        "--key",
        text(key),
        "--json",
    ])
}

pub(crate) fn rows(csv: &[u8]) -> Vec<String> {
    String::from_utf8(csv.to_vec())
        .unwrap()
        .split_inclusive("\r\n")
        .map(str::to_string)
        .collect()
}

pub(crate) async fn server_with_known_key() -> TestServer {
    TestServer::start_with(|c| c.log.log_signing_key = Some(SEED_HEX.into())).await
}

/// An organization with `n` events and a ready export of them: (org, CSV, bundle).
async fn exported(server: &TestServer, name: &str, n: u64) -> (String, Vec<u8>, Value) {
    let org = server.create_org(name).await;
    ingest(server, &org, 0..n).await;
    let id = ready_export(server, &org).await;
    let csv = export_csv(server, &id).await;
    let (status, bundle) = export_bundle(server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    (org, csv, bundle)
}

#[tokio::test]
async fn bundles_verify_and_every_tampering_is_named() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = write(&dir, "log.vkey", log_key(&server).await + "\n");
    let (_, csv, bundle) = exported(&server, "Acme", 6).await;
    let (_, other_csv, _) = exported(&server, "Other", 3).await;

    // Genuine: every check passes, in words and in JSON.
    let bundle_file = write(&dir, "genuine.json", serde_json::to_vec(&bundle).unwrap());
    let csv_file = write(&dir, "genuine.csv", &csv);
    let human = verify(&[
        "--bundle",
        text(&bundle_file),
        "--csv",
        text(&csv_file),
        "--key",
        text(&key),
    ]);
    assert_eq!(human.code, 0, "{}", human.stdout);
    assert!(
        human.stdout.contains("PASS  inclusion in checkpoint"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("VERIFIED: all 14 checks passed"),
        "{}",
        human.stdout
    );
    let json = verify_bundle(&dir, &bundle, &csv, &key);
    assert_eq!(json.code, 0, "{}", json.stdout);
    // The key may also be given inline.
    let inline = log_key(&server).await;
    let run = verify(&[
        "--bundle",
        text(&bundle_file),
        "--csv",
        text(&csv_file),
        "--key",
        &inline,
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    let lines = rows(&csv);
    // One changed byte of one row.
    let changed = csv
        .iter()
        .rposition(|&b| b == b'J')
        .expect("a J in the last row");
    let mut one_byte = csv.clone();
    one_byte[changed] = b'K';
    let failed = failed_checks(&verify_bundle(&dir, &bundle, &one_byte, &key));
    assert_eq!(failed, ["csv_sha256", "row_leaves"]);
    // A dropped row.
    let dropped: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| l.as_str())
        .collect();
    let failed = failed_checks(&verify_bundle(&dir, &bundle, dropped.as_bytes(), &key));
    assert_eq!(failed, ["csv_sha256", "row_count", "row_leaves"]);
    // Reordered rows.
    let mut reordered = lines.clone();
    reordered.swap(2, 4);
    let failed = failed_checks(&verify_bundle(
        &dir,
        &bundle,
        reordered.concat().as_bytes(),
        &key,
    ));
    assert_eq!(failed, ["csv_sha256", "row_leaves"]);
    // A row from another organization's export (same columns) in place of one of ours.
    let mut swapped = lines.clone();
    swapped[2] = rows(&other_csv)[1].clone();
    let failed = failed_checks(&verify_bundle(
        &dir,
        &bundle,
        swapped.concat().as_bytes(),
        &key,
    ));
    assert_eq!(failed, ["csv_sha256", "row_leaves"]);
    // A forged checkpoint: the same body signed by another key.
    let mut forged = bundle.clone();
    let note = bundle["manifest"]["checkpoint"].as_str().unwrap();
    let (origin, size, root) = independent_open(note, &inline).unwrap();
    let impostor = CheckpointSigner::from_seed("auditlog", [7; 32]).unwrap();
    forged["manifest"]["checkpoint"] = impostor
        .sign_checkpoint(&origin, size, root)
        .unwrap()
        .into();
    let failed = failed_checks(&verify_bundle(&dir, &forged, &csv, &key));
    assert_eq!(
        failed,
        ["manifest_signature", "checkpoint_signature", "inclusion"]
    );
    // The wrong key altogether.
    let wrong = write(&dir, "wrong.vkey", impostor.verifier_key());
    let failed = failed_checks(&verify_bundle(&dir, &bundle, &csv, &wrong));
    assert!(
        failed.contains(&"manifest_signature".to_string()),
        "{failed:?}"
    );
    // Unusable input: exit 2.
    let missing = verify(&[
        "--bundle",
        "/nonexistent.json",
        "--csv",
        text(&csv_file),
        "--key",
        text(&key),
    ]);
    assert_eq!(missing.code, 2);
    server.stop().await;
}

#[tokio::test]
async fn newer_checkpoints_must_extend_older_ones() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = write(&dir, "log.vkey", log_key(&server).await);
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let old = checkpoint_now(&server, &org).await;
    ingest(&server, &org, 5..12).await;
    let new = checkpoint_now(&server, &org).await;
    let (_, proof) = get_json(
        &server,
        &format!("/audit_logs/log/{org}/consistency_proof?first=5&second=12"),
    )
    .await;
    let old_file = write(&dir, "old.checkpoint", old["checkpoint"].as_str().unwrap());
    // The checkpoint endpoint's JSON is accepted as well as the bare note.
    let new_file = write(&dir, "new.json", serde_json::to_vec(&new).unwrap());
    let proof_file = write(&dir, "proof.json", serde_json::to_vec(&proof).unwrap());
    let run = |new: &Path, proof: &Path, json: bool| {
        let mut args = vec![
            "--old-checkpoint",
            text(&old_file),
            "--new-checkpoint",
            text(new),
        ];
        args.extend(["--consistency-proof", text(proof), "--key", text(&key)]);
        if json {
            args.push("--json");
        }
        verify(&args)
    };
    let genuine = run(&new_file, &proof_file, false);
    assert_eq!(genuine.code, 0, "{}", genuine.stdout);
    assert!(
        genuine.stdout.contains("PASS  consistency"),
        "{}",
        genuine.stdout
    );

    // An inconsistent newer checkpoint, signed with the deployment's real key (a server that
    // forked its log): every signature is fine, consistency is not.
    let signer = CheckpointSigner::from_seed("auditlog", hex_seed()).unwrap();
    let origin = format!("auditlog/{org}");
    let fork = signer.sign_checkpoint(&origin, 12, [9; 32]).unwrap();
    let fork_file = write(&dir, "fork.checkpoint", &fork);
    assert_eq!(
        failed_checks(&run(&fork_file, &proof_file, true)),
        ["consistency"]
    );
    // A forged newer checkpoint (another key).
    let (_, _, root) =
        independent_open(new["checkpoint"].as_str().unwrap(), &log_key(&server).await).unwrap();
    let impostor = CheckpointSigner::from_seed("auditlog", [7; 32]).unwrap();
    let forged_file = write(
        &dir,
        "forged.checkpoint",
        impostor.sign_checkpoint(&origin, 12, root).unwrap(),
    );
    assert_eq!(
        failed_checks(&run(&forged_file, &proof_file, true)),
        ["new_checkpoint_signature", "consistency"]
    );
    // A proof for other sizes.
    let (_, other) = get_json(
        &server,
        &format!("/audit_logs/log/{org}/consistency_proof?first=4&second=12"),
    )
    .await;
    let other_file = write(&dir, "other.json", serde_json::to_vec(&other).unwrap());
    assert_eq!(
        failed_checks(&run(&new_file, &other_file, true)),
        ["tree_sizes", "consistency"]
    );
    server.stop().await;
}

pub(crate) fn hex_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(SEED_HEX, &mut seed).unwrap();
    seed
}

#[tokio::test]
async fn an_event_rewritten_in_the_database_fails_the_bundle() {
    let server = server_with_known_key().await;
    let dir = tempfile::tempdir().unwrap();
    let key = write(&dir, "log.vkey", log_key(&server).await);
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..6).await;
    checkpoint_now(&server, &org).await;
    let events = server.stored_events("default", &org).await;
    let target = &events[4];
    let forged = target
        .payload
        .clone()
        .unwrap()
        .replace("Jon Smith", "Jim Smith");
    rewrite_event(&server, &target.id, &forged, None).await;
    // A new export carries the rewritten event; its logged leaf does not match the row.
    let id = ready_export(&server, &org).await;
    let csv = export_csv(&server, &id).await;
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    let run = verify_bundle(&dir, &bundle, &csv, &key);
    assert_eq!(failed_checks(&run), ["row_leaves"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let message = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "row_leaves")
        .unwrap()["message"]
        .clone();
    assert!(
        message.as_str().unwrap().contains("sequence 4"),
        "{message}"
    );
    // Rewriting the stored leaf hash as well: the server refuses to vouch for the rows.
    let leaf = auditlog_domain::canonical::leaf_hash(forged.as_bytes());
    rewrite_event(&server, &target.id, &forged, Some(leaf)).await;
    let id = ready_export(&server, &org).await;
    let (status, body) = export_bundle(&server, &id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("log_integrity_failure")),
        "{body}"
    );
    server.stop().await;
}
