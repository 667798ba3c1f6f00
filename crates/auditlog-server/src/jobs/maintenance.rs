//! Periodic maintenance: delete export files past their lifetime (the export becomes
//! `expired`), remove staging files of interrupted uploads, and purge expired idempotency keys.

use crate::clock::now_micros;
use crate::state::AppState;
use auditlog_store::ExportRecord;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Exports expired per sweep; the rest wait for the next tick.
const EXPIRY_BATCH: i64 = 100;

pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(
            state.config.jobs.maintenance_interval_secs.max(1),
        ));
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            expire_export_files(&state).await;
            remove_abandoned_uploads(&state).await;
            purge_idempotency(&state).await;
        }
    })
}

/// Expires the exports whose file lifetime is over.
pub async fn expire_export_files(state: &AppState) {
    let now = now_micros();
    let due = match state.store.exports_due_to_expire(now, EXPIRY_BATCH).await {
        Ok(due) => due,
        Err(error) => {
            crate::failure::report("listing exports to expire failed", &error);
            return;
        }
    };
    for export in due {
        if delete_export_files(state, &export, "expired").await {
            tracing::info!(export_id = %export.id, "export file expired");
        }
    }
}

/// Deletes an export's file and its leaves sidecar, then marks it expired; false (logged) when
/// a step failed, to be tried again at the next sweep. Files go first: a crash in between
/// leaves a ready export whose download answers 404, never an orphaned file.
pub async fn delete_export_files(state: &AppState, export: &ExportRecord, why: &str) -> bool {
    if let Some(key) = &export.blob_key {
        if let Err(error) = state.blob.delete(key).await {
            tracing::error!(export_id = %export.id, %error, why, "deleting an export file failed");
            return false;
        }
    }
    let leaves = crate::tlog::sidecar::leaves_key(&export.id);
    if let Err(error) = state.blob.delete(&leaves).await {
        tracing::error!(export_id = %export.id, %error, why, "deleting an export's leaves failed");
        return false;
    }
    match state
        .store
        .mark_export_expired(&export.id, now_micros())
        .await
    {
        Ok(_) => true,
        Err(error) => {
            crate::failure::report("marking an export expired failed", &error);
            false
        }
    }
}

/// Staging files of uploads a killed process left behind. A running export writes its upload
/// continuously and renews its job lease every third of it, so a staging file untouched for ten
/// leases belongs to no running job.
async fn remove_abandoned_uploads(state: &AppState) {
    let grace = Duration::from_secs(state.config.jobs.job_lease_secs.max(1) as u64 * 10);
    match state.blob.remove_abandoned_uploads(grace).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "staging files of interrupted uploads removed"),
        Err(error) => {
            tracing::error!(%error, "removing staging files of interrupted uploads failed")
        }
    }
}

async fn purge_idempotency(state: &AppState) {
    match state.store.purge_idempotency(now_micros()).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired idempotency keys removed"),
        Err(error) => {
            crate::failure::report("purging idempotency keys failed", &error);
        }
    }
}
