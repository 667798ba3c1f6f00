//! The retention contract: what every `Store` must do for retention periods, legal holds, the
//! sweeper's lease and its batched redaction. Each check is a function over `&dyn Store`, run
//! here against SQLite (and against PostgreSQL once it exists). Timestamps are plain
//! microsecond numbers so the boundaries are exact.

use auditlog_domain::export::ExportFilters;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{
    AppendOutcome, ExportOutcome, ExportRecord, ExportState, LegalHoldChange, LegalHoldEntry,
    LegalHoldState, NewJob, Organization, OrganizationPolicy, PendingEvent, Store, StoredEvent,
    SweepCandidate,
};

/// The cutoff used by the redaction checks: events that occurred strictly before it go.
const CUTOFF: i64 = 1_000_000_000;

async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("retention.db"))
        .await
        .unwrap();
    (store, dir)
}

fn organization(environment: &str, id: &str) -> Organization {
    Organization {
        id: id.into(),
        environment: environment.into(),
        name: format!("Org {id}"),
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 1,
        updated_at: 1,
    }
}

async fn create_organizations(store: &dyn Store, organizations: &[(&str, &str)]) {
    for (environment, id) in organizations {
        store
            .create_organization(&organization(environment, id))
            .await
            .unwrap();
    }
}

fn event(environment: &str, organization_id: &str, n: usize, occurred_at: i64) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{environment}_{organization_id}_{n}"),
        environment: environment.into(),
        organization_id: organization_id.into(),
        occurred_at,
        received_at: occurred_at + 7,
        action: "user.signed_in".into(),
        actor_id: format!("user_{n}"),
        actor_name: Some("Jon".into()),
        target_types: vec!["team".into()],
        target_count: 1,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [n as u8 + 1; 32],
        idempotency: None,
    }
}

/// Appends events at `times` (in that order) and returns them as they were stored.
async fn append_at(
    store: &dyn Store,
    environment: &str,
    organization_id: &str,
    times: &[i64],
) -> Vec<StoredEvent> {
    let batch: Vec<PendingEvent> = times
        .iter()
        .enumerate()
        .map(|(n, at)| event(environment, organization_id, n, *at))
        .collect();
    let outcomes = store.append_events(batch.clone()).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, AppendOutcome::Stored { .. })),
        "{outcomes:?}"
    );
    store
        .list_events_by_sequence(environment, organization_id)
        .await
        .unwrap()
}

async fn events(store: &dyn Store, environment: &str, organization_id: &str) -> Vec<StoredEvent> {
    store
        .list_events_by_sequence(environment, organization_id)
        .await
        .unwrap()
}

fn redacted_count(events: &[StoredEvent]) -> usize {
    events.iter().filter(|e| e.payload.is_none()).count()
}

fn hold(environment: &str, organization_id: &str, action: &str, at: i64) -> LegalHoldEntry {
    LegalHoldEntry {
        id: format!("lgh_{organization_id}_{action}_{at}"),
        environment: environment.into(),
        organization_id: organization_id.into(),
        action: action.into(),
        reason: format!("{action} by counsel at {at}"),
        actor: "key_01COUNSEL".into(),
        at,
    }
}

/// Old events: 9 long before the cutoff and one 1 µs before it. Kept: exactly at the cutoff,
/// 1 µs after it, and much later.
fn boundary_times() -> Vec<i64> {
    let mut times: Vec<i64> = (0..9).map(|i| 1_000 + i).collect();
    times.push(CUTOFF - 1);
    times.extend([CUTOFF, CUTOFF + 1, CUTOFF + 5_000_000]);
    times
}

