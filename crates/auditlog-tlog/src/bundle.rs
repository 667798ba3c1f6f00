//! Verifiable export bundles: the CSV plus a signed manifest that binds it to a checkpoint.
//!
//! ```text
//! {"manifest": {"format": "auditlog-export-bundle/v2", "export_id", "organization_id",
//!               "filters", "range_start", "range_end", "row_count", "csv_sha256" (hex),
//!               "csv_formula_protection", "checkpoint" (signed note text),
//!               "leaves": [{"sequence", "leaf_hash" (hex)}, …]   // in CSV row order
//!               "completeness": {…},                              // v2 only, see below
//!               "proof": {"tree_size", "nodes": [{"level", "index", "hash"}, …]}},
//!  "manifest_signature": base64(Ed25519(RFC 8785 JSON of "manifest"))}
//! ```
//! Rows are in export order ((occurred_at, id)), not sequence order, so `leaves` need not be
//! increasing; each sequence must appear once. `proof` is one [`MultiProof`] for all leaves,
//! and in v2 for the omitted events' leaves as well. [`crate::verify`] checks a bundle offline.
//!
//! Completeness (v2): the rows' sequence span `first_sequence..=last_sequence`, and every
//! sequence in it that is not exported, listed once in `omitted` (sequence order) with its leaf
//! hash and either its canonical event text (to recompute the leaf and evaluate the export's
//! filters on it) or, for an event redacted by retention, its `redacted_at`. With more than
//! [`MAX_OMITTED_EVENTS`] omitted events (or none exported), `proven` is false, `omitted` is
//! empty and `reason` says why. v1 bundles have no completeness section.

use crate::checkpoint::{open_checkpoint, parse_unverified, CheckpointError};
use crate::multiproof::MultiProof;
use crate::tree::{HashStore, TreeError};
use crate::{hex32, CheckpointSigner, Hash};
use auditlog_domain::canonical::canonical_bytes;
use base64::prelude::{Engine, BASE64_STANDARD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format of the bundles built now (with a completeness section).
pub const BUNDLE_FORMAT: &str = "auditlog-export-bundle/v2";
/// Bundles from before completeness; still verified, with completeness "not claimed".
pub const BUNDLE_FORMAT_V1: &str = "auditlog-export-bundle/v1";
/// Most omitted events one bundle lists; a span with more is not proven complete (the
/// bundle, and its preparation's memory, would grow with the log rather than the export).
pub const MAX_OMITTED_EVENTS: usize = 50_000;

/// An event in the exported rows' sequence span that the export does not contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExportBundleOmittedEvent)]
pub struct OmittedEvent {
    pub sequence: u64,
    /// Leaf hash, hex.
    #[serde(with = "hex32")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: Hash,
    /// The event's canonical JSON text (auditlog-domain canonical form, version 1): the leaf
    /// hash is SHA-256(0x00 ‖ its UTF-8 bytes). Absent for an event redacted by retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_event: Option<String>,
    /// When retention redacted the event (RFC 3339); present exactly when `canonical_event`
    /// is absent. Such an event cannot be checked against the export's filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_at: Option<String>,
}

/// What a v2 bundle claims about the events its export left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExportBundleCompleteness)]
pub struct Completeness {
    /// Whether `omitted` lists every sequence of the span that is not exported.
    pub proven: bool,
    /// Why completeness is not proven (only when `proven` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The smallest exported sequence (absent when no row is exported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sequence: Option<u64>,
    /// The largest exported sequence (absent when no row is exported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sequence: Option<u64>,
    /// In sequence order; empty when not proven.
    pub omitted: Vec<OmittedEvent>,
}

impl Completeness {
    /// The span `first..=last` proven: `omitted` lists every sequence in it not exported.
    pub fn proven(first: u64, last: u64, omitted: Vec<OmittedEvent>) -> Completeness {
        Completeness {
            proven: true,
            reason: None,
            first_sequence: Some(first),
            last_sequence: Some(last),
            omitted,
        }
    }

    /// Not proven, for `reason`; the span when there is one.
    pub fn unproven(span: Option<(u64, u64)>, reason: String) -> Completeness {
        Completeness {
            proven: false,
            reason: Some(reason),
            first_sequence: span.map(|(first, _)| first),
            last_sequence: span.map(|(_, last)| last),
            omitted: Vec::new(),
        }
    }

    /// The omitted events' (sequence, leaf hash), which the proof covers with the rows'.
    pub fn omitted_leaves(&self) -> impl Iterator<Item = (u64, Hash)> + '_ {
        self.omitted.iter().map(|o| (o.sequence, o.leaf_hash))
    }
}

/// The sequence span of an export's rows and the sequences in it that were not exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanOmissions {
    /// No row was exported: there is no span.
    NoRows,
    /// `omitted`: every sequence of `first..=last` not exported, in order.
    Listed {
        first: u64,
        last: u64,
        omitted: Vec<u64>,
    },
    /// More than [`MAX_OMITTED_EVENTS`] omitted: only their number.
    TooMany { first: u64, last: u64, omitted: u64 },
}

