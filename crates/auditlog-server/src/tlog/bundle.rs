//! The verifiable bundle of a ready export: its manifest (export id, organization, filters,
//! range, row count, CSV SHA-256), the checkpoint it was cut against, the leaves of its rows in
//! CSV order and one multi-proof of their inclusion, signed by the deployment key.
//!
//! Built on request from the leaves sidecar the export job stored beside the CSV, and the
//! smallest stored checkpoint whose tree holds every exported row (signed now, after building
//! the tree that far, if there is none yet).

use super::builder::ensure_checkpoint;
use super::hashes::prefetch;
use super::sidecar::{decode, leaves_key};
use super::LogError;
use crate::state::AppState;
use auditlog_domain::timestamp::{format_canonical, from_micros};
use auditlog_store::ExportRecord;
use auditlog_tlog::{BundleError, ExportBundle, ManifestInfo, MultiProof};
use futures::TryStreamExt;

/// Reads the whole sidecar of an export (`None`: there is none).
async fn read_sidecar(state: &AppState, export_id: &str) -> Result<Option<Vec<u8>>, LogError> {
    let Some(read) = state.blob.get(&leaves_key(export_id)).await? else {
        return Ok(None);
    };
    let mut bytes = Vec::with_capacity(read.size as usize);
    let mut stream = read.stream;
    while let Some(chunk) = stream.try_next().await? {
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The bundle of a ready export; `Ok(None)` when its leaves sidecar is missing (an export
/// produced before bundles existed, or whose files expired).
pub async fn export_bundle(
    state: &AppState,
    export: &ExportRecord,
) -> Result<Option<ExportBundle>, LogError> {
    let Some(bytes) = read_sidecar(state, &export.id).await? else {
        return Ok(None);
    };
    let sidecar = decode(&bytes).map_err(LogError::Integrity)?;
    let store = state.store.as_ref();
    let organization_id = export.organization_id.as_str();
    // The tree must hold every exported row: up to the highest exported sequence.
    let needed = sidecar
        .leaves
        .iter()
        .map(|leaf| leaf.sequence as i64 + 1)
        .max()
        .unwrap_or(0);
    let checkpoint = ensure_checkpoint(store, &state.tlog, organization_id, needed).await?;
    let size = checkpoint.tree_size as u64;
    let sequences: Vec<u64> = sidecar.leaves.iter().map(|leaf| leaf.sequence).collect();
    let hashes = prefetch(store, organization_id, |dry| {
        let _ = MultiProof::prove(size, &sequences, dry);
    })
    .await?;
    let info = ManifestInfo {
        export_id: export.id.clone(),
        organization_id: organization_id.to_string(),
        filters: serde_json::to_value(&export.filters).map_err(BundleError::from)?,
        range_start: format_canonical(from_micros(export.filters.range_start)),
        range_end: format_canonical(from_micros(export.filters.range_end)),
        csv_formula_protection: sidecar.formula_protection,
    };
    let built = ExportBundle::build(
        info,
        sidecar.csv_sha256,
        sidecar.leaves,
        checkpoint.note,
        &hashes,
        state.tlog.signer(),
    );
    match built {
        Ok(bundle) => Ok(Some(bundle)),
        // The rows' stored leaf hashes do not lead to the signed root: the events (or the
        // log) were rewritten in the database after they were logged.
        Err(BundleError::RootMismatch(why)) => Err(LogError::Integrity(format!(
            "the exported events are not what the log of {organization_id} holds ({why}): \
             the stored events were altered after they were logged"
        ))),
        Err(error) => Err(error.into()),
    }
}