async fn redaction_is_exact_batched_and_keeps_the_chain(store: &dyn Store) {
    create_organizations(
        store,
        &[("ret", "org_R"), ("ret", "org_S"), ("ret-other", "org_T")],
    )
    .await;
    let times = boundary_times();
    let before = append_at(store, "ret", "org_R", &times).await;
    let neighbour = append_at(store, "ret", "org_S", &times).await;
    let elsewhere = append_at(store, "ret-other", "org_T", &times).await;

    // The wrong environment for org_R: nothing happens, nothing is found.
    assert_eq!(
        store
            .redact_events_before("ret-other", "org_R", CUTOFF, 100, 55)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .redact_events_before("ret", "org_missing", CUTOFF, 100, 55)
            .await
            .unwrap(),
        0
    );

    // Ten old events in batches of four: 4, 4, 2, then nothing left.
    let mut counts = Vec::new();
    for _ in 0..5 {
        counts.push(
            store
                .redact_events_before("ret", "org_R", CUTOFF, 4, 55)
                .await
                .unwrap(),
        );
    }
    assert_eq!(counts, [4, 4, 2, 0, 0]);

    let after = events(store, "ret", "org_R").await;
    assert_eq!(after.len(), before.len(), "redaction must not delete rows");
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.id, new.id);
        assert_eq!(old.sequence, new.sequence, "sequence of {}", old.id);
        assert_eq!(old.leaf_hash, new.leaf_hash, "leaf hash of {}", old.id);
        assert_eq!(old.occurred_at, new.occurred_at);
        assert_eq!(old.received_at, new.received_at);
        if old.occurred_at < CUTOFF {
            assert_eq!(new.payload, None, "{} occurred before the cutoff", old.id);
            assert_eq!(new.actor_name, None, "indexed personal data stays");
            assert_ne!(new.actor_id, old.actor_id, "indexed personal data stays");
        } else {
            assert_eq!(new, old, "{} occurred at/after the cutoff", old.id);
        }
    }
    // Exactly at the boundary: cutoff − 1 µs went, cutoff itself stayed.
    let at = |t: i64| after.iter().find(|e| e.occurred_at == t).unwrap();
    assert!(at(CUTOFF - 1).payload.is_none());
    assert!(at(CUTOFF).payload.is_some());
    assert!(at(CUTOFF + 1).payload.is_some());

    // Other organizations and environments were untouched.
    assert_eq!(events(store, "ret", "org_S").await, neighbour);
    assert_eq!(events(store, "ret-other", "org_T").await, elsewhere);

    // Sequences keep counting after the redaction.
    let next = store
        .append_events(vec![event("ret", "org_R", 99, CUTOFF + 9)])
        .await
        .unwrap();
    assert_eq!(
        next,
        vec![AppendOutcome::Stored {
            sequence: times.len() as i64
        }]
    );

    // A later cutoff takes the next ones, one call at a time.
    assert_eq!(
        store
            .redact_events_before("ret", "org_R", CUTOFF + 2, 100, 56)
            .await
            .unwrap(),
        2
    );
    assert_eq!(redacted_count(&events(store, "ret", "org_R").await), 12);
}

