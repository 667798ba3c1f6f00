//! The delivery loop: every interval a node looks for streams that are due, takes each under a
//! lease, and delivers its events in sequence order in batches until it is caught up or its
//! receiver fails. The stream's cursor (the last sequence its receiver acknowledged) moves only
//! after an acknowledgement, by compare-and-set, so delivery is at least once and in order:
//! after a crash, a lost lease or a failure the same range is sent again, never a later one.

use super::destination::{Batch, BatchLimits, DeliveryFailure, Destination, FailureKind, Outbound};
use super::record::StreamRecord;
use crate::clock::now_micros;
use crate::metrics;
use crate::state::AppState;
use auditlog_store::{LogStream, StreamError, StreamFailure, StreamProgress};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// How often a node refreshes the deployment-wide stream gauges.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(5);

/// Consecutive transient failures after which the stream shows `error` (one blip does not).
const FAILURES_BEFORE_ERROR: i64 = 3;

/// Batch sizes lowered for receivers that answered 413 (Payload Too Large), per stream, on
/// this node: a receiver with a smaller body limit than the batch limits still gets every event.
#[derive(Default)]
struct BatchCaps(Mutex<HashMap<String, usize>>);

impl BatchCaps {
    fn get(&self, stream_id: &str) -> Option<usize> {
        self.0.lock().expect("not poisoned").get(stream_id).copied()
    }

    fn set(&self, stream_id: &str, max_events: usize) {
        self.0
            .lock()
            .expect("not poisoned")
            .insert(stream_id.to_string(), max_events);
    }
}

/// Starts the loop; it returns after `shutdown` is cancelled and running deliveries stopped.
pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(run_loop(state, shutdown))
}

