//! Group commit: concurrent submissions share commits, every one gets its own sequence number.

use auditlog_server::ingest::IngestQueue;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{AppendOutcome, Organization, OrganizationStore, PendingEvent, Store};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn event(n: usize) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{n:026}"),
        environment: "default".into(),
        organization_id: "org_1".into(),
        occurred_at: 1_000 + n as i64,
        received_at: 2_000,
        action: "a.b".into(),
        actor_id: "u".into(),
        actor_name: None,
        target_types: vec!["team".into()],
        target_count: 1,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [n as u8; 32],
        idempotency: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_events_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    sqlite
        .create_organization(&Organization {
            id: "org_1".into(),
            environment: "default".into(),
            name: "One".into(),
            external_id: None,
            metadata: Default::default(),
            domains: vec![],
            stripe_customer_id: None,
            allow_profiles_outside_organization: false,
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let (queue, writer) = IngestQueue::start(store.clone(), 10_000, 512);

    let submissions = (0..400).map(|n| {
        let queue = queue.clone();
        tokio::spawn(async move { queue.submit(event(n)).await.unwrap() })
    });
    let outcomes = futures::future::join_all(submissions).await;
    let sequences: HashSet<i64> = outcomes
        .into_iter()
        .map(|outcome| match outcome.unwrap() {
            AppendOutcome::Stored { sequence } => sequence,
            other => panic!("unexpected outcome {other:?}"),
        })
        .collect();
    assert_eq!(
        sequences,
        (0..400).collect::<HashSet<i64>>(),
        "each event gets its own sequence number"
    );

    let commits = queue.stats().commits.load(Ordering::Relaxed);
    let events = queue.stats().events.load(Ordering::Relaxed);
    assert_eq!(events, 400);
    assert!(
        commits < 100,
        "400 concurrent events took {commits} commits; group commit is not batching"
    );
    drop(queue);
    writer.await.unwrap();
    assert_eq!(
        store
            .list_events_by_sequence("default", "org_1")
            .await
            .unwrap()
            .len(),
        400
    );
}
