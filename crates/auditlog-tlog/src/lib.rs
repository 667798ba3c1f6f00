//! Tamper evidence for `auditlog`: every organization's events form an append-only
//! Merkle log in the Certificate Transparency form, and every export can be verified offline.
//!
//! Pure: no IO, no database. Storage is the [`HashStore`] trait; the server persists what
//! [`hashes_to_store`] returns per organization, keyed by (organization, stored index).
//!
//! - [`tree`]: appends (O(log n) new stored hashes per leaf, `tlog_tiles`' port of Go's
//!   `golang.org/x/mod/sumdb/tlog`), tree roots, RFC 9162 inclusion and consistency proofs and
//!   their verifiers.
//! - [`multiproof`]: one compact proof for many leaves (each shared node appears once).
//! - [`checkpoint`]: C2SP tlog-checkpoint signed notes with one Ed25519 deployment key.
//! - [`cosignature`]: witness cosignatures (C2SP tlog-cosignature) and witness policies.
//! - [`csv_leaf`]: rebuilds an event's canonical bytes and leaf hash from an exported CSV row.
//! - [`bundle`]: the signed export bundle (manifest, checkpoint, leaves, multi-proof).
//! - [`verify`]: its offline verifier, which names every check it ran, including the
//!   completeness checks of v2 bundles (`completeness`).
//!
//! Hashes: leaf = SHA-256(0x00 ‖ canonical event bytes), node = SHA-256(0x01 ‖ left ‖ right)
//! (RFC 9162 §2.1). The leaf index is the event's per-organization sequence number.

pub mod bundle;
pub mod checkpoint;
mod completeness;
pub mod cosignature;
pub mod csv_leaf;
pub mod multiproof;
pub mod tiles;
pub mod tree;
pub mod verify;

pub use bundle::{
    csv_sha256_hex, manifest_bytes, span_omissions, write_canonical_leaf, BundleError, BundleLeaf,
    Completeness, ExportBundle, Manifest, ManifestFrame, ManifestInfo, OmittedEvent, SpanOmissions,
    BUNDLE_FORMAT, BUNDLE_FORMAT_V1, MAX_OMITTED_EVENTS,
};
pub use checkpoint::{
    checkpoint_origin, open_checkpoint, verifier_key_name, Checkpoint, CheckpointError,
    CheckpointSigner,
};
pub use csv_leaf::{leaf_from_csv_row, CsvLayout, CsvLeafError};
pub use multiproof::{MultiProof, ProofNode};
pub use tree::{
    consistency_proof, hashes_to_store, hashes_to_store_batch, inclusion_proof, tree_root,
    verify_consistency, verify_inclusion, HashStore, MemoryHashStore, MissingHash, TreeError,
    EMPTY_ROOT,
};
pub use verify::{verify_bundle, verify_bundle_csv, BundleReport, Check, CheckName};

/// A SHA-256 hash: a leaf, an interior node or a tree root.
pub type Hash = [u8; 32];

/// Serde as lowercase hex, for the 32-byte hashes in bundle JSON.
pub(crate) mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|e| D::Error::custom(format!("expected 64 hex digits: {e}")))?;
        Ok(out)
    }
}