/// What the tail skips, the redaction list names: exactly the organization's redacted events,
/// in sequence order, paged by `after_sequence` and `limit`, with their sequence, id,
/// occurred_at and leaf hash as stored.
pub async fn redacted_events_are_listed_by_sequence(store: &dyn Store) {
    create_organizations(
        store,
        &[("red", "org_L"), ("red", "org_N"), ("red-other", "org_L2")],
    )
    .await;
    // Old, kept, old, old, kept, old: redaction leaves holes in the sequence.
    let times = [10, CUTOFF + 1, 20, 30, CUTOFF + 2, 40];
    let stored = append_at(store, "red", "org_L", &times).await;
    append_at(store, "red", "org_N", &[10, 20]).await;
    append_at(store, "red-other", "org_L2", &[10]).await;
    let list = async |environment: &str, organization_id: &str, after: i64, limit: i64| {
        store
            .redacted_events(environment, organization_id, after, limit)
            .await
            .unwrap()
    };
    assert!(
        list("red", "org_L", -1, 100).await.is_empty(),
        "nothing is redacted yet"
    );
    assert_eq!(
        store
            .redact_events_before("red", "org_L", CUTOFF, 100, 77)
            .await
            .unwrap(),
        4
    );

    let all = list("red", "org_L", -1, 100).await;
    let sequences: Vec<i64> = all.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [0, 2, 3, 5]);
    for event in &all {
        let before = &stored[event.sequence as usize];
        assert_eq!(event.id, before.id);
        assert_eq!(event.occurred_at, before.occurred_at);
        assert_eq!(event.leaf_hash, before.leaf_hash);
        assert_eq!(event.payload, None);
    }
    // The tail serves exactly the others.
    let served: Vec<i64> = store
        .tail_events("red", "org_L", -1, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(served, [1, 4]);

    // Paged: strictly after `after_sequence`, at most `limit`.
    let page = |events: Vec<StoredEvent>| events.iter().map(|e| e.sequence).collect::<Vec<_>>();
    assert_eq!(page(list("red", "org_L", -1, 2).await), [0, 2]);
    assert_eq!(page(list("red", "org_L", 2, 2).await), [3, 5]);
    assert_eq!(page(list("red", "org_L", 3, 100).await), [5]);
    assert_eq!(page(list("red", "org_L", 5, 100).await), Vec::<i64>::new());

    // Other organizations and environments are not listed, redacted or not.
    assert!(list("red", "org_N", -1, 100).await.is_empty());
    assert!(list("red-other", "org_L", -1, 100).await.is_empty());
    store
        .redact_events_before("red", "org_N", CUTOFF, 100, 78)
        .await
        .unwrap();
    assert_eq!(page(list("red", "org_N", -1, 100).await), [0, 1]);
    assert_eq!(page(list("red", "org_L", -1, 100).await), [0, 2, 3, 5]);
}

async fn redaction_covers_deleted_organizations(store: &dyn Store) {
    create_organizations(store, &[("del", "org_D")]).await;
    append_at(store, "del", "org_D", &[10, 20, CUTOFF + 1]).await;
    assert!(store.delete_organization("del", "org_D", 30).await.unwrap());
    let candidates = store.sweep_candidates().await.unwrap();
    assert!(
        candidates.contains(&SweepCandidate {
            environment: "del".into(),
            organization_id: "org_D".into(),
            retention_period_in_days: None,
            on_hold: false,
        }),
        "a deleted organization's events still await retention: {candidates:?}"
    );
    assert_eq!(
        store
            .redact_events_before("del", "org_D", CUTOFF, 100, 40)
            .await
            .unwrap(),
        2
    );
    assert_eq!(redacted_count(&events(store, "del", "org_D").await), 2);
}

