//! Two PostgreSQL stores on one database — two pools, as two nodes of a cluster would have —
//! racing each other: sequence numbers stay gap- and duplicate-free, an idempotency key is
//! claimed (and its event stored) once, a job is leased once, and concurrent start-ups apply the
//! migrations once. Skipped without `AUDITLOG_TEST_DATABASE_URL`.

use auditlog_test_support as postgres_support;

use auditlog_domain::export::ExportFilters;
use auditlog_store::postgres::PostgresStore;
use auditlog_store::{
    AppendOutcome, ClaimOutcome, EventStore, ExportRecord, ExportState, ExportStore,
    IdempotencyRecord, IdempotencyStore, JobStore, NewJob, Organization, OrganizationStore,
    PendingEvent,
};
use postgres_support::TestDatabase;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const TASKS: usize = 8;
const BATCHES: usize = 50;
const EVENTS_PER_BATCH: usize = 10;

/// Two nodes, started at the same time (both run the migrator; its advisory lock lets one
/// apply the migrations and the other find them applied).
async fn two_nodes() -> Option<(TestDatabase, Arc<PostgresStore>, Arc<PostgresStore>)> {
    let database = TestDatabase::create().await?;
    let (a, b) = tokio::join!(database.store(), database.store());
    Some((database, Arc::new(a), Arc::new(b)))
}

fn organization(id: &str) -> Organization {
    Organization {
        id: id.into(),
        environment: "race".into(),
        name: id.into(),
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 1,
        updated_at: 1,
    }
}

