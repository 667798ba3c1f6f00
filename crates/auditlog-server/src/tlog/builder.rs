//! The log builder: appends each organization's new events to its tree in sequence order and
//! signs a checkpoint when the tree grew — every `--log-interval-secs`, and on demand.
//!
//! In the background one node builds an organization at a time, under a lease in the
//! database. The lease only saves duplicate work: correctness comes from the store's
//! compare-and-set on the tree size, which on-demand builds (a `POST …/checkpoint`, a bundle
//! that needs a newer tree) rely on without taking the lease.

use super::hashes::prefetch;
use super::{memory, LogError, Tlog};
use crate::clock::now_micros;
use auditlog_store::{Store, StoredCheckpoint};
use auditlog_tlog::{
    consistency_proof, hashes_to_store_batch, open_checkpoint, tree_root, verify_consistency, Hash,
};
use tokio_util::sync::CancellationToken;

/// Leaves appended per transaction (about twice as many hashes are written). Each transaction
/// holds the store's writer, so ingest waits for it: at 4,096 leaves that was 15–19 ms on a
/// SQLite store, and showed in ingest's p99 latency; at 1,024 it is a few milliseconds.
const APPEND_BATCH: i64 = 1024;
/// Organizations looked at per round.
pub const BACKLOG_LIMIT: i64 = 1000;
/// How long a node may build one organization before renewing its lease.
pub const BUILDER_LEASE_MICROS: i64 = 60_000_000;

/// The background builder's lease and shutdown, for [`build_to`].
pub struct Background<'a> {
    pub lease_owner: &'a str,
    pub shutdown: &'a CancellationToken,
}

/// Appends the organization's events to its tree until it holds `target` leaves (or every
/// visible event); returns the tree's size. In the background it renews its lease as it goes
/// and stops early on shutdown.
pub async fn build_to(
    store: &dyn Store,
    organization_id: &str,
    target: i64,
    background: Option<&Background<'_>>,
) -> Result<i64, LogError> {
    loop {
        let size = store.log_tree_size(organization_id).await?;
        if size >= target || background.is_some_and(|b| b.shutdown.is_cancelled()) {
            return Ok(size);
        }
        let end = (size + APPEND_BATCH).min(target);
        let leaves = store.log_leaves(organization_id, size, end).await?;
        // Sequence numbers are gap-free and visible in commit order; stop at anything else
        // rather than append a leaf at the wrong index.
        let contiguous: Vec<Hash> = leaves
            .iter()
            .zip(size..)
            .take_while(|((sequence, _), expected)| sequence == expected)
            .map(|((_, hash), _)| *hash)
            .collect();
        if contiguous.is_empty() {
            return Ok(size);
        }
        let new_size = size + contiguous.len() as i64;
        let first = size as u64;
        let hashes = prefetch(store, organization_id, |dry| {
            let _ = hashes_to_store_batch(first, &contiguous, dry);
        })
        .await?;
        let new: Vec<(i64, Hash)> = hashes_to_store_batch(first, &contiguous, &hashes)?
            .into_iter()
            .map(|(index, hash)| (index as i64, hash))
            .collect();
        let moved = store
            .append_log_hashes(organization_id, size, new_size, &new)
            .await?;
        if !moved {
            // Another builder appended first; its leaves are the same events, so go on from
            // the size it reached.
            tracing::debug!(organization_id, size, "log size moved under this builder");
        }
        if let Some(background) = background {
            let (owner, now) = (background.lease_owner, now_micros());
            let _ = store
                .claim_log_builder(organization_id, owner, now, now + BUILDER_LEASE_MICROS)
                .await;
        }
        if contiguous.len() < leaves.len() {
            tracing::warn!(organization_id, size = new_size, "gap in sequence numbers");
            return Ok(store.log_tree_size(organization_id).await?);
        }
    }
}

