//! The verifiable bundle of a ready export: its manifest (export id, organization, filters,
//! range, row count, CSV SHA-256), the checkpoint it was cut against, the leaves of its rows in
//! CSV order and one multi-proof of their inclusion, signed by the deployment key.
//!
//! Built on request from the leaves sidecar the export job stored beside the CSV, and the
//! smallest stored checkpoint whose tree holds every exported row (signed now, after building
//! the tree that far, if there is none yet). Before anything is signed, the organization's
//! event rows are reconciled with that checkpoint (every sequence below its size has a row),
//! and the bundle's completeness section lists the events of the rows' sequence span that the
//! export left out ([`super::completeness`]); the proof covers their leaves too.
//!
//! A million-row bundle is ~100 MB of JSON, so it is never held whole: preparing it (proof,
//! root check, signature) keeps only the leaves (40 bytes a row, and 8 more for their sorted
//! sequence numbers) and the omitted events (at most `MAX_OMITTED_EVENTS` and
//! [`super::completeness::MAX_OMITTED_BYTES`]), one preparation at a time,
//! and signs the manifest's canonical bytes as they stream ([`ManifestFrame`]); the response
//! then streams the same bytes, reading the sidecar again.

use super::builder::ensure_checkpoint;
use super::completeness::{completeness, ensure_rows_cover};
use super::hashes::prefetch;
use super::sidecar::{leaves_key, Leaves, LeavesDecoder, ROW};
use super::{parse_note, LogError};
use crate::tlog::Tlog;
use auditlog_blob::BlobError;
use auditlog_blob::BlobStore;
use auditlog_domain::timestamp::{format_canonical, from_micros};
use auditlog_store::ExportRecord;
use auditlog_store::Store;
use auditlog_tlog::{
    write_canonical_leaf, BundleError, Manifest, ManifestFrame, MultiProof, BUNDLE_FORMAT,
};
use base64::prelude::{Engine, BASE64_STANDARD};
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sha2::Digest;

/// Leaves formatted per chunk of the signature's hashing.
const LEAVES_PER_CHUNK: usize = 4096;
/// Sidecar bytes turned into JSON per piece of the response (1,638 rows, ~160 KB of JSON).
const PIECE_BYTES: usize = 64 * 1024;

/// What a bundle response needs besides the leaves, which stream from the sidecar.
pub struct PreparedBundle {
    pub export_id: String,
    pub frame: ManifestFrame,
    pub row_count: u64,
    /// Base64 Ed25519 signature of the manifest's canonical bytes.
    pub signature: String,
}

/// Reads and decodes the sidecar of an export as it streams (`None`: there is none).
async fn read_sidecar(blob: &BlobStore, export_id: &str) -> Result<Option<Leaves>, LogError> {
    let Some(read) = blob.get(&leaves_key(export_id)).await? else {
        return Ok(None);
    };
    let mut decoder = LeavesDecoder::new(read.size).map_err(LogError::Integrity)?;
    let mut stream = read.stream;
    while let Some(chunk) = stream.try_next().await? {
        decoder.push(&chunk);
    }
    decoder.finish().map(Some).map_err(LogError::Integrity)
}

/// Proves, checks and signs the bundle of a ready export; `Ok(None)` when its leaves sidecar is
/// missing (an export produced before bundles existed, or whose files expired).
pub async fn prepare_bundle(
    store: &dyn Store,
    blob: &BlobStore,
    tlog: &Tlog,
    export: &ExportRecord,
) -> Result<Option<PreparedBundle>, LogError> {
    let _one_at_a_time = tlog
        .bundle_preparation
        .acquire()
        .await
        .map_err(|_| LogError::Integrity("the server is stopping".into()))?;
    let Some(sidecar) = read_sidecar(blob, &export.id).await? else {
        return Ok(None);
    };
    let organization_id = export.organization_id.as_str();
    // The tree must hold every exported row: up to the highest exported sequence.
    let needed = sidecar
        .leaves
        .iter()
        .map(|leaf| leaf.sequence as i64 + 1)
        .max()
        .unwrap_or(0);
    // Deleted rows below the export would also keep the tree from reaching it: name them
    // before waiting for the log, then check the rest of the checkpoint's tree.
    ensure_rows_cover(
        store,
        organization_id,
        0,
        needed,
        "up to the export's last row",
    )
    .await?;
    let checkpoint = ensure_checkpoint(store, tlog, organization_id, needed).await?;
    let size = checkpoint.tree_size as u64;
    let scope = format!("below the checkpoint at size {size}");
    ensure_rows_cover(store, organization_id, needed, size as i64, &scope).await?;
    let mut sequences: Vec<u64> = sidecar.leaves.iter().map(|leaf| leaf.sequence).collect();
    let completeness = completeness(store, organization_id, &mut sequences).await?;
    let omitted: Vec<(u64, [u8; 32])> = completeness.omitted_leaves().collect();
    sequences.extend(omitted.iter().map(|(sequence, _)| *sequence));
    let hashes = prefetch(store, organization_id, |dry| {
        let _ = MultiProof::prove(size, &sequences, dry);
    })
    .await?;
    let proof = MultiProof::prove(size, &sequences, &hashes).map_err(BundleError::from)?;
    drop(sequences);
    let row_count = sidecar.leaves.len() as u64;
    // Same layout: the conversion reuses the leaves' allocation instead of copying them.
    let pairs: Vec<(u64, [u8; 32])> = sidecar
        .leaves
        .into_iter()
        .map(|leaf| (leaf.sequence, leaf.leaf_hash))
        .collect();
    let root = parse_note(&checkpoint.note)
        .map(|(_, _, root)| root)
        .ok_or_else(|| LogError::Integrity("a stored checkpoint cannot be read".into()))?;
    let manifest = Manifest {
        format: BUNDLE_FORMAT.into(),
        export_id: export.id.clone(),
        organization_id: organization_id.to_string(),
        filters: serde_json::to_value(&export.filters).map_err(BundleError::from)?,
        range_start: format_canonical(from_micros(export.filters.range_start)),
        range_end: format_canonical(from_micros(export.filters.range_end)),
        row_count,
        csv_sha256: hex::encode(sidecar.csv_sha256),
        csv_formula_protection: sidecar.formula_protection,
        checkpoint: checkpoint.note,
        leaves: Vec::new(),
        completeness: Some(completeness),
        proof,
    };
    let frame = ManifestFrame::of(&manifest)?;
    let manifest_proof = manifest.proof;
    let mut leaves = pairs;
    let signature = tlog.signer().sign_streamed(|digest| {
        digest.update(&frame.prefix);
        let mut chunk = Vec::with_capacity(LEAVES_PER_CHUNK * 100);
        for (i, batch) in leaves.chunks(LEAVES_PER_CHUNK).enumerate() {
            chunk.clear();
            for (j, leaf) in batch.iter().enumerate() {
                if i > 0 || j > 0 {
                    chunk.push(b',');
                }
                write_canonical_leaf(leaf.0, &leaf.1, &mut chunk);
            }
            digest.update(&chunk);
        }
        digest.update(&frame.suffix);
    })?;
    // The rows' and omitted events' stored leaf hashes must lead to the signed root; otherwise
    // the events (or the log) were rewritten in the database after they were logged. Checked
    // after signing, so the check can extend and sort the leaves in place (the signature needs
    // the rows' in CSV order); nothing signed leaves this function unless it passes.
    leaves.extend(omitted);
    match manifest_proof.root_of(leaves) {
        Ok(computed) if computed == root => {}
        outcome => {
            let why = outcome
                .err()
                .unwrap_or_else(|| "a leaf hash differs".into());
            return Err(LogError::Integrity(format!(
                "the exported events are not what the log of {organization_id} holds ({why}): \
                 the stored events were altered after they were logged"
            )));
        }
    }
    Ok(Some(PreparedBundle {
        export_id: export.id.clone(),
        frame,
        row_count,
        signature: BASE64_STANDARD.encode(signature),
    }))
}

