//! An insider with write access to the database against the log's memory outside it: the
//! checkpoints remembered create-only in the blob store and the signing key kept out of the
//! database. Each attack here succeeded before they existed.

use crate::common;
use crate::tlog_support::*;

use auditlog_server::config::{defaults, Config};
use auditlog_tlog::cosignature::{check_cosignatures, WitnessPolicy, WitnessSigner};
use auditlog_tlog::CheckpointSigner;
use common::TestServer;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

async fn post_checkpoint(server: &TestServer, org: &str) -> (u16, Value) {
    let response = server
        .post(&format!("/audit_logs/log/{org}/checkpoint"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Deletes every row of the log (tree, hashes, checkpoints), as an insider would before
/// rebuilding it over rewritten events.
async fn wipe_log_rows(server: &TestServer) {
    for (sqlite, postgres) in [
        ("DELETE FROM tlog_hashes", "DELETE FROM tlog_hashes"),
        ("DELETE FROM tlog_trees", "DELETE FROM tlog_trees"),
        (
            "DELETE FROM tlog_checkpoints",
            "DELETE FROM tlog_checkpoints",
        ),
    ] {
        execute_sql(server, sqlite, postgres).await;
    }
}

#[tokio::test]
async fn rewriting_the_log_and_signing_again_is_refused() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 0).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let before = checkpoint_now(&server, &org).await;
    let (size, _) = opened(&before, &log_key(&server).await, &org);
    assert_eq!(size, 5);

    // The insider rewrites an event and its leaf, and deletes the log so that it is rebuilt
    // from the rewritten events.
    forge_event(&server, &org, 2, "user.signed_in", "user.signed_out").await;
    wipe_log_rows(&server).await;

    let (status, body) = post_checkpoint(&server, &org).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "log_integrity_failure", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("the blob store"), "{message}");
    assert!(message.contains("refusing to sign a fork"), "{message}");
    // Nothing new was signed: the database has no checkpoint, the bucket only the honest one.
    let (status, _) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn deleting_the_newest_events_and_checkpoints_is_refused() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 0).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..6).await;
    checkpoint_now(&server, &org).await;
    // The insider drops the last events, winds the organization's counter back and deletes
    // the log, hoping to sign a shorter history.
    execute_sql(
        &server,
        "DELETE FROM events WHERE sequence >= 3",
        "DELETE FROM events WHERE sequence >= 3",
    )
    .await;
    execute_sql(
        &server,
        "UPDATE organizations SET last_sequence = 2",
        "UPDATE organizations SET last_sequence = 2",
    )
    .await;
    wipe_log_rows(&server).await;
    let (status, body) = post_checkpoint(&server, &org).await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("the blob store holds a checkpoint") && message.contains("size 6"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_key_is_kept_out_of_the_database() {
    let server = TestServer::start().await;
    let key_file = server.data_dir.path().join("log-signing.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let seed = std::fs::read_to_string(&key_file).unwrap();
    let signer = CheckpointSigner::from_seed(
        defaults::DEPLOYMENT_NAME,
        hex::decode(seed.trim()).unwrap().try_into().unwrap(),
    )
    .unwrap();
    assert_eq!(log_key(&server).await, signer.verifier_key());
    let store = server.open_store().await;
    assert_eq!(store.database_signing_seed().await.unwrap(), None);
    server.stop().await;
}

#[tokio::test]
async fn a_seed_an_earlier_release_kept_in_the_database_moves_out() {
    let server = TestServer::start().await;
    // What an earlier release left: the seed in the database, no key file.
    execute_sql(
        &server,
        "INSERT INTO tlog_signing_key (id, seed, created_at) VALUES (1, X'0101010101010101010101010101010101010101010101010101010101010101', 0)",
        "INSERT INTO tlog_signing_key (id, seed, created_at) VALUES (1, decode(repeat('01', 32), 'hex'), 0)",
    )
    .await;
    std::fs::remove_file(server.data_dir.path().join("log-signing.key")).unwrap();
    let server = server.restart_with(|_| {}).await;
    let expected = CheckpointSigner::from_seed(defaults::DEPLOYMENT_NAME, [1; 32])
        .unwrap()
        .verifier_key();
    assert_eq!(log_key(&server).await, expected, "the log keeps its key");
    let store = server.open_store().await;
    assert_eq!(store.database_signing_seed().await.unwrap(), None);
    let text = std::fs::read_to_string(server.data_dir.path().join("log-signing.key")).unwrap();
    assert_eq!(text.trim(), "01".repeat(32));
    server.stop().await;
}

#[tokio::test]
async fn a_lost_key_file_does_not_start_a_new_log() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..3).await;
    checkpoint_now(&server, &org).await;
    let database_url = server.database_url();
    let (data_dir, _database) = server.stop_keeping_database().await;
    std::fs::remove_file(data_dir.path().join("log-signing.key")).unwrap();
    let mut config = Config::with_data_dir(data_dir.path().to_path_buf());
    config.storage.database_url = database_url.map(Into::into);
    config.api_keys = vec!["sk_test_lost_key_file_0000000000000".into()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let started = tokio::time::timeout(
        Duration::from_secs(30),
        auditlog_server::run(config, listener, std::future::pending()),
    )
    .await
    .expect("the server refuses to start rather than run");
    let error = format!("{:#}", started.unwrap_err());
    assert!(error.contains("log signing key is missing"), "{error}");
    assert!(!data_dir.path().join("log-signing.key").exists());
}

#[tokio::test]
async fn another_key_cannot_extend_the_log() {
    let server = TestServer::start_with(|c| {
        c.log.log_interval_secs = 0;
        c.log.log_signing_key = Some("11".repeat(32).into());
    })
    .await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..3).await;
    checkpoint_now(&server, &org).await;
    // Whoever holds the database but not the key configures a key of their own.
    let server = server
        .restart_with(|c| {
            c.log.log_interval_secs = 0;
            c.log.log_signing_key = Some("22".repeat(32).into());
        })
        .await;
    ingest(&server, &org, 3..5).await;
    let (status, body) = post_checkpoint(&server, &org).await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("this deployment's key did not sign"),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn signing_goes_on_while_a_witness_is_offline() {
    let witness = WitnessSigner::from_seed("witness.example/offline", [9; 32]).unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let endpoint = format!("{}={url}", witness.verifier_key());
    let server = TestServer::start_with(move |c| {
        c.log.log_interval_secs = 1;
        c.log.witnesses = vec![endpoint.parse().unwrap()];
        c.log.witness_allow_plaintext = true;
        c.log.witness_allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (status, policy) = get_json(&server, "/.well-known/auditlog/witnesses").await;
    assert_eq!(status, 200);
    let policy: WitnessPolicy = serde_json::from_value(policy).unwrap();
    assert_eq!(policy.quorum, 1);
    assert_eq!(policy.witnesses[0].verifier_key, witness.verifier_key());

    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..4).await;
    let signed = checkpoint_now(&server, &org).await;
    assert_eq!(signed["tree_size"], 4);
    // A builder round asks the witness (and fails); the checkpoint stays published.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, latest) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    assert_eq!(status, 200);
    let note = latest["checkpoint"].as_str().unwrap();
    opened(&latest, &log_key(&server).await, &org);
    let report = check_cosignatures(note, &policy).unwrap();
    assert_eq!(report.valid_count(), 0);
    assert!(!report.satisfied(), "the policy check says what is missing");
    server.stop().await;
}
