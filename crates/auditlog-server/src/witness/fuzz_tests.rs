//! Garbled add-checkpoint bodies through the whole HTTP path: never a panic, never a 5xx.

use super::*;
use auditlog_tlog::cosignature::{AddCheckpoint, WitnessSigner};
use auditlog_tlog::{consistency_proof, tree_root, CheckpointSigner, MemoryHashStore};
use axum::body::Body;
use axum::http::Request;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tower::ServiceExt;

const ORIGIN: &str = "log.example/org_1";

/// Valid bodies to garble: the first checkpoint, and growth 4 → 9 with its proof.
fn valid_bodies(log: &CheckpointSigner) -> Vec<String> {
    let mut tree = MemoryHashStore::new();
    for leaf in 0..9u8 {
        tree.append([leaf; 32]).unwrap();
    }
    let note = |size| {
        log.sign_checkpoint(ORIGIN, size, tree_root(size, &tree).unwrap())
            .unwrap()
    };
    vec![
        AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: note(4),
        }
        .to_body(),
        AddCheckpoint {
            old_size: 4,
            proof: consistency_proof(4, 9, &tree).unwrap(),
            checkpoint: note(9),
        }
        .to_body(),
    ]
}

fn garble(rng: &mut StdRng, body: &[u8]) -> Vec<u8> {
    let mut bytes = body.to_vec();
    for _ in 0..rng.random_range(1..4) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..6) {
            0 if at < bytes.len() => bytes[at] = rng.random(),
            1 => bytes.truncate(at),
            2 => bytes.insert(at, b'\n'),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => bytes.splice(at..at, "— ".bytes()).for_each(drop),
            _ => bytes.insert(at, rng.random()),
        }
    }
    bytes
}

#[tokio::test]
async fn garbled_bodies_never_panic_nor_get_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = CheckpointSigner::from_seed("log.example", [1; 32]).unwrap();
    let witness = Arc::new(Witness {
        signer: WitnessSigner::from_seed("w.example", [2; 32]).unwrap(),
        logs: TrustedLogs::parse(&[log.verifier_key()]).unwrap(),
        store: WitnessStore::open(dir.path()).await.unwrap(),
    });
    let app = router(witness);
    let bodies = valid_bodies(&log);
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..1500 {
        let body = match round % 10 {
            // Pure noise too, not only near-valid bodies.
            0 => (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect(),
            _ => garble(&mut rng, bodies[round % bodies.len()].as_bytes()),
        };
        let request = Request::post("/add-checkpoint")
            .body(Body::from(body.clone()))
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert!(
            status.is_success() || status.is_client_error(),
            "{status} for {:?}",
            String::from_utf8_lossy(&body)
        );
        *statuses.entry(status.as_u16()).or_default() += 1;
    }
    // The garbling reaches past the parser: signatures and proofs get checked too.
    assert!(
        statuses.contains_key(&400) && statuses.contains_key(&403),
        "{statuses:?}"
    );
}
