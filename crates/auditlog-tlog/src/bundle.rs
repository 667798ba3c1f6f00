//! Verifiable export bundles: the CSV plus a signed manifest that binds it to a checkpoint.
//!
//! ```text
//! {"manifest": {"format": "auditlog-export-bundle/v1", "export_id", "organization_id",
//!               "filters", "range_start", "range_end", "row_count", "csv_sha256" (hex),
//!               "csv_formula_protection", "checkpoint" (signed note text),
//!               "leaves": [{"sequence", "leaf_hash" (hex)}, …]   // in CSV row order
//!               "proof": {"tree_size", "nodes": [{"level", "index", "hash"}, …]}},
//!  "manifest_signature": base64(Ed25519(RFC 8785 JSON of "manifest"))}
//! ```
//! Rows are in export order ((occurred_at, id)), not sequence order, so `leaves` need not be
//! increasing; each sequence must appear once. `proof` is one [`MultiProof`] for all leaves.
//! [`crate::verify`] checks a bundle offline.

use crate::checkpoint::{open_checkpoint, parse_unverified, CheckpointError};
use crate::multiproof::MultiProof;
use crate::tree::{HashStore, TreeError};
use crate::{hex32, CheckpointSigner, Hash};
use auditlog_domain::canonical::canonical_bytes;
use base64::prelude::{Engine, BASE64_STANDARD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const BUNDLE_FORMAT: &str = "auditlog-export-bundle/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleLeaf {
    pub sequence: u64,
    #[serde(with = "hex32")]
    pub leaf_hash: Hash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub export_id: String,
    pub organization_id: String,
    pub filters: serde_json::Value,
    pub range_start: String,
    pub range_end: String,
    pub row_count: u64,
    pub csv_sha256: String,
    pub csv_formula_protection: bool,
    pub checkpoint: String,
    pub leaves: Vec<BundleLeaf>,
    pub proof: MultiProof,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportBundle {
    pub manifest: Manifest,
    pub manifest_signature: String,
}

/// What the exporter knows about an export, besides its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestInfo {
    pub export_id: String,
    pub organization_id: String,
    pub filters: serde_json::Value,
    pub range_start: String,
    pub range_end: String,
    pub csv_formula_protection: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("tree: {0}")]
    Tree(#[from] TreeError),
    #[error("the stored hashes do not lead to the checkpoint root: {0}")]
    RootMismatch(String),
    #[error("bundle JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The bytes the manifest signature covers: the manifest's RFC 8785 canonical JSON.
pub fn manifest_bytes(manifest: &Manifest) -> Result<Vec<u8>, BundleError> {
    Ok(canonical_bytes(&serde_json::to_value(manifest)?))
}

/// SHA-256 of the CSV, hex, as the manifest lists it.
pub fn csv_sha256_hex(csv_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(csv_bytes))
}

impl ExportBundle {
    /// Builds and signs the bundle of an export: `leaves` in CSV row order, `csv_sha256` of the
    /// CSV as uploaded, `checkpoint` a note signed by `signer` whose tree holds every leaf. The
    /// proof is read from `store` in one call and checked against the checkpoint root.
    pub fn build(
        info: ManifestInfo,
        csv_sha256: Hash,
        leaves: Vec<BundleLeaf>,
        checkpoint: String,
        store: &impl HashStore,
        signer: &CheckpointSigner,
    ) -> Result<ExportBundle, BundleError> {
        let origin = parse_unverified(&checkpoint)
            .ok_or(CheckpointError::MalformedCheckpoint)?
            .origin;
        let head = open_checkpoint(&checkpoint, &signer.verifier_key_for(&origin)?)?;
        let sequences: Vec<u64> = leaves.iter().map(|l| l.sequence).collect();
        let proof = MultiProof::prove(head.size, &sequences, store)?;
        let pairs: Vec<(u64, Hash)> = leaves.iter().map(|l| (l.sequence, l.leaf_hash)).collect();
        match proof.root(&pairs) {
            Ok(root) if root == head.root => {}
            Ok(_) => return Err(BundleError::RootMismatch("a leaf hash differs".into())),
            Err(e) => return Err(BundleError::RootMismatch(e)),
        }
        let manifest = Manifest {
            format: BUNDLE_FORMAT.into(),
            export_id: info.export_id,
            organization_id: info.organization_id,
            filters: info.filters,
            range_start: info.range_start,
            range_end: info.range_end,
            row_count: leaves.len() as u64,
            csv_sha256: hex::encode(csv_sha256),
            csv_formula_protection: info.csv_formula_protection,
            checkpoint,
            leaves,
            proof,
        };
        Self::sign(manifest, signer)
    }

    /// Signs `manifest` with the deployment key.
    pub fn sign(
        manifest: Manifest,
        signer: &CheckpointSigner,
    ) -> Result<ExportBundle, BundleError> {
        let signature = signer.sign_raw(&manifest_bytes(&manifest)?)?;
        Ok(ExportBundle {
            manifest,
            manifest_signature: BASE64_STANDARD.encode(signature),
        })
    }

    pub fn to_json(&self) -> Result<String, BundleError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub fn from_json(bytes: &[u8]) -> Result<ExportBundle, BundleError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}
