//! A log with a witness (`auditlog witness serve`, in-process): checkpoints get cosigned off
//! the ingest path and meet the published policy; a log rewritten behind the witness's back is
//! refused by the signer (while it remembers the witness's view) or by the witness (after the
//! log forgot it), and a checkpoint shown to one client only (a split view) carries no
//! cosignature.

use crate::common;
use crate::tlog_support::*;
use crate::verify_cli::{failed_checks, text, verify, write};
use crate::witness::TestWitness;

use auditlog_server::config::{defaults, Config};
use auditlog_server::witness::WitnessStore;
use auditlog_tlog::cosignature::{check_cosignatures, AddCheckpoint, WitnessPolicy};
use auditlog_tlog::CheckpointSigner;
use common::TestServer;
use serde_json::Value;
use std::time::Duration;

const SEED: [u8; 32] = [0x42; 32];

fn log_signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(defaults::DEPLOYMENT_NAME, SEED).unwrap()
}

/// The log's configuration: its key, and the witness.
fn with_witness(witness: &TestWitness) -> impl FnOnce(&mut Config) {
    let endpoint = format!("{}={}", witness.verifier_key(), witness.base_url);
    move |c: &mut Config| {
        c.log.log_interval_secs = 1;
        c.log.log_signing_key = Some(hex::encode(SEED).into());
        c.log.witnesses = vec![endpoint.parse().unwrap()];
        c.log.witness_allow_plaintext = true;
        c.log.witness_allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
    }
}

async fn witnessed_server(witness: &TestWitness) -> TestServer {
    TestServer::start_with(with_witness(witness)).await
}

async fn policy(server: &TestServer) -> WitnessPolicy {
    let (_, policy) = get_json(server, "/.well-known/auditlog/witnesses").await;
    serde_json::from_value(policy).unwrap()
}

