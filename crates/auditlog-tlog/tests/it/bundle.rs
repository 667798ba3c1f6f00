//! Export bundles: a good one verifies; each tampering is detected and named.

use crate::support;

use auditlog_tlog::CheckName::*;
use auditlog_tlog::{
    checkpoint_origin, csv_sha256_hex, tree_root, verify_bundle_csv, BundleLeaf, CheckName,
    CheckpointSigner, ExportBundle, ManifestInfo, MemoryHashStore,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{awkward_bodies, export_csv, plain_body, store_event, Stored};

const DEPLOYMENT: &str = "auditlog.example";
const ORG_A: &str = "org_01AAAA";
const ORG_B: &str = "org_01BBBB";

pub(crate) struct Log {
    pub events: Vec<(u64, Stored)>,
    pub store: MemoryHashStore,
}

impl Log {
    pub fn new(org: &str, plain: u64, awkward: bool) -> Log {
        let mut bodies: Vec<_> = (0..plain).map(|i| plain_body(org, i)).collect();
        if awkward {
            for (k, body) in awkward_bodies(org).into_iter().enumerate() {
                bodies.insert(3 + 5 * k, body);
            }
        }
        let mut store = MemoryHashStore::new();
        let events = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                let event = store_event(&format!("audit_log_event_{org}_{i:04}"), body);
                (store.append(event.leaf).unwrap(), event)
            })
            .collect();
        Log { events, store }
    }

    pub fn checkpoint(&self, signer: &CheckpointSigner, org: &str) -> String {
        let size = self.store.size();
        let root = tree_root(size, &self.store).unwrap();
        signer
            .sign_checkpoint(&checkpoint_origin(DEPLOYMENT, org), size, root)
            .unwrap()
    }

    /// Every event but the signed-out ones, in export order (occurred_at, id).
    fn export(&self) -> Vec<(u64, Stored)> {
        let mut rows: Vec<_> = self
            .events
            .iter()
            .filter(|(_, e)| e.payload["action"] != "user.signed_out")
            .cloned()
            .collect();
        rows.sort_by(|a, b| (&a.1.occurred_at, &a.1.id).cmp(&(&b.1.occurred_at, &b.1.id)));
        rows
    }
}

fn info(org: &str) -> ManifestInfo {
    ManifestInfo {
        export_id: "audit_log_export_01TEST".into(),
        organization_id: org.into(),
        filters: json!({"actions": ["user.signed_in", "document.updated"], "actors": []}),
        range_start: "2026-01-01T00:00:00.000Z".into(),
        range_end: "2026-04-01T00:00:00.000Z".into(),
        csv_formula_protection: true,
    }
}

fn csv_of(rows: &[(u64, Stored)]) -> Vec<u8> {
    export_csv(&rows.iter().map(|(_, e)| e).collect::<Vec<_>>(), true)
}

fn bundle_for(
    rows: &[(u64, Stored)],
    log: &Log,
    checkpoint: String,
    signer: &CheckpointSigner,
) -> (Vec<u8>, ExportBundle) {
    let csv = csv_of(rows);
    let leaves = rows
        .iter()
        .map(|(sequence, e)| BundleLeaf {
            sequence: *sequence,
            leaf_hash: e.leaf,
        })
        .collect();
    let sha: [u8; 32] = Sha256::digest(&csv).into();
    let bundle = ExportBundle::build(
        info(ORG_A),
        sha,
        leaves,
        None,
        checkpoint,
        &log.store,
        signer,
    )
    .unwrap();
    (csv, bundle)
}

struct Fixture {
    signer: CheckpointSigner,
    a: Log,
    b: Log,
    rows: Vec<(u64, Stored)>,
    csv: Vec<u8>,
    bundle: ExportBundle,
}

fn fixture() -> Fixture {
    let signer = CheckpointSigner::from_seed(DEPLOYMENT, [1u8; 32]).unwrap();
    let a = Log::new(ORG_A, 60, true);
    let b = Log::new(ORG_B, 30, false);
    let rows = a.export();
    let (csv, bundle) = bundle_for(&rows, &a, a.checkpoint(&signer, ORG_A), &signer);
    Fixture {
        signer,
        a,
        b,
        rows,
        csv,
        bundle,
    }
}

fn failed(csv: &[u8], bundle: &ExportBundle, vkey: &str) -> Vec<CheckName> {
    let report = verify_bundle_csv(csv, bundle, vkey);
    println!("{report}");
    report.failed()
}

