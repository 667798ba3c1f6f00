//! Tamper evidence over the API (extensions): checkpoints, inclusion and consistency proofs,
//! checked with auditlog-tlog's verifiers and with independent implementations (the `ct-merkle`
//! crate for RFC 9162 proofs; a from-the-spec signed-note check with `ed25519-dalek`); across a
//! restart; after retention; and against an event rewritten in the database.

use crate::common;
use crate::tlog_support;

use auditlog_domain::canonical::leaf_hash;
use auditlog_tlog::verify_inclusion;
use common::TestServer;
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::InclusionProof;
use serde_json::json;
use sha2_011::Sha256;
use std::time::Duration;
use tlog_support::*;

/// Checks the inclusion proof of every stored event of `org` against the checkpoint
/// (`tree_size`, `root`): ours, and ct-merkle's on the canonical bytes for unredacted events.
async fn check_every_inclusion(server: &TestServer, org: &str, tree_size: u64, root: Hash) {
    let events = server.stored_events("default", org).await;
    for event in events.iter().filter(|e| (e.sequence as u64) < tree_size) {
        let (status, proof) = get_json(
            server,
            &format!(
                "/audit_logs/events/{}/inclusion_proof?tree_size={tree_size}",
                event.id
            ),
        )
        .await;
        assert_eq!(status, 200, "{proof}");
        assert_eq!(proof["object"], "inclusion_proof");
        assert_eq!(proof["leaf_index"], event.sequence);
        assert_eq!(proof["tree_size"], tree_size);
        assert_eq!(hash_of(&proof["root_hash"]), root);
        assert_eq!(hash_of(&proof["leaf_hash"]), event.leaf_hash);
        let path = proof_of(&proof);
        let index = event.sequence as u64;
        assert!(verify_inclusion(
            event.leaf_hash,
            index,
            tree_size,
            &path,
            root
        ));
        match &event.payload {
            Some(payload) => {
                assert_eq!(proof["event_matches_leaf"], true);
                assert_eq!(leaf_hash(payload.as_bytes()), event.leaf_hash);
                let theirs = InclusionProof::<Sha256>::from_bytes(path.concat());
                ct_root(root, tree_size)
                    .verify_inclusion(&payload.as_bytes().to_vec(), index, &theirs)
                    .expect("ct-merkle accepts our inclusion proof");
            }
            None => assert_eq!(proof["event_matches_leaf"], json!(null)),
        }
    }
}

#[tokio::test]
async fn proofs_and_checkpoints_verify_with_ours_and_independent_implementations() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..13).await;
    let vkey = log_key(&server).await;
    assert!(vkey.starts_with("auditlog+"), "{vkey}");
    let first = checkpoint_now(&server, &org).await;
    assert_eq!(first["object"], "log_checkpoint");
    let (size, root) = opened(&first, &vkey, &org);
    assert_eq!(size, 13);
    // The same root as ct-merkle's tree over the events' canonical bytes.
    let mut tree = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for event in server.stored_events("default", &org).await {
        tree.push(event.payload.unwrap().into_bytes());
    }
    assert_eq!(tree.root().as_bytes().as_slice(), root.as_slice());
    check_every_inclusion(&server, &org, 13, root).await;
    let (status, latest) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    assert_eq!((status, &latest), (200, &first));

    ingest(&server, &org, 13..20).await;
    let second = checkpoint_now(&server, &org).await;
    let (size2, root2) = opened(&second, &vkey, &org);
    assert_eq!(size2, 20);
    check_every_inclusion(&server, &org, 20, root2).await;
    check_consistency(&server, &org, (13, root), (20, root2)).await;
    check_consistency(&server, &org, (20, root2), (20, root2)).await;
    let empty = auditlog_tlog::EMPTY_ROOT;
    check_consistency(&server, &org, (0, empty), (20, root2)).await;
    // Defaults: the newest checkpoint; the stored notes come along.
    let (_, proof) = get_json(
        &server,
        &format!("/audit_logs/log/{org}/consistency_proof?first=13"),
    )
    .await;
    assert_eq!(proof["second_tree_size"], 20);
    assert_eq!(proof["first_checkpoint"], first["checkpoint"]);
    assert_eq!(proof["second_checkpoint"], second["checkpoint"]);
    let (_, stored) = get_json(
        &server,
        &format!("/audit_logs/log/{org}/checkpoint?tree_size=13"),
    )
    .await;
    assert_eq!(stored, first);
    // Nothing new: the newest checkpoint again.
    assert_eq!(checkpoint_now(&server, &org).await, second);
    server.stop().await;
}

