//! The log's memory outside the database: every signed checkpoint is written create-only to the
//! blob store at `tlog/<organization id>/checkpoints/<tree size, 20 digits>`, before it is
//! stored in the database. Zero-padded sizes sort as numbers, so the newest is the last key.
//!
//! Whoever rewrites the database (deletes tree rows and checkpoints, alters an event) cannot
//! make the signer forget: before signing, the signer finds the newest remembered checkpoint
//! and refuses a tree that does not extend it. On S3, Object Lock (compliance mode) on the
//! `tlog/` prefix keeps even the bucket's owner from deleting these objects.

use super::{parse_note, LogError};
use crate::tlog::Tlog;
use auditlog_tlog::{open_checkpoint, Hash};

/// Bytes read of a remembered checkpoint at most (a note with many cosignatures is < 4 KB).
const MAX_NOTE_BYTES: u64 = 64 * 1024;

/// Where every organization's remembered checkpoints are.
pub const FOLDER: &str = "tlog";

fn folder(organization_id: &str) -> String {
    format!("{FOLDER}/{organization_id}/checkpoints")
}

pub fn checkpoint_key(organization_id: &str, tree_size: u64) -> String {
    format!("{}/{tree_size:020}", folder(organization_id))
}

/// A checkpoint remembered in the blob store, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub size: u64,
    pub root: Hash,
}

/// The newest checkpoint remembered for the organization with a size above `after` (all of
/// them when `None`). A note there that our key did not sign is an integrity failure: only the
/// signer writes there.
pub async fn newest_remembered(
    tlog: &Tlog,
    organization_id: &str,
    after: Option<u64>,
) -> Result<Option<Remembered>, LogError> {
    let offset = after.map(|size| checkpoint_key(organization_id, size));
    let keys = tlog
        .blob
        .list_after(&folder(organization_id), offset.as_deref())
        .await?;
    let Some(key) = keys.last() else {
        return Ok(None);
    };
    let bytes = tlog
        .blob
        .read_small(key, MAX_NOTE_BYTES)
        .await?
        .ok_or_else(|| LogError::Integrity(format!("the remembered checkpoint {key} vanished")))?;
    let note = String::from_utf8_lossy(&bytes);
    let opened = open_checkpoint(&note, &tlog.verifier_key()).map_err(|error| {
        LogError::Integrity(format!(
            "the blob store holds a checkpoint this deployment's key did not sign ({key}): {error}"
        ))
    })?;
    if opened.origin != tlog.origin(organization_id) {
        return Err(LogError::Integrity(format!(
            "the remembered checkpoint {key} is of another log ({})",
            opened.origin
        )));
    }
    Ok(Some(Remembered {
        size: opened.size,
        root: opened.root,
    }))
}

/// Writes a newly signed checkpoint create-only. One already remembered at that size must say
/// the same (signing is deterministic, so two nodes signing one tree write the same note);
/// anything else is a fork, refused.
pub async fn remember(tlog: &Tlog, organization_id: &str, note: &str) -> Result<(), LogError> {
    let (_, size, root) = parse_note(note)
        .ok_or_else(|| LogError::Integrity("a checkpoint to remember does not parse".into()))?;
    let key = checkpoint_key(organization_id, size);
    if tlog.blob.create(&key, note.as_bytes().to_vec()).await? {
        return Ok(());
    }
    let existing = tlog
        .blob
        .read_small(&key, MAX_NOTE_BYTES)
        .await?
        .unwrap_or_default();
    match parse_note(&String::from_utf8_lossy(&existing)) {
        Some((_, _, remembered)) if remembered == root => Ok(()),
        _ => Err(LogError::Integrity(format!(
            "the blob store remembers another checkpoint of {organization_id} at size {size}: \
             refusing to sign a fork"
        ))),
    }
}