/// Signs and stores a checkpoint at the tree's built size, unless the newest checkpoint
/// already has that size; returns the newest checkpoint either way (`None`: empty tree and
/// `allow_empty` false).
///
/// Before signing, the new root is proven consistent with every checkpoint it must extend: the
/// newest one in the database, the newest one remembered in the blob store, and the newest one
/// a witness is known to have cosigned. If the database was altered under an issued
/// checkpoint (hashes rewritten, rows or checkpoints deleted), this refuses rather than sign a
/// fork. The checkpoint is remembered in the blob store before the database stores it.
pub async fn sign_checkpoint(
    store: &dyn Store,
    tlog: &Tlog,
    organization_id: &str,
    allow_empty: bool,
) -> Result<Option<StoredCheckpoint>, LogError> {
    let size = store.log_tree_size(organization_id).await?;
    let latest = store.latest_checkpoint(organization_id).await?;
    if let Some(latest) = latest.as_ref().filter(|c| c.tree_size >= size) {
        return Ok(Some(latest.clone()));
    }
    if size == 0 && !allow_empty {
        return Ok(None);
    }
    let new_size = size as u64;
    let anchors = anchors(tlog, organization_id, latest.as_ref()).await?;
    if let Some(anchor) = anchors.iter().find(|anchor| anchor.size > new_size) {
        return Err(LogError::Integrity(format!(
            "{} holds a checkpoint of {organization_id} at size {}, but the stored tree has              only {new_size} leaves: events or tree rows were deleted; refusing to sign",
            anchor.place, anchor.size
        )));
    }
    let hashes = prefetch(store, organization_id, |dry| {
        let _ = tree_root(new_size, dry);
        for anchor in &anchors {
            let _ = consistency_proof(anchor.size, new_size, dry);
        }
    })
    .await?;
    let root = tree_root(new_size, &hashes)?;
    for anchor in &anchors {
        let proof = consistency_proof(anchor.size, new_size, &hashes)?;
        if !verify_consistency(anchor.size, new_size, anchor.root, root, &proof) {
            return Err(LogError::Integrity(format!(
                "the stored log of {organization_id} at size {new_size} is not consistent with \
                 its checkpoint at size {} in {}: its stored hashes or events were altered; \
                 refusing to sign a fork",
                anchor.size, anchor.place
            )));
        }
    }
    let note = tlog
        .signer()
        .sign_checkpoint(&tlog.origin(organization_id), new_size, root)?;
    memory::remember(tlog, organization_id, &note).await?;
    let saved = store
        .save_checkpoint(&StoredCheckpoint {
            organization_id: organization_id.to_string(),
            tree_size: size,
            note,
            created_at: now_micros(),
        })
        .await?;
    tlog.mark_signed(organization_id);
    Ok(Some(saved))
}

/// A checkpoint a new one must extend, and where it was found.
struct Anchor {
    place: &'static str,
    size: u64,
    root: Hash,
}

/// The checkpoints a new one must extend: the database's newest, the blob store's newest
/// beyond it, and the newest a witness is known to hold (empty trees extend trivially).
async fn anchors(
    tlog: &Tlog,
    organization_id: &str,
    latest: Option<&StoredCheckpoint>,
) -> Result<Vec<Anchor>, LogError> {
    let mut anchors = Vec::new();
    if let Some(checkpoint) = latest {
        // Verified, not just parsed: a checkpoint in the database that this key did not sign
        // means the key was swapped (or the row forged), and signing on would fork the log.
        let opened = open_checkpoint(&checkpoint.note, &tlog.verifier_key()).map_err(|error| {
            LogError::Integrity(format!(
                "this deployment's key did not sign the newest stored checkpoint of \
                 {organization_id} (size {}): {error}; refusing to sign",
                checkpoint.tree_size
            ))
        })?;
        let (size, root) = (opened.size, opened.root);
        anchors.push(Anchor {
            place: "the database",
            size,
            root,
        });
    }
    let after = latest.map(|checkpoint| checkpoint.tree_size as u64);
    if let Some(remembered) = memory::newest_remembered(tlog, organization_id, after).await? {
        anchors.push(Anchor {
            place: "the blob store",
            size: remembered.size,
            root: remembered.root,
        });
    }
    if let Some((size, root)) = tlog.witnesses.known(&tlog.origin(organization_id)) {
        anchors.push(Anchor {
            place: "a witness",
            size,
            root,
        });
    }
    anchors.retain(|anchor| anchor.size > 0);
    Ok(anchors)
}

/// On demand: appends every stored event of the organization and signs a checkpoint of the
/// result (the newest one when the tree did not grow).
pub async fn checkpoint_now(
    store: &dyn Store,
    tlog: &Tlog,
    organization_id: &str,
) -> Result<StoredCheckpoint, LogError> {
    let target = store.log_leaf_count(organization_id).await?.unwrap_or(0);
    let size = build_to(store, organization_id, target, None).await?;
    if size < target {
        return Err(LogError::NotReached {
            organization_id: organization_id.to_string(),
            wanted: target,
            size,
        });
    }
    sign_checkpoint(store, tlog, organization_id, true)
        .await?
        .ok_or_else(|| LogError::Integrity("no checkpoint after signing".into()))
}

/// A stored checkpoint of at least `min_size` leaves: the smallest existing one, or else one
/// signed now after building the tree that far.
pub async fn ensure_checkpoint(
    store: &dyn Store,
    tlog: &Tlog,
    organization_id: &str,
    min_size: i64,
) -> Result<StoredCheckpoint, LogError> {
    if let Some(found) = store.checkpoint_covering(organization_id, min_size).await? {
        return Ok(found);
    }
    let size = build_to(store, organization_id, min_size, None).await?;
    if size < min_size {
        return Err(LogError::NotReached {
            organization_id: organization_id.to_string(),
            wanted: min_size,
            size,
        });
    }
    sign_checkpoint(store, tlog, organization_id, true)
        .await?
        .ok_or_else(|| LogError::Integrity("no checkpoint after signing".into()))
}
