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
//! signer instead of forking the log). The key is one per deployment, outside the database
//! ([`key`]), so every node signs alike and a copy of the database cannot sign.
//!
//! Memory outside the database ([`memory`]): every signed checkpoint is also written
//! create-only to the blob store, and the signer refuses a tree that does not extend the newest
//! checkpoint found there or at a witness. Witnesses ([`witnesses`]) cosign each checkpoint
//! after it is signed, off the ingest path.

pub mod builder;
pub mod bundle;
pub mod completeness;
pub mod hashes;
pub mod key;
pub mod memory;
pub mod sidecar;
pub mod static_tiles;
pub mod witnesses;

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
    /// Where signed checkpoints are kept create-only, outside the database.
    pub blob: auditlog_blob::BlobStore,
    /// The witnesses asked to cosign, and the published policy.
    pub witnesses: witnesses::Witnesses,
    /// Whether tiles are written to the blob store for static serving ([`static_tiles`]).
    pub publish_tiles: bool,
    /// Organizations whose newest checkpoint is still to be cosigned or published (by the
    /// background builder's next round).
    signed: std::sync::Mutex<std::collections::HashSet<String>>,
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

impl Tlog {
    /// The deployment's key (see [`key`]), its blob store and its witnesses.
    pub async fn open(
        config: &Config,
        store: &dyn Store,
        blob: auditlog_blob::BlobStore,
    ) -> anyhow::Result<Tlog> {
        let (seed, source) = key::load_signing_seed(config, store, &blob).await?;
        let signer = CheckpointSigner::from_seed(&config.log.deployment_name, seed)
            .context("--deployment-name must be non-empty, without spaces or '+'")?;
        tracing::info!(verifier_key = %signer.verifier_key(), ?source, "log signing key");
        Ok(Tlog {
            signer,
            deployment: config.log.deployment_name.clone(),
            blob,
            witnesses: witnesses::Witnesses::from_config(&config.log)?,
            publish_tiles: config.log.publish_tiles,
            signed: Default::default(),
            wakeup: Notify::new(),
            bundle_preparation: tokio::sync::Semaphore::new(1),
        })
    }

    /// Notes that the organization has a new checkpoint to cosign or publish, in the background
    /// builder's next round. (Not woken for it: the builder signs too, and waking itself after
    /// every round would make it spin under load instead of batching every interval.)
    pub fn mark_signed(&self, organization_id: &str) {
        if self.witnesses.is_empty() && !self.publish_tiles {
            return;
        }
        let mut signed = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        signed.insert(organization_id.to_string());
    }

    /// Up to `limit` organizations noted by [`Tlog::mark_signed`], no longer noted.
    pub fn take_signed(&self, limit: usize) -> Vec<String> {
        let mut signed = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        let taken: Vec<String> = signed.iter().take(limit).cloned().collect();
        for organization_id in &taken {
            signed.remove(organization_id);
        }
        taken
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
}
