//! Group commit: handlers hand validated events to one writer task through a bounded channel
//! and wait for its reply. The writer takes whatever is queued (up to a cap), writes it in one
//! transaction and one fsync, and only then answers every waiter. Under load batches grow by
//! themselves; at idle an event waits for exactly one commit. A failed batch is retried in
//! parts, so that an event the store refuses is answered alone (see [`commit`]).

use crate::clock::now_micros;
use auditlog_domain::canonical::{canonical_event_bytes, leaf_hash};
use auditlog_domain::ids::{new_id, EVENT_PREFIX};
use auditlog_domain::timestamp::to_micros;
use auditlog_domain::EventInput;
use auditlog_store::{AppendOutcome, EventStore, IdempotencyRecord, PendingEvent};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Gives a validated event its id, canonical bytes and leaf hash: the one way events are
/// prepared for storage (the API and the bulk seeding tool both use it).
pub fn prepare_event(
    environment: &str,
    input: &EventInput,
    idempotency: Option<IdempotencyRecord>,
) -> PendingEvent {
    let id = new_id(EVENT_PREFIX);
    let payload = canonical_event_bytes(&id, input);
    PendingEvent {
        leaf_hash: leaf_hash(payload.as_bytes()),
        payload,
        id,
        environment: environment.to_string(),
        organization_id: input.organization_id.clone(),
        occurred_at: to_micros(input.occurred_at),
        received_at: now_micros(),
        action: input.action.clone(),
        actor_id: input.actor.id.clone(),
        actor_name: input.actor.name.clone(),
        target_types: input.target_types(),
        target_count: input.targets.len() as i64,
        idempotency,
    }
}

type Reply = oneshot::Sender<Result<AppendOutcome, WriteFailed>>;

struct Job {
    event: PendingEvent,
    reply: Reply,
}

/// Why an event was not stored (nothing of it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFailed {
    /// The store refused this event, alone in its transaction (already logged).
    Refused,
    /// The store as a whole cannot write now (disk full, connection lost): retry later.
    Unavailable,
}

#[derive(Debug)]
pub enum SubmitError {
    /// The queue is full: answer 503 with Retry-After instead of queueing without bound.
    Overloaded,
    /// The store cannot write now: answer 503 with Retry-After.
    Unavailable,
    /// The store refused the event (already logged) or the writer is gone.
    Failed,
}

#[derive(Clone)]
pub struct IngestQueue {
    sender: mpsc::Sender<Job>,
    stats: Arc<IngestStats>,
}

/// Counters of the writer: how many commits carried how many events.
#[derive(Debug, Default)]
pub struct IngestStats {
    pub commits: AtomicU64,
    pub events: AtomicU64,
}

impl IngestQueue {
    /// Starts the writer. It stops once every `IngestQueue` clone is dropped and the queue is
    /// drained, so in-flight events are still committed during shutdown.
    pub fn start(
        store: Arc<dyn EventStore>,
        capacity: usize,
        max_batch: usize,
    ) -> (IngestQueue, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let stats = Arc::new(IngestStats::default());
        let writer = tokio::spawn(write_batches(
            store,
            receiver,
            max_batch.max(1),
            stats.clone(),
        ));
        (IngestQueue { sender, stats }, writer)
    }

    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    /// Queues one event and waits until it is durable (or refused).
    pub async fn submit(&self, event: PendingEvent) -> Result<AppendOutcome, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .try_send(Job { event, reply })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => SubmitError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Failed,
            })?;
        match answer.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(WriteFailed::Unavailable)) => Err(SubmitError::Unavailable),
            Ok(Err(WriteFailed::Refused)) | Err(_) => Err(SubmitError::Failed),
        }
    }
}

async fn write_batches(
    store: Arc<dyn EventStore>,
    mut receiver: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<IngestStats>,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut jobs, max_batch).await > 0 {
        // The events move out of their jobs (no copy); the replies wait for the outcome.
        let (events, replies): (Vec<PendingEvent>, Vec<Reply>) =
            jobs.drain(..).map(|job| (job.event, job.reply)).unzip();
        metrics::gauge!(crate::metrics::INGEST_QUEUE_DEPTH).set(receiver.len() as f64);
        metrics::histogram!(crate::metrics::INGEST_BATCH_EVENTS).record(events.len() as f64);
        commit(store.as_ref(), events.into(), replies, &stats).await;
    }
    tracing::info!(
        commits = stats.commits.load(Ordering::Relaxed),
        events = stats.events.load(Ordering::Relaxed),
        "ingest writer stopped"
    );
}

/// Stores a batch and answers its waiters.
///
/// No event can fail another: when the batch's transaction fails for any reason but the store
/// being unavailable, the failure may belong to one event the store refuses, so the batch is
/// split in halves and each half committed on its own (first half first, keeping the order
/// of sequence numbers), down to single events. A refused event is then answered alone, after
/// about 2·log2(n) extra transactions, and every other event is stored. A store-wide condition
/// (disk full, connection lost) fails every waiter of the batch at once instead of retrying
/// the events one by one against a store that cannot take any of them.
async fn commit(
    store: &dyn EventStore,
    batch: Arc<[PendingEvent]>,
    replies: Vec<Reply>,
    stats: &IngestStats,
) {
    // Parts still to commit, the next one last.
    let mut parts = vec![(batch, replies)];
    while let Some((events, replies)) = parts.pop() {
        let count = events.len();
        let started = std::time::Instant::now();
        match store.append_batch(events.clone()).await {
            Ok(outcomes) => {
                metrics::histogram!(crate::metrics::INGEST_COMMIT_DURATION)
                    .record(started.elapsed().as_secs_f64());
                let stored = outcomes
                    .iter()
                    .filter(|outcome| matches!(outcome, AppendOutcome::Stored { .. }))
                    .count();
                metrics::counter!(crate::metrics::EVENTS_STORED).increment(stored as u64);
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.events.fetch_add(count as u64, Ordering::Relaxed);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A waiter that went away (client disconnected) still had its event stored.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) if error.is_unavailable() => {
                crate::error::ApiError::internal("group commit failed; nothing was stored", &error);
                let waiting = parts.drain(..).flat_map(|(_, replies)| replies);
                for reply in replies.into_iter().chain(waiting) {
                    let _ = reply.send(Err(WriteFailed::Unavailable));
                }
            }
            Err(error) if count == 1 => {
                crate::error::ApiError::internal("the store refused an event", &error);
                for reply in replies {
                    let _ = reply.send(Err(WriteFailed::Refused));
                }
            }
            Err(error) => {
                tracing::debug!(%error, count, "a group commit failed; committing its halves apart");
                let middle = count / 2;
                let mut first = replies;
                let second = first.split_off(middle);
                parts.push((Arc::from(events[middle..].to_vec()), second));
                parts.push((Arc::from(events[..middle].to_vec()), first));
            }
        }
    }
}