/// The bundle's JSON (`{"manifest":…,"manifest_signature":…}`, the manifest in its canonical
/// form) as a stream, reading the leaves from the sidecar again as it goes.
pub async fn bundle_body(
    blob: &BlobStore,
    bundle: PreparedBundle,
) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, LogError> {
    let read = blob
        .get(&leaves_key(&bundle.export_id))
        .await?
        .ok_or_else(|| LogError::Integrity("the export's leaves disappeared".into()))?;
    let mut head = b"{\"manifest\":".to_vec();
    head.extend_from_slice(&bundle.frame.prefix);
    let mut tail = bundle.frame.suffix.clone();
    tail.extend_from_slice(b",\"manifest_signature\":\"");
    tail.extend_from_slice(bundle.signature.as_bytes());
    tail.extend_from_slice(b"\"}");
    let leaves = LeafJson {
        carry: Vec::new(),
        remaining: bundle.row_count,
        written: 0,
    };
    let key = leaves_key(&bundle.export_id);
    // The store hands out chunks of megabytes; each becomes JSON a piece at a time, so that a
    // download holds one chunk and one small piece, not 2.5 times the chunk as JSON.
    let body = stream::unfold(
        (read.stream, leaves, Bytes::new()),
        move |(mut source, mut leaves, mut pending)| {
            let key = key.clone();
            async move {
                loop {
                    if leaves.remaining == 0 {
                        return None;
                    }
                    if !pending.is_empty() {
                        let piece = pending.split_to(pending.len().min(PIECE_BYTES));
                        let json = leaves.take(&piece);
                        if !json.is_empty() {
                            return Some((Ok(Bytes::from(json)), (source, leaves, pending)));
                        }
                        continue;
                    }
                    match source.next().await {
                        Some(Ok(chunk)) => pending = chunk,
                        Some(Err(error)) => return Some((Err(error), (source, leaves, pending))),
                        None => {
                            let error = BlobError::Io {
                                path: std::path::PathBuf::from(key),
                                source: std::io::Error::other("the leaves sidecar ended early"),
                            };
                            leaves.remaining = 0;
                            return Some((Err(error), (source, leaves, pending)));
                        }
                    }
                }
            }
        },
    );
    Ok(stream::once(async move { Ok(Bytes::from(head)) })
        .chain(body)
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }))
        .boxed())
}

/// Turns the sidecar's 40-byte rows into the manifest's canonical leaf JSON, across chunk
/// boundaries, stopping at the row count (the trailer after the rows is not leaves).
struct LeafJson {
    carry: Vec<u8>,
    remaining: u64,
    written: u64,
}

impl LeafJson {
    fn take(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.carry.extend_from_slice(chunk);
        let rows = (self.carry.len() / ROW).min(self.remaining as usize);
        let mut json = Vec::with_capacity(rows * 100);
        for row in self.carry[..rows * ROW].chunks_exact(ROW) {
            if self.written > 0 {
                json.push(b',');
            }
            let sequence = u64::from_be_bytes(row[..8].try_into().unwrap_or_default());
            let hash: [u8; 32] = row[8..].try_into().unwrap_or_default();
            write_canonical_leaf(sequence, &hash, &mut json);
            self.written += 1;
        }
        self.carry.drain(..rows * ROW);
        self.remaining -= rows as u64;
        json
    }
}
