//! The retention sweeper: removes the payload of events older than their organization's
//! retention (default: `--default-retention-days`), keeping sequence numbers and leaf hashes
//! so tamper-evidence proofs stay valid for what remains.
//!
//! Age is measured on `occurred_at`: an event that occurred before `now - retention` goes,
//! one exactly at the cutoff stays. Organizations on legal hold are skipped (and the store
//! re-checks the hold inside every batch transaction, so a hold placed mid-sweep wins).
//! On a cluster one node sweeps an organization at a time, under a lease.

use crate::clock::now_micros;
use crate::jobs::maintenance::delete_export_files;
use crate::state::AppState;
use auditlog_domain::retention::retention_cutoff;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Exports of one organization looked at per sweep; the rest wait for the next one.
const PURGE_BATCH: i64 = 1000;
/// How long a node may sweep one organization before renewing its lease.
const SWEEP_LEASE_MICROS: i64 = 60_000_000;

pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.jobs.retention_sweep_interval_secs.max(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.cancelled() => return,
            }
            let redacted = sweep_once(&state, &shutdown, now_micros()).await;
            metrics::counter!(crate::metrics::RETENTION_SWEEPS).increment(1);
            metrics::counter!(crate::metrics::RETENTION_EVENTS_REDACTED).increment(redacted);
            if redacted > 0 {
                tracing::info!(redacted, "retention sweep removed expired events");
            }
        }
    })
}

/// Sweeps every organization once as of `now`; returns how many events were redacted.
pub async fn sweep_once(state: &AppState, shutdown: &CancellationToken, now: i64) -> u64 {
    let candidates = match state.store.sweep_candidates().await {
        Ok(candidates) => candidates,
        Err(error) => {
            crate::failure::report("listing organizations to sweep failed", &error);
            return 0;
        }
    };
    let mut total = 0;
    for candidate in candidates.into_iter().filter(|c| !c.on_hold) {
        if shutdown.is_cancelled() {
            break;
        }
        let days = candidate
            .retention_period_in_days
            .unwrap_or(state.config.jobs.default_retention_days);
        let cutoff = retention_cutoff(now, days);
        total += sweep_organization(
            state,
            shutdown,
            &candidate.environment,
            &candidate.organization_id,
            cutoff,
            now,
        )
        .await;
        purge_exports_reaching_before(state, &candidate.organization_id, cutoff, now).await;
    }
    total
}

/// Exports made before this sweep whose range starts before the retention cutoff may hold
/// events retention removes: their files go now, not when their lifetime ends (the export
/// becomes `expired`). An export whose range lies wholly inside the retention window stays.
/// Organizations on legal hold never get here.
async fn purge_exports_reaching_before(
    state: &AppState,
    organization_id: &str,
    cutoff: i64,
    now: i64,
) {
    let exports = match state
        .store
        .ready_exports_created_before(organization_id, now, PURGE_BATCH)
        .await
    {
        Ok(exports) => exports,
        Err(error) => {
            crate::failure::report("listing exports to purge after retention failed", &error);
            return;
        }
    };
    for export in exports
        .iter()
        .filter(|export| export.filters.range_start < cutoff)
    {
        if delete_export_files(state, export, "retention").await {
            tracing::info!(export_id = %export.id, "export purged: its range reaches past retention");
        }
    }
}

async fn sweep_organization(
    state: &AppState,
    shutdown: &CancellationToken,
    environment: &str,
    organization_id: &str,
    cutoff: i64,
    now: i64,
) -> u64 {
    let store = &state.store;
    let owner = &state.node_id;
    match store
        .claim_sweep(
            organization_id,
            owner,
            now_micros(),
            now_micros() + SWEEP_LEASE_MICROS,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => return 0, // another node is sweeping it
        Err(error) => {
            crate::failure::report("claiming a retention sweep failed", &error);
            return 0;
        }
    }
    let mut redacted = 0;
    while !shutdown.is_cancelled() {
        match store
            .redact_events_before(
                environment,
                organization_id,
                cutoff,
                state.config.jobs.retention_batch,
                now,
            )
            .await
        {
            Ok(count) => {
                redacted += count;
                if (count as i64) < state.config.jobs.retention_batch {
                    break;
                }
            }
            Err(error) => {
                crate::failure::report("redacting expired events failed", &error);
                break;
            }
        }
        // Renewing with the same owner extends the lease; let queued ingest batches commit.
        let _ = store
            .claim_sweep(
                organization_id,
                owner,
                now_micros(),
                now_micros() + SWEEP_LEASE_MICROS,
            )
            .await;
        tokio::task::yield_now().await;
    }
    if let Err(error) = store
        .finish_sweep(organization_id, owner, now_micros())
        .await
    {
        crate::failure::report("finishing a retention sweep failed", &error);
    }
    redacted
}
