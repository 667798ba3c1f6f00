//! Periodic maintenance: delete export files past their lifetime (the export becomes
//! `expired`) and purge expired idempotency keys.

use crate::clock::now_micros;
use crate::error::ApiError;
use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Exports expired per sweep; the rest wait for the next tick.
const EXPIRY_BATCH: i64 = 100;

pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(
            state.config.maintenance_interval_secs.max(1),
        ));
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            expire_export_files(&state).await;
            purge_idempotency(&state).await;
        }
    })
}

/// Deletes the file first, then marks the export expired: a crash in between leaves a ready
/// export whose download answers 404 until the next sweep, never an orphaned file.
pub async fn expire_export_files(state: &AppState) {
    let now = now_micros();
    let due = match state.store.exports_due_to_expire(now, EXPIRY_BATCH).await {
        Ok(due) => due,
        Err(error) => {
            ApiError::internal("listing exports to expire failed", &error);
            return;
        }
    };
    for export in due {
        if let Some(key) = &export.blob_key {
            if let Err(error) = state.blob.delete(key).await {
                ApiError::internal("deleting an expired export file failed", &error);
                continue;
            }
        }
        // Its leaves sidecar (for the bundle) goes with it.
        let leaves = crate::tlog::sidecar::leaves_key(&export.id);
        if let Err(error) = state.blob.delete(&leaves).await {
            ApiError::internal("deleting an expired export's leaves failed", &error);
            continue;
        }
        match state.store.mark_export_expired(&export.id, now).await {
            Ok(_) => tracing::info!(export_id = %export.id, "export file expired"),
            Err(error) => {
                ApiError::internal("marking an export expired failed", &error);
            }
        }
    }
}

async fn purge_idempotency(state: &AppState) {
    match state.store.purge_idempotency(now_micros()).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired idempotency keys removed"),
        Err(error) => {
            ApiError::internal("purging idempotency keys failed", &error);
        }
    }
}
