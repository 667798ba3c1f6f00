//! `auditlog monitor` as a customer runs it: against a real server (clean runs, a second run
//! after more events, a deleted event, a rewritten one, events removed by retention or redacted
//! early, a changed key, a portal session), and
//! against a fake server that serves crafted checkpoints signed with a test key (split views,
//! forks, rollbacks, witness cosignatures), which a real server never would.

use crate::common::TestServer;
use crate::tlog_support::{
    checkpoint_now, execute_sql, forge_event, ingest, ingest_aged, redact_event_row,
    sweep_to_retention, SEED_HEX,
};
use auditlog_domain::canonical::leaf_hash;
use auditlog_tlog::cosignature::{PolicyWitness, WitnessPolicy, WitnessSigner};
use auditlog_tlog::{consistency_proof, tree_root, CheckpointSigner, Hash, MemoryHashStore};
use axum::extract::{Path as AxumPath, Query};
use axum::routing::get;
use axum::{Json, Router};
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

struct Run {
    code: i32,
    report: Value,
    stderr: String,
}

/// Runs `auditlog monitor --json` with `args`; `key: None` runs without an API key.
async fn monitor(url: &str, key: Option<&str>, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditlog"));
    command
        .arg("monitor")
        .arg("--json")
        .args(args)
        .env("AUDITLOG_URL", url)
        .env("AUDITLOG_LOG", "warn")
        .env_remove("AUDITLOG_API_KEY");
    if let Some(key) = key {
        command.env("AUDITLOG_API_KEY", key);
    }
    let output = command.output().await.expect("run auditlog monitor");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    // A run that fails before its round (refused, unreachable) prints no report.
    let report = match stdout.trim() {
        "" => Value::Null,
        text => serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("not one JSON report ({e}): {stdout}\n{stderr}")),
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        report,
        stderr,
    }
}

impl Run {
    fn kinds(&self) -> Vec<String> {
        self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_string())
            .collect()
    }

    fn finding(&self, kind: &str) -> &Value {
        self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} finding: {}", self.report))
    }

    fn check(&self, name: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check: {}", self.report))
    }

    fn assert_clean(&self) {
        assert_eq!(self.code, 0, "{}\n{}", self.report, self.stderr);
        assert_eq!(self.report["ok"], true);
        assert_eq!(self.kinds(), Vec::<String>::new());
        for check in self.report["checks"].as_array().unwrap() {
            assert_eq!(check["passed"], true, "{check}");
        }
    }

    fn assert_misbehaved(&self, kind: &str) {
        assert_eq!(self.code, 6, "{}\n{}", self.report, self.stderr);
        assert_eq!(self.report["ok"], false);
        assert!(self.kinds().iter().any(|k| k == kind), "{}", self.report);
        assert!(
            self.stderr.contains("the log misbehaved"),
            "{}",
            self.stderr
        );
    }
}

fn state_args<'a>(org: &'a str, dir: &'a Path) -> Vec<&'a str> {
    vec!["--organization", org, "--state-dir", dir.to_str().unwrap()]
}