/// The span of `exported` (sorted in place; distinct) and its omissions.
pub fn span_omissions(exported: &mut [u64]) -> SpanOmissions {
    exported.sort_unstable();
    let (Some(&first), Some(&last)) = (exported.first(), exported.last()) else {
        return SpanOmissions::NoRows;
    };
    let count = last - first + 1 - exported.len() as u64;
    if count > MAX_OMITTED_EVENTS as u64 {
        return SpanOmissions::TooMany {
            first,
            last,
            omitted: count,
        };
    }
    let mut omitted = Vec::with_capacity(count as usize);
    for pair in exported.windows(2) {
        omitted.extend(pair[0] + 1..pair[1]);
    }
    SpanOmissions::Listed {
        first,
        last,
        omitted,
    }
}

/// One CSV row's leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleLeaf {
    pub sequence: u64,
    /// Leaf hash, hex.
    #[serde(with = "hex32")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: Hash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExportBundleManifest)]
pub struct Manifest {
    /// `auditlog-export-bundle/v2` (v1: before completeness)
    #[schema(pattern = "^auditlog-export-bundle/v[12]$")]
    pub format: String,
    pub export_id: String,
    pub organization_id: String,
    /// The export's filters as stored.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    pub range_start: String,
    pub range_end: String,
    pub row_count: u64,
    /// SHA-256 of the CSV file, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub csv_sha256: String,
    pub csv_formula_protection: bool,
    /// The signed checkpoint the leaves are proven against.
    pub checkpoint: String,
    /// One per CSV row, in row order.
    pub leaves: Vec<BundleLeaf>,
    /// v2: the omitted events of the rows' sequence span (absent in v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
    /// One multi-proof for all leaves and omitted events' leaves (nodes in depth-first,
    /// left-to-right order).
    pub proof: MultiProof,
}

/// A ready export's verifiable bundle; check it offline with `auditlog verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportBundle {
    pub manifest: Manifest,
    /// Ed25519 signature (base64) over the RFC 8785 JSON of `manifest`, by the log key.
    #[schema(content_encoding = "base64")]
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
    #[error("bundle format: {0}")]
    Format(String),
}

/// The bytes the manifest signature covers: the manifest's RFC 8785 canonical JSON.
pub fn manifest_bytes(manifest: &Manifest) -> Result<Vec<u8>, BundleError> {
    Ok(canonical_bytes(&serde_json::to_value(manifest)?))
}

/// The canonical bytes of a manifest split around its leaves, so a bundle of any size can be
/// signed and served while its leaves stream: the manifest's canonical bytes are
/// `prefix ‖ leaf₀ ‖ "," ‖ leaf₁ ‖ … ‖ suffix`, each leaf as [`write_canonical_leaf`] writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestFrame {
    pub prefix: Vec<u8>,
    pub suffix: Vec<u8>,
}

impl ManifestFrame {
    /// The frame of `manifest`, whose `leaves` must be empty (they are what goes between) and
    /// whose `row_count` is already the number of leaves that will.
    pub fn of(manifest: &Manifest) -> Result<ManifestFrame, BundleError> {
        if !manifest.leaves.is_empty() {
            return Err(BundleError::Format(
                "a frame is cut from a manifest without leaves".into(),
            ));
        }
        let bytes = manifest_bytes(manifest)?;
        let marker: &[u8] = b"\"leaves\":[]";
        let at = bytes
            .windows(marker.len())
            .position(|window| window == marker)
            .ok_or_else(|| BundleError::Format("no leaves member in the manifest".into()))?;
        let split = at + marker.len() - 1;
        Ok(ManifestFrame {
            prefix: bytes[..split].to_vec(),
            suffix: bytes[split..].to_vec(),
        })
    }
}

/// One leaf as RFC 8785 writes it inside a manifest: `{"leaf_hash":"HEX","sequence":N}`.
pub fn write_canonical_leaf(sequence: u64, leaf_hash: &Hash, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"leaf_hash\":\"");
    let mut hex_digits = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the hash.
    let _ = hex::encode_to_slice(leaf_hash, &mut hex_digits);
    out.extend_from_slice(&hex_digits);
    out.extend_from_slice(b"\",\"sequence\":");
    out.extend_from_slice(sequence.to_string().as_bytes());
    out.push(b'}');
}

/// SHA-256 of the CSV, hex, as the manifest lists it.
pub fn csv_sha256_hex(csv_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(csv_bytes))
}

