//! `EventStore::append_all` (bulk ingest): all of a bulk or nothing, consecutive numbers in
//! batch order shared with the group-commit path, and one idempotency record per bulk stored
//! in its transaction. Run on SQLite always and on PostgreSQL when configured.

use crate::contract::{event, idempotency, organization, postgres, sqlite};
use auditlog_store::{
    AppendOutcome, BulkOutcome, EventStore, IdempotencyRecord, OrganizationStore, PendingEvent,
    Store,
};
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

/// Bulks and group-commit batches (keyed and not) racing on two PostgreSQL nodes over the same
/// organizations, listed in both orders: no deadlock, every number handed out once, and each
/// bulk's events of one organization consecutive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_bulks_race_group_commits_without_deadlock_or_gaps() {
    let Some(database) = auditlog_test_support::TestDatabase::create().await else {
        return;
    };
    let (a, b) = tokio::join!(database.store(), database.store());
    let nodes = [Arc::new(a), Arc::new(b)];
    for id in ["org_r1", "org_r2"] {
        nodes[0]
            .create_organization(&organization(ENV, id))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for task in 0..6usize {
        let store = nodes[task % 2].clone();
        tasks.push(tokio::spawn(async move {
            // (organization, sequences of one call, whether it was a bulk)
            let mut calls: Vec<(String, Vec<i64>, bool)> = Vec::new();
            for round in 0..20usize {
                let events: Vec<PendingEvent> = (0..8usize)
                    .map(|n| {
                        let org = if (n + task) % 2 == 0 {
                            "org_r1"
                        } else {
                            "org_r2"
                        };
                        let mut e = event(ENV, org, 0);
                        e.id = format!("audit_log_event_race_{task}_{round}_{n}");
                        if task % 3 == 1 {
                            e.idempotency = Some(idempotency(ENV, &e.id, 1));
                        }
                        e
                    })
                    .collect();
                let sequences: Vec<i64> = if task % 3 == 0 {
                    let record = idempotency(ENV, &format!("bulk_{task}_{round}"), 1);
                    match store.append_all(bulk(events.clone()), Some(record)).await {
                        Ok(BulkOutcome::Stored { sequences }) => sequences,
                        other => panic!("bulk not stored: {other:?}"),
                    }
                } else {
                    store
                        .append_events(events.clone())
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|outcome| match outcome {
                            AppendOutcome::Stored { sequence } => sequence,
                            other => panic!("event not stored: {other:?}"),
                        })
                        .collect()
                };
                for org in ["org_r1", "org_r2"] {
                    let numbers = events
                        .iter()
                        .zip(&sequences)
                        .filter(|(e, _)| e.organization_id == org)
                        .map(|(_, s)| *s)
                        .collect();
                    calls.push((org.to_string(), numbers, task % 3 == 0));
                }
            }
            calls
        }));
    }
    let mut all: std::collections::HashMap<String, Vec<i64>> = Default::default();
    for task in tasks {
        for (org, numbers, was_bulk) in task.await.unwrap() {
            if was_bulk {
                let first = numbers[0];
                let expected: Vec<i64> = (first..first + numbers.len() as i64).collect();
                assert_eq!(
                    numbers, expected,
                    "a bulk's events of {org} are consecutive"
                );
            }
            all.entry(org).or_default().extend(numbers);
        }
    }
    for (org, mut numbers) in all {
        numbers.sort();
        assert_eq!(numbers, (0..480).collect::<Vec<i64>>(), "{org}");
        assert_eq!(ids(nodes[1].as_ref(), &org).await.len(), 480);
    }
    for node in nodes {
        Arc::into_inner(node).unwrap().close().await;
    }
}