#[test]
fn a_good_bundle_verifies_every_check() {
    let f = fixture();
    assert!(f.rows.len() > 30);
    let sequences: Vec<u64> = f
        .bundle
        .manifest
        .leaves
        .iter()
        .map(|l| l.sequence)
        .collect();
    assert!(
        sequences.windows(2).any(|w| w[0] > w[1]),
        "export order is not sequence order"
    );
    let report = verify_bundle_csv(&f.csv, &f.bundle, &f.signer.verifier_key());
    assert!(report.passed(), "{report}");
    // Nine checks pass; completeness, which a v1 bundle does not claim, is a warning.
    assert_eq!(report.checks.len(), 10);
    assert_eq!(report.warnings(), [CheckName::Completeness]);
    assert!(report
        .to_string()
        .contains("WARN  completeness: not claimed"));
    // The per-log key works too, and the bundle survives JSON.
    let json = f.bundle.to_json().unwrap();
    let again = ExportBundle::from_json(json.as_bytes()).unwrap();
    assert_eq!(again, f.bundle);
    assert!(verify_bundle_csv(&f.csv, &again, &f.signer.verifier_key()).passed());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["manifest"]["format"], "auditlog-export-bundle/v1");
    assert_eq!(value["manifest"]["csv_sha256"], csv_sha256_hex(&f.csv));
    // The multi-proof is smaller than per-leaf paths would be.
    let per_leaf: usize = sequences
        .iter()
        .map(|&s| {
            auditlog_tlog::inclusion_proof(f.a.store.size(), s, &f.a.store)
                .unwrap()
                .len()
        })
        .sum();
    assert!(f.bundle.manifest.proof.nodes.len() * 2 < per_leaf);
    let report_json = serde_json::to_value(&report).unwrap();
    assert_eq!(report_json["checks"][1]["name"], "manifest_signature");
    assert_eq!(report_json["checks"][1]["passed"], true);
}

#[test]
fn one_changed_byte_in_a_row_is_named() {
    let f = fixture();
    let text = String::from_utf8(f.csv.clone()).unwrap();
    let at = text.find("User, ").unwrap() + 5;
    let mut csv = f.csv.clone();
    csv[at] = b';';
    assert_eq!(
        failed(&csv, &f.bundle, &f.signer.verifier_key()),
        [CsvSha256, RowLeaves]
    );
}

#[test]
fn dropped_reordered_and_foreign_rows_are_named() {
    let f = fixture();
    let vkey = f.signer.verifier_key();
    let narrow = |i: usize| f.rows[i].1.payload["targets"].as_array().unwrap().len() < 3;
    let k = (1..f.rows.len())
        .find(|&i| narrow(i) && narrow(i + 1))
        .unwrap();

    let mut dropped = f.rows.clone();
    dropped.remove(k);
    assert_eq!(
        failed(&csv_of(&dropped), &f.bundle, &vkey),
        [CsvSha256, RowCount, RowLeaves]
    );

    let mut reordered = f.rows.clone();
    reordered.swap(k, k + 1);
    assert_eq!(
        failed(&csv_of(&reordered), &f.bundle, &vkey),
        [CsvSha256, RowLeaves]
    );

    let mut foreign = f.rows.clone();
    foreign[k] = f.b.events[5].clone();
    assert_eq!(
        failed(&csv_of(&foreign), &f.bundle, &vkey),
        [CsvSha256, RowLeaves]
    );
    // Even with B's row carrying A's event id, the organization makes the leaf differ.
    foreign[k].1.payload["id"] = f.rows[k].1.payload["id"].clone();
    assert_eq!(
        failed(&csv_of(&foreign), &f.bundle, &vkey),
        [CsvSha256, RowLeaves]
    );
}

#[test]
fn forged_checkpoints_are_named() {
    let f = fixture();
    let vkey = f.signer.verifier_key();
    // An attacker with their own key forges both the checkpoint and the manifest.
    let attacker = CheckpointSigner::from_seed(DEPLOYMENT, [66u8; 32]).unwrap();
    let (csv, forged) = bundle_for(&f.rows, &f.a, f.a.checkpoint(&attacker, ORG_A), &attacker);
    assert_eq!(
        failed(&csv, &forged, &vkey),
        [ManifestSignature, CheckpointSignature, Inclusion]
    );
    // A manifest signed by us around a checkpoint signed by someone else.
    let mut manifest = f.bundle.manifest.clone();
    manifest.checkpoint = f.a.checkpoint(&attacker, ORG_A);
    let mixed = ExportBundle::sign(manifest, &f.signer).unwrap();
    assert_eq!(
        failed(&f.csv, &mixed, &vkey),
        [CheckpointSignature, Inclusion]
    );
    // A genuine checkpoint of another organization's log.
    let mut manifest = f.bundle.manifest.clone();
    manifest.checkpoint = f.b.checkpoint(&f.signer, ORG_B);
    let other_log = ExportBundle::sign(manifest, &f.signer).unwrap();
    assert_eq!(
        failed(&f.csv, &other_log, &vkey),
        [CheckpointOrigin, Inclusion]
    );
    // A checkpoint whose root was edited after signing.
    let mut manifest = f.bundle.manifest.clone();
    let root_line = manifest.checkpoint.lines().nth(2).unwrap().to_string();
    manifest.checkpoint =
        manifest
            .checkpoint
            .replacen(&root_line, &format!("{}=", "A".repeat(43)), 1);
    let edited = ExportBundle::sign(manifest, &f.signer).unwrap();
    assert_eq!(
        failed(&f.csv, &edited, &vkey),
        [CheckpointSignature, Inclusion]
    );
}