async fn legal_hold_stops_redaction_until_released(store: &dyn Store) {
    create_organizations(store, &[("hold", "org_H"), ("hold", "org_F")]).await;
    let times: Vec<i64> = (0..6).map(|i| 100 + i).collect();
    let before = append_at(store, "hold", "org_H", &times).await;
    append_at(store, "hold", "org_F", &times).await;

    assert_eq!(
        store
            .change_legal_hold(&hold("hold", "org_H", "placed", 1_000))
            .await
            .unwrap(),
        LegalHoldChange::Changed
    );
    for _ in 0..3 {
        assert_eq!(
            store
                .redact_events_before("hold", "org_H", CUTOFF, 100, 2_000)
                .await
                .unwrap(),
            0,
            "nothing goes while the hold is on"
        );
    }
    assert_eq!(events(store, "hold", "org_H").await, before);
    // The hold is per organization.
    assert_eq!(
        store
            .redact_events_before("hold", "org_F", CUTOFF, 100, 2_000)
            .await
            .unwrap(),
        6
    );
    let candidates = store.sweep_candidates().await.unwrap();
    let flag = |id: &str| {
        candidates
            .iter()
            .find(|c| c.organization_id == id)
            .map(|c| c.on_hold)
    };
    assert_eq!((flag("org_H"), flag("org_F")), (Some(true), Some(false)));

    assert_eq!(
        store
            .change_legal_hold(&hold("hold", "org_H", "released", 3_000))
            .await
            .unwrap(),
        LegalHoldChange::Changed
    );
    assert_eq!(
        store
            .redact_events_before("hold", "org_H", CUTOFF, 4, 4_000)
            .await
            .unwrap(),
        4,
        "released: the sweep resumes"
    );
    // A hold placed between two batches wins over the rest of the sweep.
    store
        .change_legal_hold(&hold("hold", "org_H", "placed", 5_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .redact_events_before("hold", "org_H", CUTOFF, 4, 6_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(redacted_count(&events(store, "hold", "org_H").await), 4);
    store
        .change_legal_hold(&hold("hold", "org_H", "released", 7_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .redact_events_before("hold", "org_H", CUTOFF, 4, 8_000)
            .await
            .unwrap(),
        2
    );
    let after = events(store, "hold", "org_H").await;
    assert_eq!(redacted_count(&after), 6);
    assert_eq!(
        after
            .iter()
            .map(|e| (e.sequence, e.leaf_hash))
            .collect::<Vec<_>>(),
        before
            .iter()
            .map(|e| (e.sequence, e.leaf_hash))
            .collect::<Vec<_>>()
    );
}

async fn legal_hold_changes_and_history(store: &dyn Store) {
    create_organizations(store, &[("lh", "org_L"), ("lh-other", "org_M")]).await;
    let placed = hold("lh", "org_L", "placed", 10);
    assert_eq!(
        store.change_legal_hold(&placed).await.unwrap(),
        LegalHoldChange::Changed
    );
    assert_eq!(
        store
            .organization_policy("lh", "org_L")
            .await
            .unwrap()
            .unwrap()
            .legal_hold,
        Some(LegalHoldState {
            reason: placed.reason.clone(),
            since: 10,
        })
    );
    // Placing twice changes and records nothing.
    let mut again = hold("lh", "org_L", "placed", 20);
    again.reason = "a second reason".into();
    assert_eq!(
        store.change_legal_hold(&again).await.unwrap(),
        LegalHoldChange::Unchanged
    );
    assert_eq!(
        store
            .organization_policy("lh", "org_L")
            .await
            .unwrap()
            .unwrap()
            .legal_hold
            .map(|h| (h.reason, h.since)),
        Some((placed.reason.clone(), 10)),
        "the first hold stays in force"
    );

    let mut released = hold("lh", "org_L", "released", 30);
    released.actor = "key_01OTHER".into();
    assert_eq!(
        store.change_legal_hold(&released).await.unwrap(),
        LegalHoldChange::Changed
    );
    assert_eq!(
        store
            .organization_policy("lh", "org_L")
            .await
            .unwrap()
            .unwrap()
            .legal_hold,
        None
    );
    assert_eq!(
        store
            .change_legal_hold(&hold("lh", "org_L", "released", 40))
            .await
            .unwrap(),
        LegalHoldChange::Unchanged
    );

    // Unknown organizations, another environment's organization, a deleted one.
    for (environment, id) in [
        ("lh", "org_missing"),
        ("lh", "org_M"),
        ("lh-other", "org_L"),
    ] {
        assert_eq!(
            store
                .change_legal_hold(&hold(environment, id, "placed", 50))
                .await
                .unwrap(),
            LegalHoldChange::OrganizationNotFound,
            "{environment}/{id}"
        );
    }
    create_organizations(store, &[("lh", "org_gone")]).await;
    store
        .delete_organization("lh", "org_gone", 5)
        .await
        .unwrap();
    assert_eq!(
        store
            .change_legal_hold(&hold("lh", "org_gone", "placed", 60))
            .await
            .unwrap(),
        LegalHoldChange::OrganizationNotFound
    );

    // The history holds exactly the two changes, oldest first, with actor and reason.
    assert_eq!(
        store.legal_hold_history("lh", "org_L").await.unwrap(),
        vec![placed, released]
    );
    assert!(store
        .legal_hold_history("lh-other", "org_L")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .legal_hold_history("lh", "org_missing")
        .await
        .unwrap()
        .is_empty());
}

async fn retention_settings_per_organization(store: &dyn Store) {
    create_organizations(store, &[("pol", "org_P"), ("pol-other", "org_Q")]).await;
    assert_eq!(
        store.organization_policy("pol", "org_P").await.unwrap(),
        Some(OrganizationPolicy {
            retention_period_in_days: None,
            legal_hold: None,
        }),
        "no retention set: the server default applies"
    );
    assert_eq!(
        store
            .organization_policy("pol", "org_missing")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .organization_policy("pol-other", "org_P")
            .await
            .unwrap(),
        None
    );

    assert!(store.set_retention("pol", "org_P", 90, 100).await.unwrap());
    assert_eq!(
        store
            .organization_policy("pol", "org_P")
            .await
            .unwrap()
            .unwrap()
            .retention_period_in_days,
        Some(90)
    );
    assert!(store
        .set_retention("pol", "org_P", 3650, 101)
        .await
        .unwrap());
    assert!(!store
        .set_retention("pol", "org_missing", 30, 102)
        .await
        .unwrap());
    assert!(!store
        .set_retention("pol-other", "org_P", 30, 103)
        .await
        .unwrap());
    assert_eq!(
        store
            .organization_policy("pol-other", "org_Q")
            .await
            .unwrap()
            .unwrap()
            .retention_period_in_days,
        None,
        "another organization keeps the default"
    );

    // Retention and hold are independent settings.
    store
        .change_legal_hold(&hold("pol", "org_P", "placed", 200))
        .await
        .unwrap();
    assert!(store.set_retention("pol", "org_P", 30, 201).await.unwrap());
    let policy = store
        .organization_policy("pol", "org_P")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(policy.retention_period_in_days, Some(30));
    assert!(policy.legal_hold.is_some());

    let candidates = store.sweep_candidates().await.unwrap();
    assert!(candidates.contains(&SweepCandidate {
        environment: "pol".into(),
        organization_id: "org_P".into(),
        retention_period_in_days: Some(30),
        on_hold: true,
    }));
    assert!(candidates.contains(&SweepCandidate {
        environment: "pol-other".into(),
        organization_id: "org_Q".into(),
        retention_period_in_days: None,
        on_hold: false,
    }));

    // A deleted organization has no policy and cannot be changed.
    store
        .delete_organization("pol", "org_P", 300)
        .await
        .unwrap();
    assert_eq!(
        store.organization_policy("pol", "org_P").await.unwrap(),
        None
    );
    assert!(!store.set_retention("pol", "org_P", 60, 301).await.unwrap());
}

async fn sweep_lease_excludes_other_owners(store: &dyn Store) {
    // node-a takes org_1 until 200.
    assert!(store
        .claim_sweep("org_1", "node-a", 100, 200)
        .await
        .unwrap());
    assert!(!store
        .claim_sweep("org_1", "node-b", 150, 250)
        .await
        .unwrap());
    // The same owner renews (and extends) its lease.
    assert!(store
        .claim_sweep("org_1", "node-a", 160, 300)
        .await
        .unwrap());
    assert!(
        !store
            .claim_sweep("org_1", "node-b", 250, 350)
            .await
            .unwrap(),
        "the renewed lease runs until 300"
    );
    assert!(
        !store
            .claim_sweep("org_1", "node-b", 299, 350)
            .await
            .unwrap(),
        "1 µs before the lease expires"
    );
    // Leases are per organization.
    assert!(store
        .claim_sweep("org_2", "node-b", 250, 350)
        .await
        .unwrap());
    // Once the lease expired another node takes over, and the first one is out.
    assert!(store
        .claim_sweep("org_1", "node-b", 300, 400)
        .await
        .unwrap());
    assert!(!store
        .claim_sweep("org_1", "node-a", 310, 410)
        .await
        .unwrap());
    // Finishing someone else's sweep releases nothing.
    store.finish_sweep("org_1", "node-a", 320).await.unwrap();
    assert!(!store
        .claim_sweep("org_1", "node-c", 330, 430)
        .await
        .unwrap());
    // The owner's finish releases the lease at once.
    store.finish_sweep("org_1", "node-b", 340).await.unwrap();
    assert!(store
        .claim_sweep("org_1", "node-c", 341, 441)
        .await
        .unwrap());
    assert!(!store
        .claim_sweep("org_1", "node-b", 342, 442)
        .await
        .unwrap());
}

fn export_record(environment: &str, organization_id: &str, id: &str) -> ExportRecord {
    ExportRecord {
        id: id.into(),
        environment: environment.into(),
        organization_id: organization_id.into(),
        state: ExportState::Pending,
        filters: ExportFilters {
            range_start: 0,
            range_end: CUTOFF,
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
        created_at: 10,
        updated_at: 10,
        file_expires_at: None,
    }
}

async fn ready_export(
    store: &dyn Store,
    environment: &str,
    organization_id: &str,
    id: &str,
    file_expires_at: i64,
) {
    let job = NewJob {
        id: format!("job_{id}"),
        kind: "export".into(),
        payload: serde_json::json!({"export_id": id}),
        run_after: 10,
    };
    store
        .create_export(&export_record(environment, organization_id, id), &job)
        .await
        .unwrap();
    let outcome = ExportOutcome::Ready {
        blob_key: format!("exports/{id}.csv"),
        row_count: 1,
        byte_count: 10,
        file_expires_at,
    };
    assert!(store.finish_export(id, &outcome, 20).await.unwrap());
}

async fn exports_on_hold_do_not_expire(store: &dyn Store) {
    create_organizations(store, &[("exp", "org_E1"), ("exp", "org_E2")]).await;
    ready_export(store, "exp", "org_E1", "audit_log_export_held", 100).await;
    ready_export(store, "exp", "org_E2", "audit_log_export_free", 100).await;
    ready_export(store, "exp", "org_E2", "audit_log_export_later", 500).await;
    let due = |now: i64| async move {
        let mut ids: Vec<String> = store
            .exports_due_to_expire(now, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        ids.sort();
        ids
    };
    assert!(
        due(99).await.is_empty(),
        "not expired before file_expires_at"
    );
    assert_eq!(
        due(100).await,
        ["audit_log_export_free", "audit_log_export_held"],
        "due at file_expires_at"
    );

    store
        .change_legal_hold(&hold("exp", "org_E1", "placed", 150))
        .await
        .unwrap();
    assert_eq!(due(200).await, ["audit_log_export_free"]);
    assert_eq!(
        due(600).await,
        ["audit_log_export_free", "audit_log_export_later"]
    );
    assert!(store
        .mark_export_expired("audit_log_export_free", 210)
        .await
        .unwrap());
    assert_eq!(due(220).await, Vec::<String>::new());

    store
        .change_legal_hold(&hold("exp", "org_E1", "released", 230))
        .await
        .unwrap();
    assert_eq!(due(240).await, ["audit_log_export_held"]);
    assert_eq!(
        store
            .get_export("exp", "audit_log_export_held")
            .await
            .unwrap()
            .unwrap()
            .state,
        ExportState::Ready
    );
}

#[tokio::test]
async fn sqlite_redaction_boundaries_and_batches() {
    let (store, _dir) = sqlite().await;
    redaction_is_exact_batched_and_keeps_the_chain(&store).await;
    redaction_covers_deleted_organizations(&store).await;
}

#[tokio::test]
async fn sqlite_redacted_events_are_listed() {
    let (store, _dir) = sqlite().await;
    redacted_events_are_listed_by_sequence(&store).await;
}

#[tokio::test]
async fn sqlite_legal_hold_blocks_redaction() {
    let (store, _dir) = sqlite().await;
    legal_hold_stops_redaction_until_released(&store).await;
}

#[tokio::test]
async fn sqlite_legal_hold_changes_and_history() {
    let (store, _dir) = sqlite().await;
    legal_hold_changes_and_history(&store).await;
}

#[tokio::test]
async fn sqlite_retention_settings() {
    let (store, _dir) = sqlite().await;
    retention_settings_per_organization(&store).await;
}

#[tokio::test]
async fn sqlite_sweep_lease() {
    let (store, _dir) = sqlite().await;
    sweep_lease_excludes_other_owners(&store).await;
}

#[tokio::test]
async fn sqlite_exports_on_hold_do_not_expire() {
    let (store, _dir) = sqlite().await;
    exports_on_hold_do_not_expire(&store).await;
}
