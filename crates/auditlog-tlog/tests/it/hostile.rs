//! Verifiers take attacker-controlled input: they answer false or an error, never panic.

use auditlog_tlog::{
    verify_bundle_csv, verify_consistency, verify_inclusion, CheckName, CheckpointSigner,
    ExportBundle, Manifest, MultiProof, ProofNode, BUNDLE_FORMAT_V1,
};
use serde_json::json;

const EXTREMES: [u64; 6] = [0, 1, 2, u64::MAX / 2 + 1, u64::MAX - 1, u64::MAX];

#[test]
fn proof_verifiers_never_panic() {
    let hash = [9u8; 32];
    for &size in &EXTREMES {
        for &index in &EXTREMES {
            for len in [0, 1, 5, 64, 65, 70] {
                let proof = vec![hash; len];
                assert!(!verify_inclusion(hash, index, size, &proof, [0u8; 32]));
                assert!(!verify_consistency(index, size, hash, [0u8; 32], &proof));
            }
            let multi = MultiProof {
                tree_size: size,
                nodes: vec![
                    ProofNode {
                        level: 200,
                        index: u64::MAX,
                        hash,
                    },
                    ProofNode {
                        level: 64,
                        index: 0,
                        hash,
                    },
                ],
            };
            let _ = multi.root(&[(index, hash)]);
            let _ = multi.root(&[]);
            let _ = multi.root(&[(index, hash), (index, hash)]);
        }
    }
    // A single-node proof of the whole tree proves no leaf, and adding a leaf breaks it.
    let whole = MultiProof {
        tree_size: u64::MAX,
        nodes: vec![ProofNode {
            level: 64,
            index: 0,
            hash: [1; 32],
        }],
    };
    assert_eq!(whole.root(&[]).unwrap(), [1; 32]);
    assert!(whole.root(&[(u64::MAX - 1, [2; 32])]).is_err());
}

#[test]
fn bundle_verifier_reports_garbage_without_panicking() {
    let signer = CheckpointSigner::from_seed("auditlog.example", [3u8; 32]).unwrap();
    let manifest = Manifest {
        format: BUNDLE_FORMAT_V1.into(),
        export_id: "x".into(),
        organization_id: "org".into(),
        filters: json!(null),
        range_start: String::new(),
        range_end: String::new(),
        row_count: u64::MAX,
        csv_sha256: "zz".into(),
        csv_formula_protection: false,
        checkpoint: "garbage\n\n— x AAAA\n".into(),
        leaves: vec![],
        completeness: None,
        proof: MultiProof {
            tree_size: u64::MAX,
            nodes: vec![],
        },
    };
    let bundle = ExportBundle::sign(manifest, &signer).unwrap();
    for csv in [
        &b""[..],
        b"\xff\xfe\x00",
        b"a,b\n1,2,3\n",
        b"id\n\"unterminated",
    ] {
        let report = verify_bundle_csv(csv, &bundle, &signer.verifier_key());
        assert!(!report.passed());
        assert!(report.check(CheckName::ManifestSignature).unwrap().passed);
        assert!(!report.check(CheckName::CheckpointSignature).unwrap().passed);
        assert!(!report.check(CheckName::RowCount).unwrap().passed);
    }
    let report = verify_bundle_csv(b"", &bundle, "not a key");
    assert_eq!(report.failed().len(), 6, "{report}");
}