fn event(id: String, organization_id: &str, occurred_at: i64) -> PendingEvent {
    PendingEvent {
        id,
        environment: "race".into(),
        organization_id: organization_id.into(),
        occurred_at,
        received_at: occurred_at,
        action: "user.signed_in".into(),
        actor_id: "user_1".into(),
        actor_name: None,
        target_types: vec!["team".into()],
        target_count: 1,
        payload: format!("{{\"at\":{occurred_at}}}"),
        leaf_hash: [1; 32],
        idempotency: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sequences_are_gap_free_across_nodes() {
    let Some((_database, node_a, node_b)) = two_nodes().await else {
        return;
    };
    concurrent_batches(node_a, node_b).await;
}

/// A database whose defaults would break the store (asynchronous commit, serializable
/// transactions that fail where the store expects to wait for a row lock): the store's sessions
/// override both, so concurrent ingest still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_override_unsafe_database_defaults() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let name = database.name().to_string();
    database
        .on_server(format!(
            "ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'serializable'"
        ))
        .await;
    database
        .on_server(format!(
            "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
        ))
        .await;
    let (a, b) = tokio::join!(database.store(), database.store());
    concurrent_batches(Arc::new(a), Arc::new(b)).await;
}

/// TASKS tasks, half on each node, append BATCHES batches of EVENTS_PER_BATCH events each to
/// two organizations; every organization's numbers must come out 0..N-1.
async fn concurrent_batches(node_a: Arc<PostgresStore>, node_b: Arc<PostgresStore>) {
    for id in ["org_A", "org_B"] {
        node_a.create_organization(&organization(id)).await.unwrap();
    }
    // Every batch holds events of both organizations, listed A-first by half the tasks and
    // B-first by the others: the counter rows must still be locked in one order (no deadlock).
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = if task % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut stored: Vec<(String, String, i64)> = Vec::new();
            for batch_number in 0..BATCHES {
                let batch: Vec<PendingEvent> = (0..EVENTS_PER_BATCH)
                    .map(|n| {
                        let organization = if (n + task) % 2 == 0 {
                            "org_A"
                        } else {
                            "org_B"
                        };
                        let id = format!("audit_log_event_{task}_{batch_number}_{n}");
                        event(id, organization, (batch_number * 100 + n) as i64)
                    })
                    .collect();
                let outcomes = store.append_events(batch.clone()).await.unwrap();
                for (event, outcome) in batch.iter().zip(outcomes) {
                    let AppendOutcome::Stored { sequence } = outcome else {
                        panic!("{} not stored: {outcome:?}", event.id);
                    };
                    stored.push((event.organization_id.clone(), event.id.clone(), sequence));
                }
            }
            stored
        }));
    }
    let mut answered: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for task in tasks {
        for (organization, id, sequence) in task.await.unwrap() {
            answered
                .entry(organization)
                .or_default()
                .push((sequence, id));
        }
    }

    let total = TASKS * BATCHES * EVENTS_PER_BATCH;
    assert_eq!(answered.values().map(Vec::len).sum::<usize>(), total);
    for (organization, mut numbers) in answered {
        numbers.sort();
        let expected: Vec<i64> = (0..numbers.len() as i64).collect();
        assert_eq!(
            numbers.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            expected,
            "{organization}: the answers hand out 0..N-1, each once"
        );
        // What is stored agrees with what was answered, read through the other node.
        let stored = node_b
            .list_events_by_sequence("race", &organization)
            .await
            .unwrap();
        assert_eq!(
            stored
                .iter()
                .map(|e| (e.sequence, e.id.clone()))
                .collect::<Vec<_>>(),
            numbers,
            "{organization}: stored sequence numbers"
        );
    }
    // The counters continue where the numbers end.
    let next = node_b
        .append_events(vec![event("audit_log_event_last".into(), "org_A", 0)])
        .await
        .unwrap();
    assert_eq!(
        next,
        vec![AppendOutcome::Stored {
            sequence: (total / 2) as i64
        }]
    );
    node_a.close().await;
    node_b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_claim_per_idempotency_key_across_nodes() {
    let Some((_database, node_a, node_b)) = two_nodes().await else {
        return;
    };
    for round in 0..50 {
        let key = format!("key-{round}");
        if round % 2 == 1 {
            // A claim that lapsed at 500: both nodes try to take it over at once.
            let lapsed = node_a
                .claim_idempotency("race", &key, &[9; 32], 0, 500)
                .await
                .unwrap();
            assert_eq!(lapsed, ClaimOutcome::Claimed);
        }
        let claim = |store: Arc<PostgresStore>, hash: u8| {
            let key = key.clone();
            tokio::spawn(async move {
                store
                    .claim_idempotency("race", &key, &[hash; 32], 1_000, 2_000)
                    .await
                    .unwrap()
            })
        };
        let (first, second) = tokio::join!(claim(node_a.clone(), 1), claim(node_b.clone(), 2));
        let outcomes = [first.unwrap(), second.unwrap()];
        let claimed = outcomes
            .iter()
            .filter(|o| **o == ClaimOutcome::Claimed)
            .count();
        assert_eq!(claimed, 1, "round {round}: {outcomes:?}");
        let in_flight = outcomes
            .iter()
            .filter(|o| matches!(o, ClaimOutcome::InFlight { .. }))
            .count();
        assert_eq!(in_flight, 1, "round {round}: {outcomes:?}");
    }
    node_a.close().await;
    node_b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_event_per_idempotency_key_across_nodes() {
    let Some((_database, node_a, node_b)) = two_nodes().await else {
        return;
    };
    // Each node writes to its own organization, so the two appends do not serialize on an
    // organization's counter row: only the idempotency key stands between them.
    for id in ["org_I", "org_J"] {
        node_a.create_organization(&organization(id)).await.unwrap();
    }
    for round in 0..30 {
        if round % 2 == 1 {
            // The key was claimed first by this same request (as a node of a version that
            // claimed event keys before appending does): one of the appends replaces the claim.
            let claimed = node_a
                .claim_idempotency(
                    "race",
                    &format!("key-{round}"),
                    &[round as u8; 32],
                    900,
                    1_900,
                )
                .await
                .unwrap();
            assert_eq!(claimed, ClaimOutcome::Claimed);
        }
        let append = |store: Arc<PostgresStore>, node: &str, organization: &str| {
            let mut pending = event(
                format!("audit_log_event_{round}_{node}"),
                organization,
                round,
            );
            pending.idempotency = Some(IdempotencyRecord {
                environment: "race".into(),
                key: format!("key-{round}"),
                request_hash: [round as u8; 32],
                status: 200,
                body: node.as_bytes().to_vec(),
                created_at: 1_000,
                expires_at: 2_000,
            });
            tokio::spawn(async move { store.append_events(vec![pending]).await.unwrap() })
        };
        let (first, second) = tokio::join!(
            append(node_a.clone(), "a", "org_I"),
            append(node_b.clone(), "b", "org_J")
        );
        let outcomes = [first.unwrap().remove(0), second.unwrap().remove(0)];
        let stored = outcomes
            .iter()
            .filter(|o| matches!(o, AppendOutcome::Stored { .. }))
            .count();
        assert_eq!(stored, 1, "round {round}: {outcomes:?}");
        let replayed: Vec<&IdempotencyRecord> = outcomes
            .iter()
            .filter_map(|o| match o {
                AppendOutcome::Replay(record) => Some(record),
                _ => None,
            })
            .collect();
        let winner = node_b
            .find_idempotency("race", &format!("key-{round}"), 1_500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(replayed, vec![&winner], "round {round}: the loser replays");
    }
    let mut stored = 0;
    for id in ["org_I", "org_J"] {
        let events = node_a.list_events_by_sequence("race", id).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            (0..events.len() as i64).collect::<Vec<_>>()
        );
        stored += events.len();
    }
    assert_eq!(stored, 30, "one event per key");
    node_a.close().await;
    node_b.close().await;
}

/// Events do not claim their key before the group commit (the batch transaction records it).
/// If another request holds a live claim on the key (another endpoint, on another node), the
/// event is not stored: the append replays that claim, whose request hash differs, so the API
/// answers 409 as for any reuse of a key. Once the claim is gone the event is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_does_not_take_over_a_key_another_request_has_claimed() {
    let Some((_database, node_a, node_b)) = two_nodes().await else {
        return;
    };
    node_a
        .create_organization(&organization("org_K"))
        .await
        .unwrap();
    let claimed = node_a
        .claim_idempotency("race", "shared-key", &[7; 32], 1_000, 31_000)
        .await
        .unwrap();
    assert_eq!(claimed, ClaimOutcome::Claimed);
    let mut pending = event("audit_log_event_keyed".into(), "org_K", 5);
    pending.idempotency = Some(IdempotencyRecord {
        environment: "race".into(),
        key: "shared-key".into(),
        request_hash: [8; 32],
        status: 200,
        body: b"{}".to_vec(),
        created_at: 2_000,
        expires_at: 90_000,
    });

    let outcome = node_b.append_events(vec![pending.clone()]).await.unwrap();
    match &outcome[..] {
        [AppendOutcome::Replay(record)] => {
            assert_eq!((record.status, record.request_hash), (0, [7; 32]));
        }
        other => panic!("expected the claim to be replayed, got {other:?}"),
    }
    let stored = node_a
        .list_events_by_sequence("race", "org_K")
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing stored: {stored:?}");

    node_a
        .abandon_idempotency("race", "shared-key")
        .await
        .unwrap();
    let outcome = node_b.append_events(vec![pending]).await.unwrap();
    assert_eq!(outcome, vec![AppendOutcome::Stored { sequence: 0 }]);
    node_a.close().await;
    node_b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_job_is_claimed_by_one_node() {
    let Some((_database, node_a, node_b)) = two_nodes().await else {
        return;
    };
    const JOBS: usize = 40;
    for n in 0..JOBS {
        let export = ExportRecord {
            id: format!("audit_log_export_{n:02}"),
            environment: "race".into(),
            organization_id: "org_J".into(),
            state: ExportState::Pending,
            filters: ExportFilters {
                range_start: 0,
                range_end: 1,
                actions: vec![],
                actor_names: vec![],
                actor_ids: vec![],
                targets: vec![],
                max_sequence: None,
            },
            blob_key: None,
            row_count: None,
            byte_count: None,
            error: None,
            created_at: 1,
            updated_at: 1,
            file_expires_at: None,
        };
        let job = NewJob {
            id: format!("job_{n:02}"),
            kind: "export".into(),
            payload: serde_json::json!({ "n": n }),
            run_after: 0,
        };
        node_a.create_export(&export, &job).await.unwrap();
    }
    let mut workers = Vec::new();
    for worker in 0..6 {
        let store = if worker % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
        workers.push(tokio::spawn(async move {
            let owner = format!("worker-{worker}");
            let mut claimed = Vec::new();
            while let Some(job) = store
                .claim_job(&["export"], &owner, 10, 1_000_000)
                .await
                .unwrap()
            {
                assert!(store.complete_job(&job.id, &owner, 11).await.unwrap());
                claimed.push(job.id);
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), JOBS, "claims: {all:?}");
    assert_eq!(distinct.len(), JOBS);
    node_a.close().await;
    node_b.close().await;
}