/// The newest checkpoint once it carries `count` cosignatures (within 15 s).
async fn cosigned(server: &TestServer, org: &str, size: u64, count: usize) -> Value {
    let policy = policy(server).await;
    for _ in 0..150 {
        let (_, latest) = get_json(server, &format!("/audit_logs/log/{org}/checkpoint")).await;
        let note = latest["checkpoint"].as_str().unwrap_or_default();
        if latest["tree_size"] == size
            && check_cosignatures(note, &policy).unwrap().valid_count() >= count
        {
            return latest;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of size {size} with {count} cosignatures");
}

#[tokio::test]
async fn checkpoints_are_cosigned_and_meet_the_published_policy() {
    let witness = TestWitness::start(vec![log_signer().verifier_key()]).await;
    let server = witnessed_server(&witness).await;
    let policy = policy(&server).await;
    assert_eq!(policy.quorum, 1);
    assert_eq!(policy.witnesses[0].verifier_key, witness.verifier_key());
    let org = server.create_org("Acme").await;

    ingest(&server, &org, 0..5).await;
    checkpoint_now(&server, &org).await;
    let first = cosigned(&server, &org, 5, 1).await;
    // The note still verifies as the log's, and the witness recorded that size.
    opened(&first, &log_key(&server).await, &org);
    let origin = format!("{}/{org}", defaults::DEPLOYMENT_NAME);
    assert_eq!(witness.latest_size(&origin).await, Some(5));

    // Growth: the witness checks a consistency proof from 5.
    ingest(&server, &org, 5..12).await;
    checkpoint_now(&server, &org).await;
    let second = cosigned(&server, &org, 12, 1).await;
    let report = check_cosignatures(second["checkpoint"].as_str().unwrap(), &policy).unwrap();
    assert!(report.satisfied(), "{report:?}");
    assert_eq!(witness.latest_size(&origin).await, Some(12));
    server.stop().await;
    witness.stop().await;
}

#[tokio::test]
async fn a_rewritten_log_is_refused_by_the_signer_or_by_the_witness() {
    let witness = TestWitness::start(vec![log_signer().verifier_key()]).await;
    let server = witnessed_server(&witness).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    checkpoint_now(&server, &org).await;
    cosigned(&server, &org, 5, 1).await;

    // The insider rewrites an event, deletes the log's rows and the remembered checkpoints in
    // the blob store (they hold the bucket too).
    forge_event(&server, &org, 1, "user.signed_in", "user.deleted").await;
    for sql in [
        "DELETE FROM tlog_hashes",
        "DELETE FROM tlog_trees",
        "DELETE FROM tlog_checkpoints",
    ] {
        execute_sql(&server, sql, sql).await;
    }
    std::fs::remove_dir_all(server.data_dir.path().join("blobs").join("tlog")).unwrap();

    // The signer still knows what the witness cosigned, and refuses.
    let response = server
        .post(&format!("/audit_logs/log/{org}/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("a witness"),
        "{body}"
    );

    // After a restart the signer has forgotten; it signs the rewritten log, and the witness
    // refuses to cosign it and keeps the evidence.
    let server = server.restart_with(with_witness(&witness)).await;
    checkpoint_now(&server, &org).await;
    let origin = format!("{}/{org}", defaults::DEPLOYMENT_NAME);
    let mut refusals = Vec::new();
    for _ in 0..100 {
        refusals = WitnessStore::open(witness.data_dir())
            .await
            .unwrap()
            .refusals(&origin)
            .await
            .unwrap();
        if !refusals.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refusals.len(), 1, "the witness recorded the fork");
    assert_eq!(refusals[0].status, 409);
    let (_, latest) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    let report = check_cosignatures(
        latest["checkpoint"].as_str().unwrap(),
        &policy(&server).await,
    )
    .unwrap();
    assert!(!report.satisfied(), "the fork carries no cosignature");
    assert_eq!(witness.latest_size(&origin).await, Some(5));
    server.stop().await;
    witness.stop().await;
}

#[tokio::test]
async fn a_checkpoint_shown_to_one_client_only_has_no_cosignature() {
    let witness = TestWitness::start(vec![log_signer().verifier_key()]).await;
    let server = witnessed_server(&witness).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..4).await;
    checkpoint_now(&server, &org).await;
    let honest = cosigned(&server, &org, 4, 1).await;
    let policy = policy(&server).await;
    assert!(
        check_cosignatures(honest["checkpoint"].as_str().unwrap(), &policy)
            .unwrap()
            .satisfied()
    );
    // The operator (who holds the key) signs another tree of the same size for one victim.
    let origin = format!("{}/{org}", defaults::DEPLOYMENT_NAME);
    let split = log_signer().sign_checkpoint(&origin, 4, [7; 32]).unwrap();
    // `auditlog verify` with the policy: the honest checkpoint passes, the split one fails on
    // its missing cosignature alone (its log signature and the empty 4 → 4 proof are fine).
    let dir = tempfile::tempdir().unwrap();
    let key = write(&dir, "key", log_key(&server).await);
    let policy_file = write(&dir, "policy.json", serde_json::to_vec(&policy).unwrap());
    let proof = write(
        &dir,
        "proof.json",
        r#"{"first_tree_size":4,"second_tree_size":4,"proof":[]}"#,
    );
    for (note, passes) in [
        (honest["checkpoint"].as_str().unwrap(), true),
        (&split, false),
    ] {
        let checkpoint = write(&dir, "checkpoint", note);
        let run = verify(&[
            "--old-checkpoint",
            text(&checkpoint),
            "--new-checkpoint",
            text(&checkpoint),
            "--consistency-proof",
            text(&proof),
            "--key",
            text(&key),
            "--witness-policy",
            text(&policy_file),
            "--json",
        ]);
        if passes {
            assert_eq!(run.code, 0, "{}", run.stdout);
            assert!(
                run.stdout.contains("1 of 1 witnesses cosigned"),
                "{}",
                run.stdout
            );
        } else {
            assert_eq!(failed_checks(&run), ["witness_cosignatures"]);
        }
    }
    let report = check_cosignatures(&split, &policy).unwrap();
    assert_eq!(report.valid_count(), 0);
    assert!(
        !report.satisfied(),
        "a client checking the policy rejects it"
    );
    // Nor can the operator get it cosigned: the witness holds the honest root at that size.
    let (status, _, _) = witness
        .add(
            AddCheckpoint {
                old_size: 4,
                proof: vec![],
                checkpoint: split,
            }
            .to_body(),
        )
        .await;
    assert_eq!(status, 409);
    server.stop().await;
    witness.stop().await;
}