impl ExportBundle {
    /// Builds and signs the bundle of an export: `leaves` in CSV row order, `csv_sha256` of the
    /// CSV as uploaded, `completeness` (v2; `None` builds a v1 bundle), `checkpoint` a note
    /// signed by `signer` whose tree holds every leaf. The proof of the leaves and omitted
    /// events is read from `store` in one call and checked against the checkpoint root.
    pub fn build(
        info: ManifestInfo,
        csv_sha256: Hash,
        leaves: Vec<BundleLeaf>,
        completeness: Option<Completeness>,
        checkpoint: String,
        store: &impl HashStore,
        signer: &CheckpointSigner,
    ) -> Result<ExportBundle, BundleError> {
        let origin = parse_unverified(&checkpoint)
            .ok_or(CheckpointError::MalformedCheckpoint)?
            .origin;
        let head = open_checkpoint(&checkpoint, &signer.verifier_key_for(&origin)?)?;
        let mut pairs: Vec<(u64, Hash)> =
            leaves.iter().map(|l| (l.sequence, l.leaf_hash)).collect();
        pairs.extend(completeness.iter().flat_map(Completeness::omitted_leaves));
        let sequences: Vec<u64> = pairs.iter().map(|(sequence, _)| *sequence).collect();
        let proof = MultiProof::prove(head.size, &sequences, store)?;
        match proof.root(&pairs) {
            Ok(root) if root == head.root => {}
            Ok(_) => return Err(BundleError::RootMismatch("a leaf hash differs".into())),
            Err(e) => return Err(BundleError::RootMismatch(e)),
        }
        let format = match completeness {
            Some(_) => BUNDLE_FORMAT,
            None => BUNDLE_FORMAT_V1,
        };
        let manifest = Manifest {
            format: format.into(),
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
            completeness,
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

#[cfg(test)]
mod frame_tests {
    use super::*;

    fn manifest(leaves: Vec<BundleLeaf>, row_count: u64) -> Manifest {
        Manifest {
            format: BUNDLE_FORMAT.into(),
            export_id: "audit_log_export_1".into(),
            organization_id: "org_1".into(),
            filters: serde_json::json!({"actions": ["a\"leaves\":[]"], "range_start": 1}),
            range_start: "2026-01-01T00:00:00.000Z".into(),
            range_end: "2026-02-01T00:00:00.000Z".into(),
            row_count,
            csv_sha256: "ab".repeat(32),
            csv_formula_protection: true,
            checkpoint: "auditlog/org_1\n3\nAAAA\n\n— sig\n".into(),
            leaves,
            // Event text holding the marker the frame is cut at (escaped, as every string is),
            // and a redacted event.
            completeness: Some(Completeness::proven(
                0,
                9_007_199_254_000,
                vec![
                    OmittedEvent {
                        sequence: 1,
                        leaf_hash: [3; 32],
                        canonical_event: Some("{\"leaves\":[]}".into()),
                        redacted_at: None,
                    },
                    OmittedEvent {
                        sequence: 2,
                        leaf_hash: [4; 32],
                        canonical_event: None,
                        redacted_at: Some("2026-01-01T00:00:00.000Z".into()),
                    },
                ],
            )),
            proof: MultiProof {
                tree_size: 9,
                nodes: vec![],
            },
        }
    }

    #[test]
    fn a_framed_manifest_is_byte_identical_and_signs_the_same() {
        let leaves: Vec<BundleLeaf> = (0..50u64)
            .map(|i| BundleLeaf {
                sequence: i * 977 + (i % 3) * 9_007_199_254,
                leaf_hash: Sha256::digest(i.to_be_bytes()).into(),
            })
            .collect();
        let whole = manifest_bytes(&manifest(leaves.clone(), 50)).unwrap();
        let frame = ManifestFrame::of(&manifest(Vec::new(), 50)).unwrap();
        let mut framed = frame.prefix.clone();
        for (i, leaf) in leaves.iter().enumerate() {
            if i > 0 {
                framed.push(b',');
            }
            write_canonical_leaf(leaf.sequence, &leaf.leaf_hash, &mut framed);
        }
        framed.extend_from_slice(&frame.suffix);
        assert_eq!(
            String::from_utf8(framed.clone()).unwrap(),
            String::from_utf8(whole.clone()).unwrap()
        );

        let signer = CheckpointSigner::generate("auditlog").unwrap();
        let streamed = signer
            .sign_streamed(|digest| {
                for chunk in framed.chunks(7) {
                    digest.update(chunk);
                }
            })
            .unwrap();
        assert_eq!(streamed, signer.sign_raw(&whole).unwrap());
    }

    #[test]
    fn span_omissions_list_the_gaps_between_exported_sequences() {
        assert_eq!(span_omissions(&mut []), SpanOmissions::NoRows);
        assert_eq!(
            span_omissions(&mut [9, 4, 6, 5, 12]),
            SpanOmissions::Listed {
                first: 4,
                last: 12,
                omitted: vec![7, 8, 10, 11],
            }
        );
        assert_eq!(
            span_omissions(&mut [3]),
            SpanOmissions::Listed {
                first: 3,
                last: 3,
                omitted: vec![],
            }
        );
        let at_limit = MAX_OMITTED_EVENTS as u64 + 1;
        assert!(matches!(
            span_omissions(&mut [0, at_limit]),
            SpanOmissions::Listed { omitted, .. } if omitted.len() == MAX_OMITTED_EVENTS
        ));
        assert_eq!(
            span_omissions(&mut [at_limit + 1, 0]),
            SpanOmissions::TooMany {
                first: 0,
                last: at_limit + 1,
                omitted: at_limit,
            }
        );
    }
}