#[test]
fn a_tampered_manifest_is_named() {
    let f = fixture();
    let vkey = f.signer.verifier_key();
    let mut bundle = f.bundle.clone();
    bundle.manifest.range_end = "2027-01-01T00:00:00.000Z".into();
    assert_eq!(failed(&f.csv, &bundle, &vkey), [ManifestSignature]);
    let mut bundle = f.bundle.clone();
    bundle.manifest.filters = json!({});
    assert_eq!(failed(&f.csv, &bundle, &vkey), [ManifestSignature]);
    let mut bundle = f.bundle.clone();
    bundle.manifest.leaves[2].leaf_hash[0] ^= 1;
    assert_eq!(
        failed(&f.csv, &bundle, &vkey),
        [ManifestSignature, RowLeaves, Inclusion]
    );
    let mut bundle = f.bundle.clone();
    bundle.manifest_signature = "AAAA".into();
    assert_eq!(failed(&f.csv, &bundle, &vkey), [ManifestSignature]);
    let mut bundle = f.bundle.clone();
    bundle.manifest.format = "auditlog-export-bundle/v0".into();
    assert_eq!(failed(&f.csv, &bundle, &vkey), [Format, ManifestSignature]);
    // Wrong trusted key: nothing signed verifies.
    let other = CheckpointSigner::from_seed(DEPLOYMENT, [2u8; 32]).unwrap();
    assert_eq!(
        failed(&f.csv, &f.bundle, &other.verifier_key()),
        [ManifestSignature, CheckpointSignature, Inclusion]
    );
    // Unknown manifest fields are refused rather than left unsigned.
    let mut value = serde_json::to_value(&f.bundle).unwrap();
    value["manifest"]["note"] = json!("added");
    assert!(ExportBundle::from_json(value.to_string().as_bytes()).is_err());
}

#[test]
fn a_rewritten_event_fails_inclusion_even_when_the_exporter_re_signs() {
    // Someone rewrites an event in the database after its leaf entered the log, then exports:
    // the CSV and its leaf agree, the manifest is signed, but the checkpoint root disagrees.
    let f = fixture();
    let mut rows = f.rows.clone();
    let k = 4;
    let mut payload = rows[k].1.payload.clone();
    payload["actor"]["id"] = json!("someone_else");
    let bytes = auditlog_domain::canonical::canonical_bytes(&payload);
    rows[k].1.payload = payload;
    rows[k].1.leaf = auditlog_domain::canonical::leaf_hash(&bytes);
    let csv = csv_of(&rows);
    let mut manifest = f.bundle.manifest.clone();
    manifest.leaves[k].leaf_hash = rows[k].1.leaf;
    manifest.csv_sha256 = csv_sha256_hex(&csv);
    let resigned = ExportBundle::sign(manifest, &f.signer).unwrap();
    assert_eq!(
        failed(&csv, &resigned, &f.signer.verifier_key()),
        [Inclusion]
    );
    // The honest builder refuses to make such a bundle at all.
    let leaves = rows
        .iter()
        .map(|(sequence, e)| BundleLeaf {
            sequence: *sequence,
            leaf_hash: e.leaf,
        })
        .collect();
    let sha: [u8; 32] = Sha256::digest(&csv).into();
    let checkpoint = f.a.checkpoint(&f.signer, ORG_A);
    assert!(ExportBundle::build(
        info(ORG_A),
        sha,
        leaves,
        None,
        checkpoint,
        &f.a.store,
        &f.signer
    )
    .is_err());
}

#[test]
fn duplicated_sequences_are_named() {
    let f = fixture();
    let mut rows = f.rows.clone();
    rows.insert(3, rows[2].clone());
    let csv = csv_of(&rows);
    let mut manifest = f.bundle.manifest.clone();
    manifest.leaves.insert(3, manifest.leaves[2].clone());
    manifest.row_count += 1;
    manifest.csv_sha256 = csv_sha256_hex(&csv);
    let bundle = ExportBundle::sign(manifest, &f.signer).unwrap();
    assert_eq!(
        failed(&csv, &bundle, &f.signer.verifier_key()),
        [Sequences, Inclusion]
    );
}