#[tokio::test]
async fn the_builder_signs_a_checkpoint_when_the_log_grew() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let vkey = log_key(&server).await;
    for _ in 0..100 {
        let (status, checkpoint) =
            get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
        if status == 200 && checkpoint["tree_size"] == 5 {
            let (_, root) = opened(&checkpoint, &vkey, &org);
            check_every_inclusion(&server, &org, 5, root).await;
            server.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of 5 leaves within 10 s");
}

#[tokio::test]
async fn with_background_building_off_the_log_grows_on_demand_only() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 0).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..4).await;
    // A running builder would have built at start-up and again after an interval.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    // On demand, the tree takes every event and the checkpoint verifies.
    let checkpoint = checkpoint_now(&server, &org).await;
    let vkey = log_key(&server).await;
    let (size, root) = opened(&checkpoint, &vkey, &org);
    assert_eq!(size, 4);
    check_every_inclusion(&server, &org, 4, root).await;
    server.stop().await;
}

#[tokio::test]
async fn errors_are_json_and_foreign_logs_are_not_found() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let empty = server.create_org("Empty").await;
    let (status, body) = get_json(&server, &format!("/audit_logs/log/{empty}/checkpoint")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    ingest(&server, &org, 0..3).await;
    checkpoint_now(&server, &org).await;
    ingest(&server, &org, 3..4).await;
    let events = server.stored_events("default", &org).await;
    let late = &events[3].id;
    let (status, body) = get_json(
        &server,
        &format!("/audit_logs/events/{late}/inclusion_proof"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("not_yet_in_log")),
        "{body}"
    );
    for (path, want) in [
        (format!("/audit_logs/log/{org}/checkpoint?tree_size=2"), 404),
        (format!("/audit_logs/log/{org}/checkpoint?tree_size=x"), 422),
        (
            format!(
                "/audit_logs/events/{}/inclusion_proof?tree_size=-1",
                events[0].id
            ),
            422,
        ),
        (
            format!(
                "/audit_logs/events/{}/inclusion_proof?tree_size=2",
                events[0].id
            ),
            404,
        ),
        (
            "/audit_logs/events/audit_log_event_01AAAAAAAAAAAAAAAAAAAAAAAA/inclusion_proof".into(),
            404,
        ),
        (format!("/audit_logs/log/{org}/consistency_proof"), 422),
        (
            format!("/audit_logs/log/{org}/consistency_proof?first=3&second=2"),
            422,
        ),
        (
            format!("/audit_logs/log/{org}/consistency_proof?first=1&second=9"),
            409,
        ),
        (
            "/audit_logs/log/org_01AAAAAAAAAAAAAAAAAAAAAAAA/checkpoint".into(),
            404,
        ),
    ] {
        let (status, body) = get_json(&server, &path).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
    }
    // Another environment's key sees none of it.
    let foreign = server.key_for_environment("other").await;
    for path in [
        format!("/audit_logs/log/{org}/checkpoint"),
        format!("/audit_logs/log/{org}/consistency_proof?first=1&second=3"),
        format!("/audit_logs/events/{}/inclusion_proof", events[0].id),
    ] {
        let response = server
            .http
            .get(server.url(&path))
            .bearer_auth(&foreign)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = server
        .http
        .post(server.url(&format!("/audit_logs/log/{org}/checkpoint")))
        .bearer_auth(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The key needs no API key; the rest does.
    let anonymous = server
        .http
        .get(server.url(&format!("/audit_logs/log/{org}/checkpoint")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let response = server
        .http
        .get(server.url("/.well-known/auditlog/log-key"))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    server.stop().await;
}

#[tokio::test]
async fn checkpoints_after_a_restart_extend_the_ones_before() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..7).await;
    let vkey = log_key(&server).await;
    let before = checkpoint_now(&server, &org).await;
    let (size, root) = opened(&before, &vkey, &org);
    let server = server.restart_with(|_| {}).await;
    assert_eq!(
        log_key(&server).await,
        vkey,
        "the signing key survives a restart"
    );
    assert_eq!(
        get_json(&server, &format!("/audit_logs/log/{org}/checkpoint"))
            .await
            .1,
        before
    );
    ingest(&server, &org, 7..11).await;
    let after = checkpoint_now(&server, &org).await;
    let (size2, root2) = opened(&after, &vkey, &org);
    assert_eq!((size, size2), (7, 11));
    check_consistency(&server, &org, (size, root), (size2, root2)).await;
    check_every_inclusion(&server, &org, 11, root2).await;
    server.stop().await;
}

#[tokio::test]
async fn retention_keeps_proofs_valid_for_what_remains() {
    let server = TestServer::start_with(|c| c.jobs.retention_sweep_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    let now = chrono::Utc::now();
    for (i, days_ago) in [400, 10, 500, 1, 450, 2].into_iter().enumerate() {
        let mut body = numbered_event(&org, i as u64);
        let at = now - chrono::Duration::days(days_ago);
        body["event"]["occurred_at"] =
            json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        post_event(&server, &body).await;
    }
    let vkey = log_key(&server).await;
    let before = checkpoint_now(&server, &org).await;
    let (size, root) = opened(&before, &vkey, &org);
    let response = server
        .put(&format!("/organizations/{org}/audit_logs_retention"))
        .json(&json!({"retention_period_in_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..100 {
        let events = server.stored_events("default", &org).await;
        if events.iter().filter(|e| e.payload.is_none()).count() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = server.stored_events("default", &org).await;
    assert_eq!(
        events.iter().filter(|e| e.payload.is_none()).count(),
        3,
        "three redacted"
    );
    check_every_inclusion(&server, &org, size, root).await;
    post_event(&server, &numbered_event(&org, 6)).await;
    let after = checkpoint_now(&server, &org).await;
    let (size2, root2) = opened(&after, &vkey, &org);
    check_consistency(&server, &org, (size, root), (size2, root2)).await;
    check_every_inclusion(&server, &org, size2, root2).await;
    // An export of what remains verifies.
    let id = ready_export(&server, &org).await;
    let csv = export_csv(&server, &id).await;
    let (status, bundle) = export_bundle(&server, &id).await;
    assert_eq!(status, 200, "{bundle}");
    let bundle: auditlog_tlog::ExportBundle = serde_json::from_value(bundle).unwrap();
    assert_eq!(bundle.manifest.row_count, 4);
    let report = auditlog_tlog::verify_bundle_csv(&csv, &bundle, &vkey);
    assert!(report.passed(), "{report}");
    server.stop().await;
}

#[tokio::test]
async fn an_event_rewritten_in_the_database_no_longer_matches_its_proof() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let (_, root) = opened(
        &checkpoint_now(&server, &org).await,
        &log_key(&server).await,
        &org,
    );
    let event = server.stored_events("default", &org).await.remove(2);
    let forged = event
        .payload
        .unwrap()
        .replace("user.signed_in", "user.signed_out");
    rewrite_event(&server, &event.id, &forged, None).await;
    let path = format!("/audit_logs/events/{}/inclusion_proof", event.id);
    let (status, proof) = get_json(&server, &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        proof["event_matches_leaf"], false,
        "the endpoint names the mismatch"
    );
    let recomputed = leaf_hash(forged.as_bytes());
    assert!(!verify_inclusion(recomputed, 2, 5, &proof_of(&proof), root));
    let theirs = InclusionProof::<Sha256>::from_bytes(proof_of(&proof).concat());
    assert!(ct_root(root, 5)
        .verify_inclusion(&forged.into_bytes(), 2, &theirs)
        .is_err());
    // Rewriting the stored leaf hash too does not help: the log holds the original leaf, and
    // the server checks the proof before answering instead of handing out one that fails.
    let forged = server
        .stored_events("default", &org)
        .await
        .remove(2)
        .payload
        .unwrap();
    rewrite_event(&server, &event.id, &forged, Some(recomputed)).await;
    let (status, body) = get_json(&server, &path).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "log_integrity_failure", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&event.id), "{body}");
    assert!(
        message.contains("does not lead to the signed root"),
        "{body}"
    );
    // Untouched events still prove.
    let other = server.stored_events("default", &org).await.remove(1);
    let (status, proof) = get_json(
        &server,
        &format!("/audit_logs/events/{}/inclusion_proof", other.id),
    )
    .await;
    assert_eq!(status, 200, "{proof}");
    assert!(verify_inclusion(
        hash_of(&proof["leaf_hash"]),
        1,
        5,
        &proof_of(&proof),
        root
    ));
    server.stop().await;
}

#[tokio::test]
async fn altered_log_hashes_stop_the_signer() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    let before = checkpoint_now(&server, &org).await;
    // Someone with database access rewrites the stored tree under the issued checkpoint.
    execute_sql(
        &server,
        "UPDATE tlog_hashes SET hash = zeroblob(32)",
        "UPDATE tlog_hashes SET hash = decode(repeat('00', 32), 'hex')",
    )
    .await;
    ingest(&server, &org, 5..8).await;
    let response = server
        .post(&format!("/audit_logs/log/{org}/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "log_integrity_failure", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("not consistent"),
        "{body}"
    );
    // Nothing was signed: the newest checkpoint is still the one before.
    let (_, latest) = get_json(&server, &format!("/audit_logs/log/{org}/checkpoint")).await;
    assert_eq!(latest, before);
    server.stop().await;
}