fn with<'a>(mut base: Vec<&'a str>, more: &[&'a str]) -> Vec<&'a str> {
    base.extend_from_slice(more);
    base
}

// ---- against a real server ----

#[tokio::test]
async fn clean_runs_store_checkpoints_and_check_consistency_and_events() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..5).await;
    checkpoint_now(&server, &org).await;
    let dir = tempfile::tempdir().unwrap();
    let args = with(state_args(&org, dir.path()), &["--events"]);

    let first = monitor(&server.base_url, Some(&server.key), &args).await;
    first.assert_clean();
    assert_eq!(first.report["checkpoint"]["tree_size"], 5);
    assert_eq!(
        first.report["checkpoint"]["origin"],
        format!("auditlog/{org}")
    );
    assert!(first
        .check("history")
        .to_string()
        .contains("first checkpoint"));
    assert_eq!(first.report["events"]["downloaded"], 5);
    assert_eq!(first.report["events"]["verified"], 5);
    assert!(dir.path().join("checkpoints/5.note").is_file());
    let pinned = std::fs::read_to_string(dir.path().join("log-key")).unwrap();
    assert!(pinned.starts_with("auditlog+"), "{pinned}");

    ingest(&server, &org, 5..9).await;
    checkpoint_now(&server, &org).await;
    let second = monitor(&server.base_url, Some(&server.key), &args).await;
    second.assert_clean();
    assert_eq!(second.report["checkpoint"]["tree_size"], 9);
    let history = second.check("history")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(history.contains("extends the accepted size 5"), "{history}");
    assert_eq!(
        second.report["events"]["downloaded"], 4,
        "only the new events"
    );
    assert_eq!(second.report["events"]["verified"], 9);
    assert!(dir.path().join("checkpoints/9.note").is_file());
    // The stored first checkpoint is kept as it was.
    assert!(dir.path().join("checkpoints/5.note").is_file());

    // Human output: a verdict line and exit 0.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("monitor")
        .args(&args)
        .env("AUDITLOG_URL", &server.base_url)
        .env("AUDITLOG_API_KEY", &server.key)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    assert!(text.contains("everything checks out"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_event_is_a_gap_named_by_its_sequence() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..6).await;
    checkpoint_now(&server, &org).await;
    // Someone with database access deletes one logged event.
    execute_sql(
        &server,
        "DELETE FROM events WHERE sequence = 2",
        "DELETE FROM events WHERE sequence = 2",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let run = monitor(
        &server.base_url,
        Some(&server.key),
        &with(state_args(&org, dir.path()), &["--events"]),
    )
    .await;
    run.assert_misbehaved("gap");
    assert_eq!(run.finding("gap")["sequences"], json!([2]));
    // The log's own leaf stands in for it, so the root still matches: only the event is gone.
    assert_eq!(run.check("events")["passed"], true);
    assert_eq!(run.kinds(), ["gap"]);
    server.stop().await;
}

#[tokio::test]
async fn a_first_run_tells_retention_from_deletion() {
    let server = TestServer::start_with(|c| c.jobs.retention_sweep_interval_secs = 1).await;
    let org = server.create_org("Acme").await;
    // Past a 30-day retention: sequences 0 and 2.
    ingest_aged(&server, &org, &[40, 0, 45, 1, 0]).await;
    checkpoint_now(&server, &org).await;
    sweep_to_retention(&server, &org, 30, 2).await;

    let dir = tempfile::tempdir().unwrap();
    let args = with(state_args(&org, dir.path()), &["--events"]);
    let run = monitor(&server.base_url, Some(&server.key), &args).await;
    run.assert_clean();
    assert_eq!(run.report["events"]["redacted"], json!([0, 2]));
    assert_eq!(run.report["events"]["downloaded"], 3);
    assert_eq!(run.report["events"]["verified"], 5);
    let retention = run.check("retention")["message"].as_str().unwrap();
    assert!(retention.contains("0, 2"), "{retention}");
    assert!(retention.contains("30 days"), "{retention}");

    // The same through a portal session (which cannot ask for the retention period).
    let link = crate::portal::generate_link(&server, &org, "audit_logs").await;
    let link = crate::portal::local(&server, &link);
    let portal_dir = tempfile::tempdir().unwrap();
    let portal_args = with(
        state_args(&org, portal_dir.path()),
        &["--events", "--portal-link", &link],
    );
    let run = monitor("http://127.0.0.1:9", None, &portal_args).await;
    run.assert_clean();
    assert_eq!(run.report["events"]["redacted"], json!([0, 2]));

    // An event deleted outright is still a gap, next to the redacted ones.
    execute_sql(
        &server,
        "DELETE FROM events WHERE sequence = 3",
        "DELETE FROM events WHERE sequence = 3",
    )
    .await;
    let fresh = tempfile::tempdir().unwrap();
    let run = monitor(
        &server.base_url,
        Some(&server.key),
        &with(state_args(&org, fresh.path()), &["--events"]),
    )
    .await;
    run.assert_misbehaved("gap");
    assert_eq!(run.kinds(), ["gap"]);
    assert_eq!(run.finding("gap")["sequences"], json!([3]));
    assert_eq!(run.report["events"]["redacted"], json!([0, 2]));

    // A monitor that saw them before still accepts them with --full.
    let again = monitor(
        &server.base_url,
        Some(&server.key),
        &with(args, &["--full"]),
    )
    .await;
    again.assert_misbehaved("gap");
    assert_eq!(again.kinds(), ["gap"]);
    assert_eq!(again.report["events"]["redacted"], json!([0, 2]));
    server.stop().await;
}

#[tokio::test]
async fn a_redaction_within_the_retention_period_is_reported() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest_aged(&server, &org, &[1, 0, 0]).await;
    checkpoint_now(&server, &org).await;
    let seen = tempfile::tempdir().unwrap();
    let seen_args = with(state_args(&org, seen.path()), &["--events"]);
    monitor(&server.base_url, Some(&server.key), &seen_args)
        .await
        .assert_clean();
    // An insider redacts a day-old event the way the sweeper would, under the default
    // retention of 365 days; and another one, backdated to 1970 so that it looks old enough.
    let events = server.stored_events("default", &org).await;
    redact_event_row(&server, &events[0].id, 1).await;
    redact_event_row(&server, &events[1].id, 1).await;
    execute_sql(
        &server,
        "UPDATE events SET occurred_at = 0 WHERE sequence = 1",
        "UPDATE events SET occurred_at = 0 WHERE sequence = 1",
    )
    .await;

    // A monitor that saw the events before catches the changed time too.
    let again = monitor(
        &server.base_url,
        Some(&server.key),
        &with(seen_args, &["--full"]),
    )
    .await;
    again.assert_misbehaved("early_redaction");
    assert_eq!(again.kinds(), ["rewrite", "early_redaction"]);
    assert_eq!(again.finding("rewrite")["sequences"], json!([1]));
    assert_eq!(again.finding("early_redaction")["sequences"], json!([0]));

    let dir = tempfile::tempdir().unwrap();
    let run = monitor(
        &server.base_url,
        Some(&server.key),
        &with(state_args(&org, dir.path()), &["--events"]),
    )
    .await;
    run.assert_misbehaved("early_redaction");
    assert_eq!(run.kinds(), ["early_redaction"]);
    assert_eq!(run.finding("early_redaction")["sequences"], json!([0]));
    // A first run cannot know the backdated one's time: the leaf no longer vouches for it.
    assert_eq!(run.report["events"]["redacted"], json!([1]));
    let message = run.finding("early_redaction")["message"].as_str().unwrap();
    assert!(message.contains("365 days"), "{message}");
    // The leaf is the log's, so the root still matches: only retention fails to explain it.
    assert_eq!(run.check("events")["passed"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_rewritten_event_is_found_by_its_leaf() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..6).await;
    checkpoint_now(&server, &org).await;
    let seen = tempfile::tempdir().unwrap();
    let seen_args = with(state_args(&org, seen.path()), &["--events"]);
    monitor(&server.base_url, Some(&server.key), &seen_args)
        .await
        .assert_clean();

    // An insider rewrites event 3 and its stored leaf hash, so the row is self-consistent.
    forge_event(&server, &org, 3, "\"user_3\"", "\"user_x\"").await;

    // A monitor that never saw the event finds it through the log's leaves.
    let fresh = tempfile::tempdir().unwrap();
    let run = monitor(
        &server.base_url,
        Some(&server.key),
        &with(state_args(&org, fresh.path()), &["--events"]),
    )
    .await;
    run.assert_misbehaved("rewrite");
    assert_eq!(run.finding("rewrite")["sequences"], json!([3]));
    assert_eq!(run.check("events")["passed"], false);
    assert!(
        !fresh.path().join("events/verified.json").exists(),
        "leaves that do not rebuild the root are not kept"
    );

    // One that saw it before finds it with --full, against the leaf it verified then.
    let again = monitor(
        &server.base_url,
        Some(&server.key),
        &with(seen_args.clone(), &["--full"]),
    )
    .await;
    again.assert_misbehaved("rewrite");
    assert_eq!(again.finding("rewrite")["sequences"], json!([3]));
    server.stop().await;
}

#[tokio::test]
async fn a_changed_server_key_is_reported() {
    let server = TestServer::start_with(|c| c.log.log_signing_key = Some(SEED_HEX.into())).await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..3).await;
    checkpoint_now(&server, &org).await;
    let dir = tempfile::tempdir().unwrap();
    let args = state_args(&org, dir.path());
    monitor(&server.base_url, Some(&server.key), &args)
        .await
        .assert_clean();

    let other = "1b".repeat(32);
    let server = server
        .restart_with(|c| c.log.log_signing_key = Some(other.as_str().into()))
        .await;
    let run = monitor(&server.base_url, Some(&server.key), &args).await;
    run.assert_misbehaved("key_changed");
    let message = run.finding("key_changed")["message"].as_str().unwrap();
    assert!(message.contains("not the trusted"), "{message}");
    // The pin is not replaced by the new key.
    let pinned = std::fs::read_to_string(dir.path().join("log-key")).unwrap();
    assert!(message.contains(pinned.trim()), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_portal_session_monitors_the_same_log() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    ingest(&server, &org, 0..4).await;
    checkpoint_now(&server, &org).await;
    let dir = tempfile::tempdir().unwrap();
    let link = crate::portal::generate_link(&server, &org, "audit_logs").await;
    let link = crate::portal::local(&server, &link);
    let args = with(
        state_args(&org, dir.path()),
        &["--events", "--portal-link", &link],
    );
    let run = monitor("http://127.0.0.1:9", None, &args).await;
    run.assert_clean();
    assert_eq!(run.report["events"]["verified"], 4);

    // A gap is found through the portal too (the missing leaf comes from the portal's tiles).
    ingest(&server, &org, 4..7).await;
    checkpoint_now(&server, &org).await;
    execute_sql(
        &server,
        "DELETE FROM events WHERE sequence = 5",
        "DELETE FROM events WHERE sequence = 5",
    )
    .await;
    let link = crate::portal::generate_link(&server, &org, "audit_logs").await;
    let link = crate::portal::local(&server, &link);
    let args = with(
        state_args(&org, dir.path()),
        &["--events", "--portal-link", &link],
    );
    let run = monitor("http://127.0.0.1:9", None, &args).await;
    run.assert_misbehaved("gap");
    assert_eq!(run.finding("gap")["sequences"], json!([5]));

    // A used link opens no session: refused (exit 1), not a finding.
    let used = monitor("http://127.0.0.1:9", None, &args).await;
    assert_eq!(used.code, 1, "{}", used.stderr);
    server.stop().await;
}

// ---- against a fake server ----

const FAKE_ORG: &str = "org_fake";

/// What the fake server answers; the tests change it between runs.
#[derive(Default)]
struct Served {
    note: String,
    proof: Vec<Hash>,
    policy: Option<WitnessPolicy>,
}

/// A log server that serves whatever checkpoints the test crafts, signed with its key.
struct FakeLog {
    url: String,
    signer: CheckpointSigner,
    served: Arc<Mutex<Served>>,
}

/// A tree of `size` leaves; `salt` makes another history of the same size.
fn tree(size: u64, salt: u8) -> MemoryHashStore {
    let mut tree = MemoryHashStore::new();
    for i in 0..size {
        let mut leaf = [salt; 32];
        leaf[..8].copy_from_slice(&i.to_be_bytes());
        tree.append(leaf_hash(&leaf)).unwrap();
    }
    tree
}

impl FakeLog {
    async fn start() -> FakeLog {
        let signer = CheckpointSigner::from_seed("fake", [7; 32]).unwrap();
        let served = Arc::new(Mutex::new(Served::default()));
        let key = signer.verifier_key();
        let (checkpoint, proof, policy) = (served.clone(), served.clone(), served.clone());
        let app = Router::new()
            .route(
                "/.well-known/auditlog/log-key",
                get(move || async move { format!("{key}\n") }),
            )
            .route(
                "/.well-known/auditlog/witnesses",
                get(move || async move {
                    match policy.lock().unwrap().policy.clone() {
                        Some(policy) => Ok(Json(policy)),
                        None => Err(axum::http::StatusCode::NOT_FOUND),
                    }
                }),
            )
            .route(
                "/audit_logs/log/{org}/checkpoint",
                get(move |AxumPath(org): AxumPath<String>| async move {
                    assert_eq!(org, FAKE_ORG);
                    Json(json!({"checkpoint": checkpoint.lock().unwrap().note}))
                }),
            )
            .route(
                "/audit_logs/log/{org}/consistency_proof",
                get(
                    move |Query(query): Query<HashMap<String, u64>>| async move {
                        let nodes: Vec<String> = proof
                            .lock()
                            .unwrap()
                            .proof
                            .iter()
                            .map(|hash| BASE64_STANDARD.encode(hash))
                            .collect();
                        Json(json!({"first_tree_size": query["first"],
                        "second_tree_size": query["second"], "proof": nodes}))
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeLog {
            url,
            signer,
            served,
        }
    }

    /// The signed note of the tree's first `size` leaves.
    fn note(&self, tree: &MemoryHashStore, size: u64) -> String {
        let root = tree_root(size, tree).unwrap();
        self.signer
            .sign_checkpoint(&format!("fake/{FAKE_ORG}"), size, root)
            .unwrap()
    }

    fn serve(&self, note: String, proof: Vec<Hash>) {
        let mut served = self.served.lock().unwrap();
        served.note = note;
        served.proof = proof;
    }

    async fn run(&self, dir: &Path, more: &[&str]) -> Run {
        let args = with(state_args(FAKE_ORG, dir), more);
        monitor(&self.url, Some("sk_test_unused"), &args).await
    }
}

fn evidence_exists(run: &Run, kind: &str) {
    let path = run.finding(kind)["evidence"].as_str().unwrap().to_string();
    let kept = std::fs::read_to_string(&path).unwrap();
    assert_eq!(kept, run.report["checkpoint"]["note"].as_str().unwrap());
}

#[tokio::test]
async fn a_split_view_fork_and_rollback_are_found_with_evidence() {
    let log = FakeLog::start().await;
    let dir = tempfile::tempdir().unwrap();
    let honest = tree(9, 0);
    log.serve(log.note(&honest, 4), vec![]);
    log.run(dir.path(), &[]).await.assert_clean();

    // A bigger checkpoint of the same history, with its proof: accepted.
    log.serve(
        log.note(&honest, 6),
        consistency_proof(4, 6, &honest).unwrap(),
    );
    let run = log.run(dir.path(), &[]).await;
    run.assert_clean();
    assert!(dir.path().join("checkpoints/6.note").is_file());

    // Split view: the same size with another root.
    let other = tree(9, 1);
    log.serve(log.note(&other, 6), vec![]);
    let run = log.run(dir.path(), &[]).await;
    run.assert_misbehaved("fork");
    evidence_exists(&run, "fork");
    let kept = std::fs::read_to_string(dir.path().join("checkpoints/6.note")).unwrap();
    assert_eq!(
        kept,
        log.note(&honest, 6),
        "the accepted checkpoint is not replaced"
    );

    // A bigger checkpoint of another history: its proof cannot verify.
    log.serve(
        log.note(&other, 9),
        consistency_proof(6, 9, &other).unwrap(),
    );
    let run = log.run(dir.path(), &[]).await;
    run.assert_misbehaved("fork");
    assert!(run.finding("fork")["message"]
        .as_str()
        .unwrap()
        .contains("does not extend"));
    evidence_exists(&run, "fork");
    assert!(!dir.path().join("checkpoints/9.note").exists());

    // Rollback: an older, smaller checkpoint than the accepted one.
    log.serve(log.note(&honest, 5), vec![]);
    let run = log.run(dir.path(), &[]).await;
    run.assert_misbehaved("rollback");
    evidence_exists(&run, "rollback");
    assert_eq!(run.kinds(), ["rollback"]);
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_is_refused() {
    let log = FakeLog::start().await;
    let dir = tempfile::tempdir().unwrap();
    let honest = tree(3, 0);
    log.serve(log.note(&honest, 3), vec![]);
    let stranger = CheckpointSigner::from_seed("fake", [8; 32]).unwrap();
    let key = stranger.verifier_key();
    let run = log.run(dir.path(), &["--key", &key]).await;
    run.assert_misbehaved("bad_signature");
    // The server's published key is not the one given either.
    assert!(run.kinds().contains(&"key_changed".to_string()));
    assert!(!dir.path().join("checkpoints/3.note").exists());
}

fn witnesses() -> (WitnessSigner, WitnessSigner) {
    (
        WitnessSigner::from_seed("witness-one", [1; 32]).unwrap(),
        WitnessSigner::from_seed("witness-two", [2; 32]).unwrap(),
    )
}

fn policy(quorum: usize, signers: &[&WitnessSigner]) -> WitnessPolicy {
    WitnessPolicy {
        quorum,
        witnesses: signers
            .iter()
            .map(|w| PolicyWitness {
                name: w.name().to_string(),
                verifier_key: w.verifier_key(),
            })
            .collect(),
    }
}

/// The note with the witnesses' cosignatures appended, as a server returns it.
fn cosigned(note: &str, by: &[&WitnessSigner]) -> String {
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let lines: String = by
        .iter()
        .map(|w| w.cosign(body.as_bytes(), 1_767_225_600))
        .collect();
    auditlog_tlog::cosignature::add_signature_lines(note, &lines)
}

#[tokio::test]
async fn cosignatures_are_held_to_the_witness_policy() {
    let log = FakeLog::start().await;
    let (one, two) = witnesses();
    let dir = tempfile::tempdir().unwrap();
    let policy_file = dir.path().join("policy.json");
    std::fs::write(
        &policy_file,
        serde_json::to_string(&policy(2, &[&one, &two])).unwrap(),
    )
    .unwrap();
    let state = dir.path().join("state");
    let policy_arg = ["--witness-policy", policy_file.to_str().unwrap()];
    let honest = tree(8, 0);

    log.serve(cosigned(&log.note(&honest, 3), &[&one, &two]), vec![]);
    let run = log.run(&state, &policy_arg).await;
    run.assert_clean();
    assert_eq!(
        run.check("cosignatures")["message"],
        "2 of 2 valid (quorum 2)"
    );

    // One witness missing: below quorum, reported, but the log's history is still checked
    // and the checkpoint kept.
    log.serve(
        cosigned(&log.note(&honest, 5), &[&one]),
        consistency_proof(3, 5, &honest).unwrap(),
    );
    let run = log.run(&state, &policy_arg).await;
    run.assert_misbehaved("policy_not_met");
    assert_eq!(run.kinds(), ["policy_not_met"]);
    assert_eq!(
        run.check("cosignatures")["message"],
        "1 of 2 valid (quorum 2)"
    );
    assert!(run.finding("policy_not_met")["message"]
        .as_str()
        .unwrap()
        .contains("witness-two"));
    assert_eq!(run.check("history")["passed"], true);
    assert!(state.join("checkpoints/5.note").is_file());

    // A forged cosignature: witness two's line over another checkpoint's body.
    let note = log.note(&honest, 5);
    let elsewhere = log.note(&honest, 4);
    let body = &elsewhere[..elsewhere.find("\n\n").unwrap() + 1];
    let forged = two.cosign(body.as_bytes(), 1_767_225_600);
    let note = auditlog_tlog::cosignature::add_signature_lines(&cosigned(&note, &[&one]), &forged);
    log.serve(note, vec![]);
    let run = log.run(&state, &policy_arg).await;
    run.assert_misbehaved("invalid_cosignature");
    assert!(run.finding("invalid_cosignature")["message"]
        .as_str()
        .unwrap()
        .contains("witness-two"));
    assert!(run.kinds().contains(&"policy_not_met".to_string()));
}

#[tokio::test]
async fn the_published_witness_policy_is_pinned_and_a_change_reported() {
    let log = FakeLog::start().await;
    let (one, two) = witnesses();
    let dir = tempfile::tempdir().unwrap();
    let honest = tree(3, 0);
    log.served.lock().unwrap().policy = Some(policy(1, &[&one]));
    log.serve(cosigned(&log.note(&honest, 3), &[&one]), vec![]);
    let run = log.run(dir.path(), &[]).await;
    run.assert_clean();
    assert_eq!(
        run.check("cosignatures")["message"],
        "1 of 1 valid (quorum 1)"
    );
    assert!(dir.path().join("witness-policy.json").is_file());

    // The server now publishes a policy that its checkpoints meet: still a change to report,
    // and the pinned policy (which they do not meet) still applies.
    log.served.lock().unwrap().policy = Some(policy(1, &[&two]));
    log.serve(cosigned(&log.note(&honest, 3), &[&two]), vec![]);
    let run = log.run(dir.path(), &[]).await;
    run.assert_misbehaved("policy_changed");
    assert!(run.kinds().contains(&"policy_not_met".to_string()));
}

#[tokio::test]
async fn following_reports_each_round_until_interrupted() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let log = FakeLog::start().await;
    let dir = tempfile::tempdir().unwrap();
    let honest = tree(6, 0);
    log.serve(log.note(&honest, 4), vec![]);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["monitor", "--json", "--follow", "--interval-secs", "1"])
        .args(state_args(FAKE_ORG, dir.path()))
        .env("AUDITLOG_URL", &log.url)
        .env("AUDITLOG_API_KEY", "sk_test_unused")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_report = async || -> Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("a report within the interval")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next_report().await["ok"], true);
    // The server turns to another history of the same size: the next round says so.
    log.serve(log.note(&tree(6, 1), 4), vec![]);
    let report = next_report().await;
    assert_eq!(report["findings"][0]["kind"], "fork", "{report}");
    // Ctrl-C ends it; a round found misbehaviour, so the exit status is 6.
    let pid = rustix::process::Pid::from_raw(child.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .expect("the monitor ends on Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(6));
}
