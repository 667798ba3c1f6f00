//! Group commit under faults: an event the store refuses fails alone (its batch is retried in
//! parts), a store-wide failure fails its batch at once without piecemeal retries.

use auditlog_test_support as postgres_support;

use async_trait::async_trait;
use auditlog_server::ingest::{IngestQueue, SubmitError};
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{
    AppendOutcome, BulkOutcome, EventStore, IdempotencyRecord, Organization, OrganizationStore,
    PendingEvent, StoreError, StoreResult, StoredEvent,
};
use postgres_support::TestDatabase;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

const ORGANIZATION: &str = "org_1";

fn event(n: usize, actor_id: &str) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{n:026}"),
        environment: "default".into(),
        organization_id: ORGANIZATION.into(),
        occurred_at: 1_000 + n as i64,
        received_at: 2_000,
        action: "a.b".into(),
        actor_id: actor_id.into(),
        actor_name: None,
        target_types: vec!["team".into()],
        target_count: 1,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [n as u8; 32],
        idempotency: None,
    }
}

fn organization() -> Organization {
    Organization {
        id: ORGANIZATION.into(),
        environment: "default".into(),
        name: "One".into(),
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 0,
        updated_at: 0,
    }
}

/// How the wrapped store fails a batch.
#[derive(Clone, Copy)]
enum Fault {
    /// None of its own: only what the wrapped store refuses.
    None,
    /// Any batch holding an event whose actor is "refused" fails, as a store refusing a value.
    RefuseActor,
    /// Every batch fails as with a full disk.
    Unavailable,
}

/// An event store that holds its first batch until released (so that the events submitted
/// meanwhile queue up and form one batch), may inject a fault, and records the sizes of the
/// batches it was given and of those that failed.
struct GatedStore<S> {
    inner: S,
    fault: Fault,
    gate: Semaphore,
    attempts: Mutex<Vec<usize>>,
    failed: Mutex<Vec<usize>>,
}

impl<S: EventStore> GatedStore<S> {
    fn new(inner: S, fault: Fault) -> Arc<Self> {
        Arc::new(GatedStore {
            inner,
            fault,
            gate: Semaphore::new(0),
            attempts: Mutex::new(Vec::new()),
            failed: Mutex::new(Vec::new()),
        })
    }

    async fn attempt(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        let first = {
            let mut attempts = self.attempts.lock().unwrap();
            attempts.push(batch.len());
            attempts.len() == 1
        };
        if first {
            self.gate.acquire().await.unwrap().forget();
        }
        match self.fault {
            Fault::RefuseActor if batch.iter().any(|e| e.actor_id == "refused") => Err(
                StoreError::Other("refused actor (injected)".to_string().into()),
            ),
            Fault::Unavailable => Err(StoreError::Unavailable(
                "disk full (injected)".to_string().into(),
            )),
            _ => self.inner.append_batch(batch).await,
        }
    }
}

#[async_trait]
impl<S: EventStore> EventStore for GatedStore<S> {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        let size = batch.len();
        let result = self.attempt(batch).await;
        if result.is_err() {
            self.failed.lock().unwrap().push(size);
        }
        result
    }

    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        self.inner.append_all(batch, idempotency).await
    }

    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        self.inner.get_event(environment, id).await
    }

    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.inner
            .list_events_by_sequence(environment, organization_id)
            .await
    }
}

/// Submits one event, then, while the store holds it, `rest` more; releases the store once
/// they are all queued and returns every answer (the first event's first).
async fn submit_in_one_batch<S: EventStore + 'static>(
    store: &Arc<GatedStore<S>>,
    first: PendingEvent,
    rest: Vec<PendingEvent>,
) -> Vec<Result<AppendOutcome, SubmitError>> {
    let (queue, writer) = IngestQueue::start(store.clone(), 10_000, 512);
    let submit = |event: PendingEvent| {
        let queue = queue.clone();
        tokio::spawn(async move { queue.submit(event).await })
    };
    let mut answers = vec![submit(first)];
    while store.attempts.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    answers.extend(rest.into_iter().map(submit));
    // Every submission reaches the queue within a few scheduler turns.
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.gate.add_permits(1);
    let answers = futures::future::join_all(answers)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    drop(queue);
    writer.await.unwrap();
    answers
}

/// 99 events after a first one, the one at `bad` with `bad_actor`: the refused one fails with
/// `Failed`, every other event is stored with its own number, and the batch that failed held
/// them all (so the parts were committed apart).
async fn check_refused_event_fails_alone<S: EventStore + 'static>(
    store: Arc<GatedStore<S>>,
    bad_actor: &str,
) {
    let bad = 40;
    let rest: Vec<PendingEvent> = (1..100)
        .map(|n| event(n, if n == bad { bad_actor } else { "u" }))
        .collect();
    let answers = submit_in_one_batch(&store, event(0, "u"), rest).await;
    let mut sequences = HashSet::new();
    for (n, answer) in answers.into_iter().enumerate() {
        match answer {
            Err(SubmitError::Failed) if n == bad => {}
            Ok(AppendOutcome::Stored { sequence }) if n != bad => {
                assert!(
                    sequences.insert(sequence),
                    "sequence {sequence} given twice"
                );
            }
            other => panic!("event {n}: unexpected answer {other:?}"),
        }
    }
    assert_eq!(sequences, (0..99).collect::<HashSet<i64>>());
    assert_eq!(
        store.attempts.lock().unwrap()[1],
        99,
        "the 99 formed one batch"
    );
    assert!(store.failed.lock().unwrap().contains(&99));
    let stored = store
        .list_events_by_sequence("default", ORGANIZATION)
        .await
        .unwrap();
    assert_eq!(stored.len(), 99);
    assert!(stored.iter().all(|e| e.actor_id == "u"));
}

async fn sqlite_store(dir: &tempfile::TempDir) -> SqliteStore {
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    store.create_organization(&organization()).await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_the_store_refuses_fails_alone_and_its_batch_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = GatedStore::new(sqlite_store(&dir).await, Fault::RefuseActor);
    check_refused_event_fails_alone(store, "refused").await;
}

/// PostgreSQL refuses U+0000 in text: an event carrying one (past the API's NUL rule, which
/// would refuse it first) fails alone, its batch's other events are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_refusing_a_nul_fails_only_that_event() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let inner = database.store().await;
    inner.create_organization(&organization()).await.unwrap();
    let store = GatedStore::new(inner, Fault::None);
    check_refused_event_fails_alone(store, "u\u{0}").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_wide_failure_fails_the_batch_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = GatedStore::new(sqlite_store(&dir).await, Fault::Unavailable);
    let rest = (1..50).map(|n| event(n, "u")).collect();
    let answers = submit_in_one_batch(&store, event(0, "u"), rest).await;
    for (n, answer) in answers.into_iter().enumerate() {
        assert!(
            matches!(answer, Err(SubmitError::Unavailable)),
            "event {n}: {answer:?}"
        );
    }
    // One attempt per batch: the first event's, then the other 49 together, never in parts.
    assert_eq!(*store.attempts.lock().unwrap(), vec![1, 49]);
}
