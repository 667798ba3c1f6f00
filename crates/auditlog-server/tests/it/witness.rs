//! Witness mode (`auditlog witness serve`) over HTTP, as a log would use it: C2SP tlog-witness
//! add-checkpoint with real checkpoints and consistency proofs, every status the spec names,
//! concurrency, restarts, and cosignatures checked both through `check_cosignatures` and by
//! hand from the tlog-cosignature spec.

use auditlog_server::witness::{self, WitnessConfig, WitnessStore};
use auditlog_tlog::cosignature::{
    add_signature_lines, check_cosignatures, AddCheckpoint, CosignatureStatus, PolicyWitness,
    WitnessPolicy,
};
use auditlog_tlog::{
    consistency_proof, open_checkpoint, tree_root, CheckpointSigner, Hash, MemoryHashStore,
};
use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const WITNESS_NAME: &str = "witness.test";
const DEPLOYMENT: &str = "log.test";
const ORIGIN: &str = "log.test/org_1";

/// A witness served in-process by `auditlog_server::witness::run` on port 0.
pub(crate) struct TestWitness {
    pub(crate) base_url: String,
    data_dir: TempDir,
    http: reqwest::Client,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl TestWitness {
    pub(crate) async fn start(logs: Vec<String>) -> TestWitness {
        Self::start_in(tempfile::tempdir().unwrap(), logs).await
    }

    pub(crate) async fn start_in(data_dir: TempDir, logs: Vec<String>) -> TestWitness {
        let config = WitnessConfig::new(data_dir.path().to_path_buf(), WITNESS_NAME, logs);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        let handle = tokio::spawn(witness::run(config, listener, async {
            let _ = stop.await;
        }));
        let witness = TestWitness {
            base_url,
            data_dir,
            http: reqwest::Client::new(),
            shutdown,
            handle,
        };
        for _ in 0..200 {
            if let Ok(response) = witness.http.get(witness.url("/health")).send().await {
                if response.status() == 200 {
                    return witness;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the witness did not become healthy");
    }

    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub(crate) async fn stop(self) -> TempDir {
        let _ = self.shutdown.send(());
        self.handle.await.unwrap().expect("the witness ran cleanly");
        self.data_dir
    }

    pub(crate) fn verifier_key(&self) -> String {
        let path = self.data_dir.path().join(witness::PUBLIC_KEY_FILE);
        std::fs::read_to_string(path)
            .unwrap()
            .trim_end()
            .to_string()
    }

    /// POST add-checkpoint: (status, content type, body).
    pub(crate) async fn add(&self, body: impl Into<reqwest::Body>) -> (u16, String, String) {
        let response = self
            .http
            .post(self.url("/add-checkpoint"))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    pub(crate) async fn latest_size(&self, origin: &str) -> Option<u64> {
        let store = WitnessStore::open(self.data_dir.path()).await.unwrap();
        let latest = store
            .latest(origin)
            .await
            .unwrap()
            .map(|latest| latest.size);
        store.close().await;
        latest
    }
}

/// A log: an auditlog deployment key and one organization's tree.
struct TestLog {
    signer: CheckpointSigner,
    origin: String,
    tree: MemoryHashStore,
}

impl TestLog {
    /// `leaves` leaves; `variant` makes a fork (other leaf hashes).
    fn new(seed: u8, deployment: &str, origin: &str, leaves: u64, variant: u8) -> TestLog {
        let mut tree = MemoryHashStore::new();
        for leaf in 0..leaves {
            let mut hash = [variant; 32];
            hash[..8].copy_from_slice(&leaf.to_be_bytes());
            tree.append(hash).unwrap();
        }
        TestLog {
            signer: CheckpointSigner::from_seed(deployment, [seed; 32]).unwrap(),
            origin: origin.into(),
            tree,
        }
    }

    fn auditlog(leaves: u64) -> TestLog {
        TestLog::new(7, DEPLOYMENT, ORIGIN, leaves, 0)
    }

    fn root(&self, size: u64) -> Hash {
        tree_root(size, &self.tree).unwrap()
    }

    fn note(&self, size: u64) -> String {
        self.signer
            .sign_checkpoint(&self.origin, size, self.root(size))
            .unwrap()
    }

    /// The add-checkpoint body from `old` to `new` with the tree's consistency proof.
    fn body(&self, old: u64, new: u64) -> String {
        AddCheckpoint {
            old_size: old,
            proof: consistency_proof(old, new, &self.tree).unwrap(),
            checkpoint: self.note(new),
        }
        .to_body()
    }
}

fn note_body(note: &str) -> &str {
    &note[..note.find("\n\n").unwrap() + 1]
}

fn policy(witness_key: &str) -> WitnessPolicy {
    WitnessPolicy {
        quorum: 1,
        witnesses: vec![PolicyWitness {
            name: WITNESS_NAME.into(),
            verifier_key: witness_key.into(),
        }],
    }
}

/// Checks a cosignature line from the specs alone (C2SP signed-note, tlog-cosignature):
/// verifier key `name+hex(id)+base64(0x04 ‖ pk)`, id = SHA-256(name ‖ "\n" ‖ 0x04 ‖ pk)[:4],
/// line `— name base64(id ‖ u64be time ‖ Ed25519(pk, "cosignature/v1\ntime T\n" ‖ body))`.
/// Returns the timestamp.
fn verify_by_hand(line: &str, witness_key: &str, body: &str) -> u64 {
    let mut parts = witness_key.splitn(3, '+');
    let (name, id_hex, key) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let key = BASE64_STANDARD.decode(key).unwrap();
    assert_eq!((key.len(), key[0]), (33, 0x04), "an Ed25519 cosigner key");
    let mut id_input = format!("{name}\n").into_bytes();
    id_input.extend_from_slice(&key);
    let id = Sha256::digest(&id_input)[..4].to_vec();
    assert_eq!(id_hex, hex::encode(&id));

    let rest = line
        .strip_prefix("— ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("not a signature line: {line:?}"));
    let (line_name, signature) = rest.split_once(' ').unwrap();
    assert_eq!(line_name, name);
    let signature = BASE64_STANDARD.decode(signature).unwrap();
    assert_eq!(signature.len(), 4 + 8 + 64);
    assert_eq!(&signature[..4], id.as_slice());
    let timestamp = u64::from_be_bytes(signature[4..12].try_into().unwrap());
    let message = format!("cosignature/v1\ntime {timestamp}\n{body}");
    let public = VerifyingKey::from_bytes(key[1..].try_into().unwrap()).unwrap();
    public
        .verify_strict(
            message.as_bytes(),
            &Signature::from_slice(&signature[12..]).unwrap(),
        )
        .expect("the cosignature verifies by hand");
    timestamp
}

/// Checks a 200's cosignature on `note` both ways.
fn assert_cosigned(cosignature: &str, witness_key: &str, note: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let timestamp = verify_by_hand(cosignature, witness_key, note_body(note));
    assert!(
        timestamp.abs_diff(now) < 60,
        "timestamp {timestamp}, now {now}"
    );
    let report = check_cosignatures(
        &add_signature_lines(note, cosignature),
        &policy(witness_key),
    )
    .unwrap();
    assert_eq!(
        report.witnesses[0].1,
        CosignatureStatus::Valid { timestamp }
    );
}

fn checkpoint_path(origin: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(origin.as_bytes()).collect();
    format!("/checkpoint/{encoded}")
}

#[tokio::test]
async fn witness_cosigns_the_first_checkpoint_growth_and_the_same_checkpoint_again() {
    let log = TestLog::auditlog(8);
    let witness = TestWitness::start(vec![log.signer.verifier_key()]).await;
    let key = witness.verifier_key();

    let (status, content_type, cosignature) = witness.add(log.body(0, 3)).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/plain; charset=utf-8")
    );
    assert_eq!(cosignature.lines().count(), 1);
    assert!(cosignature.starts_with(&format!("— {WITNESS_NAME} ")));
    assert_cosigned(&cosignature, &key, &log.note(3));

    // Growth with a proof; the note also carries another witness's signature, which is ignored.
    let other_witness =
        auditlog_tlog::cosignature::WitnessSigner::from_seed("other.witness", [9; 32]).unwrap();
    let note = log.note(8);
    let with_other =
        add_signature_lines(&note, &other_witness.cosign(note_body(&note).as_bytes(), 1));
    let body = AddCheckpoint {
        old_size: 3,
        proof: consistency_proof(3, 8, &log.tree).unwrap(),
        checkpoint: with_other.clone(),
    }
    .to_body();
    let (status, _, cosignature) = witness.add(body).await;
    assert_eq!(status, 200, "{cosignature}");
    assert_cosigned(&cosignature, &key, &note);

    // The same size with the same root is cosigned again.
    let (status, _, again) = witness.add(log.body(8, 8)).await;
    assert_eq!(status, 200, "{again}");
    assert_cosigned(&again, &key, &log.note(8));
    assert_eq!(witness.latest_size(ORIGIN).await, Some(8));

    // Monitors read the latest cosigned checkpoint, with the cosignature appended.
    for path in [checkpoint_path(ORIGIN), format!("/checkpoint/{ORIGIN}")] {
        let response = witness.http.get(witness.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let served = response.text().await.unwrap();
        let opened = open_checkpoint(&served, &log.signer.verifier_key()).unwrap();
        assert_eq!((opened.size, opened.root), (8, log.root(8)));
        let report = check_cosignatures(&served, &policy(&key)).unwrap();
        assert!(report.satisfied(), "{report:?}");
    }
    let response = witness
        .http
        .get(witness.url(&checkpoint_path("log.test/org_2")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    witness.stop().await;
}

#[tokio::test]
async fn every_refusal_has_the_specs_status_and_signed_ones_are_recorded() {
    let log = TestLog::auditlog(8);
    let witness = TestWitness::start(vec![log.signer.verifier_key()]).await;
    assert_eq!(witness.add(log.body(0, 5)).await.0, 200);
    let text = "text/plain; charset=utf-8";

    // A stale old size: 409 with the latest size, as text/x.tlog.size.
    for stale in [log.body(0, 8), log.body(3, 8)] {
        let (status, content_type, body) = witness.add(stale).await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (409, "text/x.tlog.size", "5\n")
        );
    }

    // Old size beyond the checkpoint's: 400.
    let too_old = AddCheckpoint {
        old_size: 9,
        proof: vec![],
        checkpoint: log.note(8),
    };
    let (status, content_type, _) = witness.add(too_old.to_body()).await;
    assert_eq!((status, content_type.as_str()), (400, text));

    // Malformed bodies: 400.
    let note = log.note(8);
    for malformed in [
        "old 5\n".to_string(),
        "garbage".to_string(),
        format!("old 05\n\n{note}"),
        format!("old 5\nnot base64\n\n{note}"),
        format!("old 5\n\n{}", note.replace("\n\n", "\n")),
        format!("old 5\n\n{}", note.replacen("8\n", "eight\n", 1)),
    ] {
        assert_eq!(witness.add(malformed.clone()).await.0, 400, "{malformed:?}");
    }
    assert_eq!(witness.add(vec![0xff, 0xfe, b'\n']).await.0, 400);

    // A fork at the same size: 409, not a size (so a log does not retry from it).
    let fork = TestLog::new(7, DEPLOYMENT, ORIGIN, 8, 1);
    let (status, content_type, _) = witness.add(fork.body(5, 5)).await;
    assert_eq!((status, content_type.as_str()), (409, text));

    // A fork growing from the cosigned size: its proof does not verify from our root: 422.
    let (status, content_type, _) = witness.add(fork.body(5, 8)).await;
    assert_eq!((status, content_type.as_str()), (422, text));
    let garbage_proof = AddCheckpoint {
        old_size: 5,
        proof: vec![[3; 32]; 3],
        checkpoint: log.note(8),
    };
    assert_eq!(witness.add(garbage_proof.to_body()).await.0, 422);

    // Unknown origin: 404, even when another deployment signed it properly.
    let other_deployment = TestLog::new(8, "other.test", "other.test/org_1", 8, 0);
    assert_eq!(witness.add(other_deployment.body(0, 3)).await.0, 404);
    let outside = TestLog::new(7, DEPLOYMENT, "log.tester/org_1", 8, 0);
    assert_eq!(witness.add(outside.body(0, 3)).await.0, 404);

    // The right origin signed by a key the witness does not trust: 403.
    let impostor = TestLog::new(9, DEPLOYMENT, ORIGIN, 8, 0);
    let (status, content_type, _) = witness.add(impostor.body(5, 8)).await;
    assert_eq!((status, content_type.as_str()), (403, text));
    let unsigned = format!("old 5\n\n{}\n", note_body(&log.note(8)));
    assert_eq!(
        witness.add(unsigned).await.0,
        400,
        "a note needs a signature line"
    );

    // Too large: 413.
    let huge = format!("old 5\n\n{}", "a".repeat(witness::MAX_BODY_BYTES));
    assert_eq!(witness.add(huge).await.0, 413);

    // None of it moved the witness.
    assert_eq!(witness.latest_size(ORIGIN).await, Some(5));
    let data_dir = witness.stop().await;

    // The refusals of signed checkpoints are kept, with their notes: evidence of the fork.
    let store = WitnessStore::open(data_dir.path()).await.unwrap();
    let refusals = store.refusals(ORIGIN).await.unwrap();
    let fork_at_8 = refusals
        .iter()
        .find(|refusal| refusal.status == 422 && refusal.note == fork.note(8))
        .expect("the forked checkpoint's refusal is recorded");
    assert!(
        fork_at_8.reason.contains("consistency proof"),
        "{fork_at_8:?}"
    );
    assert!(refusals
        .iter()
        .any(|refusal| refusal.status == 409 && refusal.note == fork.note(5)));
    assert!(refusals.iter().any(|refusal| refusal.status == 400));
    let stale = refusals
        .iter()
        .find(|refusal| refusal.status == 409 && refusal.note == log.note(8))
        .unwrap();
    assert_eq!(stale.count, 2, "the two stale requests share one row");
    // Unsigned or untrusted requests are not evidence of anything and are not kept.
    assert!(refusals.iter().all(|refusal| refusal.status != 403));
    assert!(store.refusals("other.test/org_1").await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_add_checkpoints_never_roll_the_size_back() {
    const SIZE: u64 = 24;
    let log = std::sync::Arc::new(TestLog::auditlog(SIZE));
    let witness = std::sync::Arc::new(TestWitness::start(vec![log.signer.verifier_key()]).await);
    let key = witness.verifier_key();
    // Each task is a log client bringing the witness to its size, as the spec has clients do:
    // on a 409 it retries from the size the witness reports, until the witness is at or past
    // its size.
    let mut tasks = Vec::new();
    for target in 1..=SIZE {
        let (log, witness) = (log.clone(), witness.clone());
        tasks.push(tokio::spawn(async move {
            let mut old = 0;
            loop {
                let (status, content_type, body) = witness.add(log.body(old, target)).await;
                match status {
                    200 => return Some((old, target, body)),
                    409 => {
                        assert_eq!(content_type, "text/x.tlog.size");
                        let latest: u64 = body.trim_end().parse().unwrap();
                        assert!(
                            latest >= old,
                            "the witness went back from {old} to {latest}"
                        );
                        if latest >= target {
                            return None;
                        }
                        old = latest;
                    }
                    other => panic!("{other}: {body}"),
                }
            }
        }));
    }
    let mut cosigned = Vec::new();
    for task in tasks {
        if let Some(success) = task.await.unwrap() {
            cosigned.push(success);
        }
    }
    // The successes form one chain 0 → … → SIZE: no two built on the same checkpoint.
    cosigned.sort_by_key(|(_, new, _)| *new);
    let mut previous = 0;
    for (old, new, cosignature) in &cosigned {
        assert_eq!(
            *old, previous,
            "{new} was cosigned from {old}, not {previous}"
        );
        assert!(new > old);
        assert_cosigned(cosignature, &key, &log.note(*new));
        previous = *new;
    }
    assert_eq!(previous, SIZE);
    assert_eq!(witness.latest_size(ORIGIN).await, Some(SIZE));
}

#[tokio::test]
async fn cosigned_checkpoints_and_the_key_survive_a_restart() {
    let log = TestLog::auditlog(6);
    let witness = TestWitness::start(vec![log.signer.verifier_key()]).await;
    assert_eq!(witness.add(log.body(0, 4)).await.0, 200);
    let key = witness.verifier_key();
    let data_dir = witness.stop().await;

    let witness = TestWitness::start_in(data_dir, vec![log.signer.verifier_key()]).await;
    assert_eq!(witness.verifier_key(), key);
    let (status, content_type, body) = witness.add(log.body(0, 6)).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "4\n")
    );
    let (status, _, cosignature) = witness.add(log.body(4, 6)).await;
    assert_eq!(status, 200);
    assert_cosigned(&cosignature, &key, &log.note(6));
    witness.stop().await;
}

#[tokio::test]
async fn the_key_file_is_private_and_a_readable_one_is_refused() {
    let log = TestLog::auditlog(1);
    let data_dir = tempfile::tempdir().unwrap();
    // `auditlog witness key` before the first start gives the key the witness then uses.
    let printed = witness::verifier_key(data_dir.path(), WITNESS_NAME).unwrap();
    let witness = TestWitness::start_in(data_dir, vec![log.signer.verifier_key()]).await;
    assert_eq!(witness.verifier_key(), printed);
    let key_path: PathBuf = witness.data_dir.path().join(witness::KEY_FILE);
    let metadata = std::fs::metadata(&key_path).unwrap();
    assert_eq!(
        (metadata.permissions().mode() & 0o777, metadata.len()),
        (0o600, 32)
    );
    let data_dir = witness.stop().await;

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = WitnessConfig::new(
        data_dir.path().to_path_buf(),
        WITNESS_NAME,
        vec![log.signer.verifier_key()],
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = witness::run(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("chmod 600"), "{refused}");
}
