//! Background jobs: a loop that claims jobs from the durable queue under a lease and runs them
//! with bounded concurrency, off the request path.
//!
//! Every job is idempotent (a re-run after a lost lease overwrites rather than duplicates), so
//! the lease only has to make double work rare, not impossible. While a job runs, a heartbeat
//! renews its lease; if renewal fails the job is cancelled, since another node may own it now.
//! On shutdown running jobs stop at their next page and are handed back to the queue.

pub mod export;
pub mod log_builder;
pub mod maintenance;
pub mod retention;

use crate::clock::now_micros;
use crate::state::AppState;
use auditlog_store::JobRecord;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub const EXPORT_JOB: &str = "export";
/// Attempts before a failing job is given up (its export then ends in `error`).
pub const MAX_ATTEMPTS: i64 = 5;
/// How long an idle runner waits before looking for due jobs again (new jobs wake it sooner).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Why a job run did not complete.
#[derive(Debug)]
pub enum JobError {
    /// Shutdown or a lost lease stopped it; nothing is recorded as a failure.
    Cancelled,
    /// Worth another attempt (IO, a busy database…).
    Retryable(String),
    /// Will never succeed.
    Permanent(String),
}

fn backoff(attempts: i64) -> i64 {
    let seconds = 1i64 << attempts.clamp(0, 6);
    seconds * 1_000_000
}

/// Starts the runner; it returns after `shutdown` is cancelled and running jobs have stopped.
pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(run_loop(state, shutdown))
}

async fn run_loop(state: AppState, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(
        state.config.exports.export_concurrency.max(1),
    ));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            _ = shutdown.cancelled() => break,
        };
        let now = now_micros();
        let lease_until = now + state.config.jobs.job_lease_secs * 1_000_000;
        match state
            .store
            .claim_job(&[EXPORT_JOB], &state.node_id, now, lease_until)
            .await
        {
            Ok(Some(job)) => {
                let (state, cancel) = (state.clone(), shutdown.child_token());
                running.spawn(async move {
                    run_job(&state, job, cancel).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    _ = state.jobs_wakeup.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
            Err(error) => {
                drop(permit);
                crate::failure::report("claiming a job failed", &error);
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
    while running.join_next().await.is_some() {}
}

/// Renews the lease every third of its length; cancels `lost` if the job is no longer ours.
async fn heartbeat(state: AppState, job_id: String, lost: CancellationToken) {
    let lease = state.config.jobs.job_lease_secs.max(1);
    let period = Duration::from_millis((lease as u64 * 1000 / 3).max(100));
    loop {
        tokio::time::sleep(period).await;
        let until = now_micros() + lease * 1_000_000;
        match state
            .store
            .renew_job_lease(&job_id, &state.node_id, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job_id, "job lease lost; stopping this run");
                lost.cancel();
                return;
            }
            Err(error) => {
                crate::failure::report("renewing a job lease failed", &error);
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts))]
async fn run_job(state: &AppState, job: JobRecord, shutdown: CancellationToken) {
    let lease_lost = CancellationToken::new();
    let cancel = CancellationToken::new();
    let beat = tokio::spawn(heartbeat(state.clone(), job.id.clone(), lease_lost.clone()));
    let watcher = {
        let (shutdown, lease_lost, cancel) = (shutdown.clone(), lease_lost.clone(), cancel.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = lease_lost.cancelled() => {}
            }
            cancel.cancel();
        })
    };
    let started = std::time::Instant::now();
    let result = match job.kind.as_str() {
        EXPORT_JOB => export::run(state, &job, &cancel).await,
        other => Err(JobError::Permanent(format!("unknown job kind {other}"))),
    };
    beat.abort();
    watcher.abort();
    if job.kind == EXPORT_JOB {
        let outcome = match &result {
            Ok(()) => "ready",
            Err(JobError::Cancelled) => "cancelled",
            Err(JobError::Retryable(_)) if job.attempts < MAX_ATTEMPTS => "retried",
            Err(_) => "failed",
        };
        let labels = [("outcome", outcome)];
        metrics::counter!(crate::metrics::EXPORT_JOBS, &labels).increment(1);
        metrics::histogram!(crate::metrics::EXPORT_DURATION, &labels)
            .record(started.elapsed().as_secs_f64());
    }
    let now = now_micros();
    let store = &state.store;
    let recorded = match result {
        Ok(()) => store.complete_job(&job.id, &state.node_id, now).await,
        Err(JobError::Cancelled) if lease_lost.is_cancelled() => Ok(true),
        Err(JobError::Cancelled) => store.release_job(&job.id, &state.node_id, now).await,
        Err(JobError::Retryable(reason)) if job.attempts < MAX_ATTEMPTS => {
            tracing::warn!(%reason, "job failed; it will be retried");
            store
                .retry_job(
                    &job.id,
                    &state.node_id,
                    &reason,
                    now + backoff(job.attempts),
                    now,
                )
                .await
        }
        Err(JobError::Retryable(reason)) | Err(JobError::Permanent(reason)) => {
            tracing::error!(%reason, "job failed for good");
            if job.kind == EXPORT_JOB {
                export::give_up(state, &job, &reason).await;
            }
            store.fail_job(&job.id, &state.node_id, &reason, now).await
        }
    };
    if let Err(error) = recorded {
        crate::failure::report("recording a job outcome failed", &error);
    }
}