async fn run_loop(state: AppState, shutdown: CancellationToken) {
    let config = &state.config.streams;
    let interval = Duration::from_millis(config.stream_interval_ms.max(10));
    let concurrency = config.stream_concurrency.max(1);
    let outbound = Outbound::new(config);
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let caps: Arc<BatchCaps> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut summarized: Option<Instant> = None;
    loop {
        while tasks.try_join_next().is_some() {}
        if summarized.is_none_or(|at| at.elapsed() >= SUMMARY_INTERVAL) {
            record_summary(&state).await;
            summarized = Some(Instant::now());
        }
        let due = state
            .store
            .streams_due(&state.node_id, now_micros(), (concurrency * 2) as i64)
            .await;
        match due {
            Ok(streams) => {
                for stream in streams {
                    let mut busy = running.lock().expect("not poisoned");
                    if busy.len() >= concurrency || !busy.insert(stream.id.clone()) {
                        continue;
                    }
                    drop(busy);
                    let (state, outbound, running, caps) = (
                        state.clone(),
                        outbound.clone(),
                        running.clone(),
                        caps.clone(),
                    );
                    let cancel = shutdown.child_token();
                    tasks.spawn(async move {
                        let id = stream.id.clone();
                        deliver_stream(&state, &outbound, &caps, stream, &cancel).await;
                        running.lock().expect("not poisoned").remove(&id);
                    });
                }
            }
            Err(error) => tracing::warn!(?error, "looking for log streams to deliver"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Sets the stream gauges: streams and undelivered events per destination type and state.
async fn record_summary(state: &AppState) {
    let summary = match state.store.stream_summary().await {
        Ok(summary) => summary,
        Err(error) => {
            tracing::warn!(?error, "reading the log-stream summary");
            return;
        }
    };
    for destination in super::destination::TYPES {
        for shown in ["active", "inactive", "error", "invalid"] {
            let row = summary
                .iter()
                .find(|s| s.destination_type == *destination && s.shown_state == shown);
            let labels = [("destination", *destination), ("state", shown)];
            let (streams, lag) = row.map_or((0, 0), |r| (r.streams, r.lag_events));
            ::metrics::gauge!(metrics::STREAMS, &labels).set(streams as f64);
            ::metrics::gauge!(metrics::STREAM_LAG_EVENTS, &labels).set(lag as f64);
        }
    }
}

/// Delivers one stream until it is caught up, fails, loses its lease or shutdown comes.
async fn deliver_stream(
    state: &AppState,
    outbound: &Outbound,
    caps: &BatchCaps,
    stream: LogStream,
    cancel: &CancellationToken,
) {
    let owner = state.node_id.to_string();
    let lease = state.config.streams.stream_lease_secs.max(1) * 1_000_000;
    // When the lease was last taken: it is renewed once a third of it has passed, not before
    // every batch (on SQLite each renewal is a durable write beside ingest's).
    let mut claimed_at: Option<i64> = None;
    loop {
        let now = now_micros();
        if claimed_at.is_none_or(|at| now - at >= lease / 3) {
            match state
                .store
                .claim_stream(&stream.id, &owner, now, now + lease)
                .await
            {
                Ok(true) => claimed_at = Some(now),
                Ok(false) => return,
                Err(error) => {
                    tracing::warn!(stream_id = %stream.id, ?error, "claiming a log stream");
                    return;
                }
            }
        }
        // Read it again under the lease: settings, pause and position may have changed.
        let current = match state
            .store
            .get_stream(&stream.environment, &stream.organization_id, &stream.id)
            .await
        {
            Ok(Some(current)) if !current.paused => current,
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(stream_id = %stream.id, ?error, "reading a log stream");
                break;
            }
        };
        match deliver_one_batch(state, outbound, caps, &current, &owner).await {
            Ok(BatchOutcome::More) if !cancel.is_cancelled() => continue,
            Ok(_) => break,
            Err(failure) => {
                record_failure(state, &current, &owner, failure).await;
                break;
            }
        }
    }
    if let Err(error) = state.store.release_stream(&stream.id, &owner).await {
        tracing::warn!(stream_id = %stream.id, ?error, "releasing a log stream");
    }
}

enum BatchOutcome {
    /// A full batch went out: there may be more right away.
    More,
    /// Caught up (or the position moved under us).
    Done,
}

/// Reads the next batch (a pending replay first), sends it, and records the acknowledgement.
async fn deliver_one_batch(
    state: &AppState,
    outbound: &Outbound,
    caps: &BatchCaps,
    stream: &LogStream,
    owner: &str,
) -> Result<BatchOutcome, DeliveryFailure> {
    let destination = Destination::parse(
        &stream.destination_type,
        &stream.settings,
        &stream.secrets,
        &outbound.policy,
    )
    .map_err(|errors| DeliveryFailure {
        kind: FailureKind::Invalid,
        status: None,
        message: errors
            .0
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        retry_after: None,
    })?;
    let mut limits = effective_limits(state, destination.limits());
    if let Some(cap) = caps.get(&stream.id) {
        limits.max_events = limits.max_events.min(cap);
    }
    let (replay, from, until) = match stream.replay {
        Some((next, end)) => (true, next - 1, Some(end)),
        None => (false, stream.cursor, None),
    };
    let range = read_range(state, stream, from, until, limits)
        .await
        .map_err(|error| DeliveryFailure {
            kind: FailureKind::Transient,
            status: None,
            message: format!("reading events: {error}"),
            retry_after: None,
        })?;
    let Some(range) = range else {
        return Ok(BatchOutcome::Done);
    };
    let kind = stream.destination_type.as_str();
    if !range.records.is_empty() {
        let started = Instant::now();
        let batch = Batch {
            stream_id: &stream.id,
            records: &range.records,
        };
        let outcome = destination.deliver(outbound, &batch).await;
        let labels = [("destination", kind.to_string())];
        ::metrics::histogram!(metrics::STREAM_DELIVERY_DURATION, &labels)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            // Too large for this receiver: half the batch, at once. One event too large is a
            // refusal like any other 4xx.
            Err(failure) if failure.status == Some(413) && range.records.len() > 1 => {
                let half = range.records.len() / 2;
                caps.set(&stream.id, half);
                ::metrics::counter!(metrics::STREAM_DELIVERIES, "destination" => kind.to_string(), "outcome" => "retry").increment(1);
                tracing::info!(stream_id = %stream.id, max_events = half, "the receiver refused a batch as too large (413); sending smaller ones");
                return Ok(BatchOutcome::More);
            }
            outcome => {
                outcome?;
            }
        }
    }
    let progress = StreamProgress {
        stream_id: stream.id.clone(),
        owner: owner.to_string(),
        replay,
        // A replay's position is its next sequence; the live one, the last delivered.
        from: if replay { from + 1 } else { from },
        to: range.last,
        delivered: range.records.len() as i64,
        skipped: if replay { 0 } else { range.skipped },
        now: now_micros(),
    };
    let recorded = state.store.record_stream_progress(&progress).await;
    let delivered = range.records.len() as u64;
    ::metrics::counter!(metrics::STREAM_DELIVERIES, "destination" => kind.to_string(), "outcome" => "delivered").increment(1);
    ::metrics::counter!(metrics::STREAM_EVENTS_DELIVERED, "destination" => kind.to_string())
        .increment(delivered);
    if progress.skipped > 0 {
        ::metrics::counter!(metrics::STREAM_EVENTS_SKIPPED, "destination" => kind.to_string())
            .increment(progress.skipped as u64);
    }
    match recorded {
        Ok(true) if range.full => Ok(BatchOutcome::More),
        Ok(true) => Ok(BatchOutcome::Done),
        Ok(false) => Ok(BatchOutcome::Done),
        Err(error) => {
            // The receiver has the batch; it will get it again (at least once).
            tracing::warn!(stream_id = %stream.id, ?error, "recording a delivered batch");
            Ok(BatchOutcome::Done)
        }
    }
}

fn effective_limits(state: &AppState, destination: BatchLimits) -> BatchLimits {
    let config = &state.config.streams;
    BatchLimits {
        max_events: destination
            .max_events
            .min(config.stream_batch_events.max(1)),
        max_bytes: destination
            .max_bytes
            .min(config.stream_batch_bytes.max(1024)),
    }
}

/// The next events after `from`, and how far they take the position.
struct Range {
    records: Vec<StreamRecord>,
    /// The last sequence this range covers (delivered or skipped).
    last: i64,
    /// Sequences in the range retention removed before they were delivered.
    skipped: i64,
    /// The range stopped at a batch limit: more may follow at once.
    full: bool,
}

/// Reads the events after `from` (up to `until` for a replay). `None` when there is nothing.
///
/// Sequence numbers become visible in order and without gaps, so the organization's event
/// count read *before* the events bounds what the read can see: a sequence below it that the
/// read does not return was removed by retention (not yet committed is impossible).
async fn read_range(
    state: &AppState,
    stream: &LogStream,
    from: i64,
    until: Option<i64>,
    limits: BatchLimits,
) -> auditlog_store::StoreResult<Option<Range>> {
    let count = state
        .store
        .log_leaf_count(&stream.organization_id)
        .await?
        .unwrap_or(0);
    let mut last_visible = count - 1;
    if let Some(end) = until {
        last_visible = last_visible.min(end);
    }
    if last_visible <= from {
        return Ok(None);
    }
    let events = state
        .store
        .tail_events(
            &stream.environment,
            &stream.organization_id,
            from,
            limits.max_events as i64,
        )
        .await?;
    let mut records = Vec::new();
    let mut bytes = 0;
    let mut full = events.len() >= limits.max_events;
    for event in events.iter().take_while(|e| e.sequence <= last_visible) {
        let record = StreamRecord::from_event(event);
        let size = record.json.len() + 1;
        if !records.is_empty() && bytes + size > limits.max_bytes {
            full = true;
            break;
        }
        bytes += size;
        records.push(record);
    }
    let last = match (full, records.last()) {
        (true, Some(record)) => record.sequence.expect("stored events have a sequence"),
        _ => last_visible,
    };
    let skipped = (last - from) - records.len() as i64;
    Ok(Some(Range {
        records,
        last,
        skipped,
        full,
    }))
}

/// Records a failed attempt: the state it leaves the stream in and when to try again.
async fn record_failure(
    state: &AppState,
    stream: &LogStream,
    owner: &str,
    failure: DeliveryFailure,
) {
    let failures = stream.consecutive_failures + 1;
    let max_backoff = Duration::from_secs(state.config.streams.stream_max_backoff_secs.max(1));
    let (stream_state, wait) = match failure.kind {
        FailureKind::Transient => (
            if failures >= FAILURES_BEFORE_ERROR || stream.state != "active" {
                "error"
            } else {
                "active"
            },
            backoff(failures, max_backoff, failure.retry_after),
        ),
        // Retried at the slowest pace, so the stream recovers once the receiver is fixed.
        FailureKind::Permanent => (
            "error",
            backoff(failures.max(32), max_backoff, failure.retry_after),
        ),
        FailureKind::Invalid => ("invalid", max_backoff),
    };
    let now = now_micros();
    let record = StreamFailure {
        stream_id: stream.id.clone(),
        owner: owner.to_string(),
        state: stream_state.to_string(),
        error: StreamError {
            message: failure.message.clone(),
            status: failure.status.map(i64::from),
            at: now,
        },
        next_attempt_at: now + wait.as_micros() as i64,
    };
    let outcome = match failure.kind {
        FailureKind::Transient => "retry",
        FailureKind::Permanent => "error",
        FailureKind::Invalid => "invalid",
    };
    ::metrics::counter!(metrics::STREAM_DELIVERIES, "destination" => stream.destination_type.clone(), "outcome" => outcome).increment(1);
    tracing::warn!(
        stream_id = %stream.id,
        organization_id = %stream.organization_id,
        destination = %stream.destination_type,
        status = failure.status,
        state = stream_state,
        retry_in_ms = wait.as_millis() as u64,
        "log stream delivery failed: {}",
        failure.message
    );
    if let Err(error) = state.store.record_stream_failure(&record).await {
        tracing::warn!(stream_id = %stream.id, ?error, "recording a failed delivery");
    }
}

/// Exponential backoff from 1 s with jitter (between half and all of the step), capped at
/// `max`; a receiver's `Retry-After` is honoured when longer, up to ten times `max`.
fn backoff(failures: i64, max: Duration, retry_after: Option<Duration>) -> Duration {
    let step =
        Duration::from_secs(1u64 << failures.clamp(1, 30).saturating_sub(1).min(20)).min(max);
    let jittered = step.mul_f64(rand::rng().random_range(0.5..=1.0));
    match retry_after {
        Some(asked) => asked.min(max * 10).max(jittered),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after() {
        let max = Duration::from_secs(60);
        for failures in 1..40 {
            let wait = backoff(failures, max, None);
            let step = Duration::from_secs(1u64 << (failures - 1).min(20)).min(max);
            assert!(wait <= step && wait >= step / 2, "{failures}: {wait:?}");
        }
        assert_eq!(
            backoff(1, max, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            backoff(1, max, Some(Duration::from_secs(3600))),
            Duration::from_secs(600)
        );
    }
}
