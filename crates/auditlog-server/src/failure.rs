//! How unexpected failures are logged, by request handlers and background jobs alike: one
//! error line with the whole cause chain, except that storage being unavailable (disk full,
//! database down) is reported at most once per interval.

use auditlog_store::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// What kind of failure [`report`] logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Storage cannot take the operation now; it heals by itself.
    StorageUnavailable,
    Other,
}

/// Logs `error` (with its causes) under `context` and says which kind of failure it is.
pub fn report(context: &str, error: &(dyn std::error::Error + 'static)) -> Failure {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if store_unavailable(error) {
        report_unavailable(context, &chain);
        return Failure::StorageUnavailable;
    }
    tracing::error!(error = %chain, "{context}");
    Failure::Other
}

/// While the store stays unavailable, at most one log line per this many seconds says so.
const UNAVAILABLE_LOG_EVERY_SECS: u64 = 10;

/// When the last "storage unavailable" line was logged (seconds since the first), and how many
/// were left out since: a full disk fails every write of every request and background job,
/// and one line per failure would flood the log (and the disk it may share).
static UNAVAILABLE_LOGGED_AT: AtomicU64 = AtomicU64::new(0);
static UNAVAILABLE_SUPPRESSED: AtomicU64 = AtomicU64::new(0);

fn seconds_since_start() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    // Offset by the interval so that the very first report is logged.
    START.get_or_init(Instant::now).elapsed().as_secs() + UNAVAILABLE_LOG_EVERY_SECS
}

/// Logs that the store is unavailable, at most once per interval.
fn report_unavailable(context: &str, chain: &str) {
    let now = seconds_since_start();
    let last = UNAVAILABLE_LOGGED_AT.load(Ordering::Relaxed);
    if now < last + UNAVAILABLE_LOG_EVERY_SECS
        || UNAVAILABLE_LOGGED_AT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        UNAVAILABLE_SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let suppressed = UNAVAILABLE_SUPPRESSED.swap(0, Ordering::Relaxed);
    tracing::warn!(
        error = %chain,
        similar_failures_not_logged = suppressed,
        "{context}: storage unavailable; answering 503 until it recovers"
    );
}

/// True when a [`StoreError::Unavailable`] is `error` or among its causes.
fn store_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable)
        {
            return true;
        }
        current = error.source();
    }
    false
}
