//! Tamper evidence on the server: each organization's events form an append-only
//! RFC 9162 Merkle log (leaf index = sequence number) kept as stored hashes in the database,
//! signed C2SP checkpoints, proofs over the API, and verifiable export bundles. The pure parts
//! (hashing, proofs, notes, bundles) are `auditlog-tlog`; this module feeds them the store.
//!
//! Why two nodes never sign inconsistent checkpoints: a tree grows only by compare-and-set on
//! its stored size, with the new leaves' hashes in the same transaction
//! ([`auditlog_store::TlogStore::append_log_hashes`]), so the database holds one append-only tree
//! per organization whatever the number of builders; a checkpoint's root is computed from those
//! stored hashes, at a size the tree has; and before signing, the new root is proven consistent
//! with the newest stored checkpoint (so hashes altered under an issued checkpoint stop the
//! signer instead of forking the log). The key is one per deployment, in the database or
//! configured, so every node signs alike.

pub mod builder;
pub mod bundle;
pub mod completeness;
pub mod hashes;
pub mod sidecar;

use crate::config::Config;
use anyhow::Context;
use auditlog_store::{Store, StoreError};
use auditlog_tlog::{
    checkpoint_origin, BundleError, CheckpointError, CheckpointSigner, Hash, TreeError,
};
use tokio::sync::Notify;

/// The deployment's log signer and the builder's wake-up.
pub struct Tlog {
    signer: CheckpointSigner,
    deployment: String,
    /// Wakes the background builder (e.g. when an export waits for the log).
    pub wakeup: Notify,
    /// Preparing a bundle holds its export's leaves in memory (40 bytes a row); one at a time
    /// keeps concurrent downloads of large exports within bounded memory.
    pub bundle_preparation: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Tlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tlog({})", self.signer.verifier_key())
    }
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("tree: {0}")]
    Tree(#[from] TreeError),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("blob store: {0}")]
    Blob(#[from] auditlog_blob::BlobError),
    /// The stored data contradicts the log: the database was altered.
    #[error("{0}")]
    Integrity(String),
    /// The events the log must reach are not all visible yet.
    #[error("the log of {organization_id} cannot reach {wanted} leaves yet (it has {size})")]
    NotReached {
        organization_id: String,
        wanted: i64,
        size: i64,
    },
}

/// Parses a configured signing key: 64 hex digits (an Ed25519 seed).
fn parse_seed(text: &str) -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .context("--log-signing-key must be 64 hex digits (an Ed25519 seed)")?;
    Ok(seed)
}

impl Tlog {
    /// The configured key, or the deployment's key from the database (created there by the
    /// first node that starts).
    pub async fn open(config: &Config, store: &dyn Store) -> anyhow::Result<Tlog> {
        let seed = match &config.log.log_signing_key {
            Some(text) => parse_seed(text.expose())?,
            None => store
                .log_signing_seed(&rand::random(), crate::clock::now_micros())
                .await
                .context("loading the log signing key")?,
        };
        let signer = CheckpointSigner::from_seed(&config.log.deployment_name, seed)
            .context("--deployment-name must be non-empty, without spaces or '+'")?;
        Ok(Tlog {
            signer,
            deployment: config.log.deployment_name.clone(),
            wakeup: Notify::new(),
            bundle_preparation: tokio::sync::Semaphore::new(1),
        })
    }

    pub fn signer(&self) -> &CheckpointSigner {
        &self.signer
    }

    /// The published verifier key of the deployment.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// The origin line of an organization's checkpoints.
    pub fn origin(&self, organization_id: &str) -> String {
        checkpoint_origin(&self.deployment, organization_id)
    }
}

/// The (origin, size, root) of a checkpoint note, read without checking its signature (ours,
/// from our own database; clients verify with the published key).
pub fn parse_note(note: &str) -> Option<(String, u64, Hash)> {
    use base64::prelude::{Engine, BASE64_STANDARD};
    let body = note.split("\n\n").next()?;
    let mut lines = body.lines();
    let origin = lines.next()?.to_string();
    let size = lines.next()?.parse().ok()?;
    let root = BASE64_STANDARD
        .decode(lines.next()?)
        .ok()?
        .try_into()
        .ok()?;
    Some((origin, size, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_parse_back() {
        let signer = CheckpointSigner::from_seed("auditlog", [7; 32]).unwrap();
        let note = signer
            .sign_checkpoint("auditlog/org_1", 12, [9; 32])
            .unwrap();
        assert_eq!(
            parse_note(&note),
            Some(("auditlog/org_1".to_string(), 12, [9; 32]))
        );
        assert_eq!(parse_note("garbage"), None);
    }

    #[test]
    fn configured_seeds_are_hex() {
        assert_eq!(parse_seed(&"01".repeat(32)).unwrap(), [1; 32]);
        assert!(parse_seed("xyz").is_err());
        assert!(parse_seed(&"01".repeat(31)).is_err());
    }
}
