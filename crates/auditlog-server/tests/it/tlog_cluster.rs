//! Two nodes on one PostgreSQL database build and sign the same organization's log at once
//! (background builders every second, and on-demand checkpoints on both), while events arrive
//! through both: every checkpoint either of them signed is consistent with every other one.
//! PostgreSQL only (`AUDITLOG_TEST_BACKEND=postgres`); with S3 configured, bundles of exports in
//! the bucket are verified too.

use crate::common;
use crate::tlog_support;

use common::TestServer;
use serde_json::Value;
use tlog_support::*;

async fn post_checkpoint(server: &TestServer, org: &str) -> Value {
    checkpoint_now(server, org).await
}

#[tokio::test]
async fn two_nodes_never_sign_inconsistent_checkpoints() {
    if !common::postgres_backend() {
        eprintln!("two_nodes_never_sign_inconsistent_checkpoints: PostgreSQL only, skipped");
        return;
    }
    // Nodes with their own local blob stores share the key through a configured key file (on
    // one S3 bucket they would share its key object).
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("log-signing.key");
    std::fs::write(&key_file, format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let shared_key = key_file.clone();
    let a = TestServer::start_with(move |c| {
        c.log.log_interval_secs = 1;
        c.log.log_signing_key_file = Some(shared_key);
    })
    .await;
    let (url, key) = (a.database_url().unwrap(), a.key.clone());
    let b = TestServer::start_with(move |c| {
        c.storage.database_url = Some(url.into());
        c.api_keys.push(key.into());
        c.log.log_interval_secs = 1;
        c.log.log_signing_key_file = Some(key_file);
    })
    .await;
    let vkey = log_key(&a).await;
    assert_eq!(log_key(&b).await, vkey, "one deployment key for every node");
    let org = a.create_org("Acme").await;
    let work = |node: &'static str| {
        let (server, org) = (if node == "a" { &a } else { &b }, org.clone());
        async move {
            let mut signed = Vec::new();
            for round in 0..8u64 {
                let first = if node == "a" { 0 } else { 1000 };
                ingest(server, &org, first + round * 3..first + round * 3 + 3).await;
                signed.push(post_checkpoint(server, &org).await);
            }
            signed
        }
    };
    let (from_a, from_b) = tokio::join!(work("a"), work("b"));
    let mut heads: Vec<(u64, Hash, String)> = from_a
        .iter()
        .chain(&from_b)
        .map(|checkpoint| {
            let (size, root) = opened(checkpoint, &vkey, &org);
            (
                size,
                root,
                checkpoint["checkpoint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    heads.sort();
    heads.dedup();
    // One note per size.
    assert!(
        heads.windows(2).all(|w| w[0].0 != w[1].0),
        "two checkpoints of one size"
    );
    assert_eq!(heads.last().unwrap().0, 48);
    eprintln!("{} distinct checkpoints from two nodes", heads.len());
    for pair in heads.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        check_consistency(&b, &org, (old.0, old.1), (new.0, new.1)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// Two nodes on one PostgreSQL database and one bucket, with no key configured, sign with the
/// one key the first of them put in the bucket.
#[tokio::test]
async fn nodes_on_one_bucket_share_its_key() {
    let Some(blob_url) = common::s3_blob_url() else {
        eprintln!("nodes_on_one_bucket_share_its_key: no S3 test server, skipped");
        return;
    };
    if !common::postgres_backend() {
        eprintln!("nodes_on_one_bucket_share_its_key: PostgreSQL only, skipped");
        return;
    }
    let shared = blob_url.clone();
    let a = TestServer::start_with(move |c| c.storage.blob_url = Some(shared)).await;
    let (url, key) = (a.database_url().unwrap(), a.key.clone());
    let b = TestServer::start_with(move |c| {
        c.storage.database_url = Some(url.into());
        c.api_keys.push(key.into());
        c.storage.blob_url = Some(blob_url);
    })
    .await;
    assert_eq!(log_key(&a).await, log_key(&b).await);
    assert!(!a.data_dir.path().join("log-signing.key").exists());
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn bundles_of_exports_in_s3_verify() {
    let Some(blob_url) = common::s3_blob_url() else {
        eprintln!("bundles_of_exports_in_s3_verify: no S3 test server, skipped");
        return;
    };
    let server = TestServer::start_with(|c| c.storage.blob_url = Some(blob_url)).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..7).await;
    let id = ready_export(&server, &org).await;
    let csv = export_csv(&server, &id).await;
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    let bundle: auditlog_tlog::ExportBundle = serde_json::from_value(bundle).unwrap();
    let report = auditlog_tlog::verify_bundle_csv(&csv, &bundle, &log_key(&server).await);
    assert!(report.passed(), "{report}");
    assert_eq!(bundle.manifest.row_count, 7);
    server.stop().await;
}
