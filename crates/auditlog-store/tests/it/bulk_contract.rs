//! `EventStore::append_all` (bulk ingest): all of a bulk or nothing, consecutive numbers in
//! batch order shared with the group-commit path, and one idempotency record per bulk stored
//! in its transaction. Run on SQLite always and on PostgreSQL when configured.

use crate::contract::{event, idempotency, organization, postgres, sqlite};
use auditlog_store::{AppendOutcome, BulkOutcome, IdempotencyRecord, PendingEvent, Store};
use std::sync::Arc;

const ENV: &str = "bulk";

fn bulk(events: Vec<PendingEvent>) -> Arc<[PendingEvent]> {
    events.into()
}

async fn ids(store: &dyn Store, organization_id: &str) -> Vec<(String, i64)> {
    store
        .list_events_by_sequence(ENV, organization_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.sequence))
        .collect()
}

async fn bulk_is_all_or_nothing(store: &dyn Store) {
    for id in ["org_a", "org_b"] {
        store
            .create_organization(&organization(ENV, id))
            .await
            .unwrap();
    }
    // A group-commit event first: the bulk continues its organization's numbers.
    let single = store
        .append_events(vec![event(ENV, "org_a", 0)])
        .await
        .unwrap();
    assert_eq!(single, vec![AppendOutcome::Stored { sequence: 0 }]);

    let outcome = store
        .append_all(
            bulk(vec![
                event(ENV, "org_a", 1),
                event(ENV, "org_b", 1),
                event(ENV, "org_a", 2),
                event(ENV, "org_a", 3),
            ]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BulkOutcome::Stored {
            sequences: vec![1, 0, 2, 3]
        }
    );
    let stored_a = ids(store, "org_a").await;
    assert_eq!(
        stored_a,
        (0..4)
            .map(|n| (format!("audit_log_event_org_a_{n}"), n as i64))
            .collect::<Vec<_>>()
    );
    let stored_event = store
        .get_event(ENV, "audit_log_event_org_b_1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored_event.leaf_hash, [1; 32]);
    assert_eq!(stored_event.payload.as_deref(), Some("{\"n\":1}"));

    // One unknown organization anywhere in the bulk: nothing of it is stored, and the known
    // organizations' counters do not move.
    let outcome = store
        .append_all(
            bulk(vec![
                event(ENV, "org_a", 4),
                event(ENV, "org_missing", 1),
                event(ENV, "org_b", 2),
            ]),
            Some(idempotency(ENV, "key_missing_org", 10)),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BulkOutcome::OrganizationNotFound("org_missing".into())
    );
    assert_eq!(ids(store, "org_a").await, stored_a);
    assert_eq!(ids(store, "org_b").await.len(), 1);
    assert!(store
        .find_idempotency(ENV, "key_missing_org", 10)
        .await
        .unwrap()
        .is_none());
    // … nor in another environment.
    let outcome = store
        .append_all(bulk(vec![event("other", "org_a", 5)]), None)
        .await
        .unwrap();
    assert_eq!(outcome, BulkOutcome::OrganizationNotFound("org_a".into()));

    // A deleted organization is unknown too.
    assert!(store.delete_organization(ENV, "org_b", 20).await.unwrap());
    let outcome = store
        .append_all(
            bulk(vec![event(ENV, "org_a", 5), event(ENV, "org_b", 5)]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(outcome, BulkOutcome::OrganizationNotFound("org_b".into()));
    assert_eq!(ids(store, "org_a").await, stored_a);

    // The next single event takes the next number: the refused bulks left no gap.
    let single = store
        .append_events(vec![event(ENV, "org_a", 6)])
        .await
        .unwrap();
    assert_eq!(single, vec![AppendOutcome::Stored { sequence: 4 }]);
}

async fn bulk_idempotency_is_atomic_with_the_bulk(store: &dyn Store) {
    store
        .create_organization(&organization(ENV, "org_k"))
        .await
        .unwrap();
    let record = IdempotencyRecord {
        body: br#"{"success":true,"count":2}"#.to_vec(),
        ..idempotency(ENV, "key_1", 1_000)
    };
    let outcome = store
        .append_all(
            bulk(vec![event(ENV, "org_k", 1), event(ENV, "org_k", 2)]),
            Some(record.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BulkOutcome::Stored {
            sequences: vec![0, 1]
        }
    );
    assert_eq!(
        store.find_idempotency(ENV, "key_1", 1_001).await.unwrap(),
        Some(record.clone())
    );

    // The same key again (a retry, or another request: the caller compares the hash): nothing
    // is written and the first record comes back, even for an organization that is missing.
    let retry = IdempotencyRecord {
        created_at: 1_050,
        expires_at: 1_150,
        ..record.clone()
    };
    for events in [
        vec![event(ENV, "org_k", 3), event(ENV, "org_k", 4)],
        vec![event(ENV, "org_missing", 3)],
    ] {
        let outcome = store
            .append_all(bulk(events), Some(retry.clone()))
            .await
            .unwrap();
        assert_eq!(outcome, BulkOutcome::Replay(record.clone()));
    }
    assert_eq!(ids(store, "org_k").await.len(), 2);

    // Once expired, the key is taken over by the next bulk.
    let later = idempotency(ENV, "key_1", 5_000);
    let outcome = store
        .append_all(bulk(vec![event(ENV, "org_k", 5)]), Some(later.clone()))
        .await
        .unwrap();
    assert_eq!(outcome, BulkOutcome::Stored { sequences: vec![2] });
    assert_eq!(
        store.find_idempotency(ENV, "key_1", 5_001).await.unwrap(),
        Some(later)
    );

    // A key recorded by a single event replays for a bulk too (keys are per environment).
    let single_key = idempotency(ENV, "key_single", 6_000);
    let outcome = store
        .append_events(vec![PendingEvent {
            idempotency: Some(single_key.clone()),
            ..event(ENV, "org_k", 6)
        }])
        .await
        .unwrap();
    assert_eq!(outcome, vec![AppendOutcome::Stored { sequence: 3 }]);
    let outcome = store
        .append_all(
            bulk(vec![event(ENV, "org_k", 7)]),
            Some(idempotency(ENV, "key_single", 6_001)),
        )
        .await
        .unwrap();
    assert_eq!(outcome, BulkOutcome::Replay(single_key));
    assert_eq!(ids(store, "org_k").await.len(), 4);
}

#[tokio::test]
async fn sqlite_bulk_append() {
    let (store, _dir) = sqlite().await;
    bulk_is_all_or_nothing(&store).await;
    bulk_idempotency_is_atomic_with_the_bulk(&store).await;
}

#[tokio::test]
async fn postgres_bulk_append() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    bulk_is_all_or_nothing(&store).await;
    bulk_idempotency_is_atomic_with_the_bulk(&store).await;
    store.close().await;
}
