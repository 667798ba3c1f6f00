//! The tamper-evidence part of the store contract (`TlogStore`, and the export cut), run by
//! `contract.rs` against SQLite and PostgreSQL. The store does not interpret hashes, so these
//! checks use arbitrary ones; the server's tests check real trees.

use auditlog_domain::export::ExportFilters;
use auditlog_store::{
    ExportQuery, LoggedEvent, MissingSequences, Organization, PendingEvent, Store, StoreError,
    StoredCheckpoint,
};

fn organization(id: &str) -> Organization {
    Organization {
        id: id.into(),
        environment: "tlog".into(),
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

fn event(organization_id: &str, n: u8, targets: i64) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{organization_id}_{n}"),
        environment: "tlog".into(),
        organization_id: organization_id.into(),
        occurred_at: 10_000 - n as i64,
        received_at: 20_000,
        action: "user.signed_in".into(),
        actor_id: "user_1".into(),
        actor_name: None,
        target_types: vec![],
        target_count: targets,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [n; 32],
        idempotency: None,
    }
}

pub async fn organization_with_events(store: &dyn Store, id: &str, count: u8) {
    store.create_organization(&organization(id)).await.unwrap();
    let events: Vec<PendingEvent> = (0..count).map(|n| event(id, n, 1)).collect();
    store.append_events(events.clone()).await.unwrap();
}

fn hashes(range: std::ops::Range<i64>, fill: u8) -> Vec<(i64, [u8; 32])> {
    range.map(|index| (index, [fill; 32])).collect()
}

/// Leaves by sequence range; the tree grows only by compare-and-set, with exactly its hashes.
pub async fn log_trees_grow_only_by_compare_and_set(store: &dyn Store) {
    organization_with_events(store, "org_T1", 5).await;
    organization_with_events(store, "org_T2", 2).await;
    assert_eq!(store.log_leaf_count("org_T1").await.unwrap(), Some(5));
    assert_eq!(store.log_leaf_count("org_unknown").await.unwrap(), None);
    assert_eq!(store.log_tree_size("org_T1").await.unwrap(), 0);
    let leaves = store.log_leaves("org_T1", 0, 10).await.unwrap();
    assert_eq!(
        leaves,
        (0..5).map(|n| (n as i64, [n; 32])).collect::<Vec<_>>()
    );
    assert_eq!(
        store.log_leaves("org_T1", 2, 4).await.unwrap(),
        vec![(2, [2; 32]), (3, [3; 32])]
    );
    let backlog = store.log_backlog(100).await.unwrap();
    let t1 = backlog
        .iter()
        .find(|b| b.organization_id == "org_T1")
        .expect("org_T1 lags");
    assert_eq!(
        (t1.leaf_count, t1.tree_size, t1.checkpoint_size),
        (5, 0, None)
    );
    assert_eq!(t1.environment, "tlog");

    assert!(store
        .append_log_hashes("org_T1", 0, 3, &hashes(0..4, 1))
        .await
        .unwrap());
    assert_eq!(store.log_tree_size("org_T1").await.unwrap(), 3);
    // A builder that saw size 0 lost the race: nothing of it is written.
    assert!(!store
        .append_log_hashes("org_T1", 0, 2, &hashes(100..103, 9))
        .await
        .unwrap());
    assert!(store.log_hashes("org_T1", &[100]).await.is_err());
    assert_eq!(store.log_tree_size("org_T1").await.unwrap(), 3);
    // Two builders at once from the same size: exactly one wins.
    let (five, four) = (hashes(4..8, 2), hashes(4..5, 3));
    let (a, b) = tokio::join!(
        store.append_log_hashes("org_T1", 3, 5, &five),
        store.append_log_hashes("org_T1", 3, 4, &four),
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one compare-and-set wins");
    let size = store.log_tree_size("org_T1").await.unwrap();
    let expected = if size == 5 { [2; 32] } else { [3; 32] };
    assert_eq!(
        store.log_hashes("org_T1", &[4]).await.unwrap(),
        vec![expected]
    );
    // Read in the order asked, repeats included; a missing index is an error.
    assert_eq!(
        store.log_hashes("org_T1", &[3, 0, 3]).await.unwrap(),
        vec![[1; 32], [1; 32], [1; 32]]
    );
    assert!(store.log_hashes("org_T1", &[0, 999]).await.is_err());
    // Another organization's tree is its own.
    assert_eq!(store.log_tree_size("org_T2").await.unwrap(), 0);
    assert!(store.log_hashes("org_T2", &[0]).await.is_err());
}

fn checkpoint(organization_id: &str, size: i64, note: &str) -> StoredCheckpoint {
    StoredCheckpoint {
        organization_id: organization_id.into(),
        tree_size: size,
        note: note.into(),
        created_at: 7,
    }
}

/// At most one checkpoint per size, never one for a size the tree does not have.
pub async fn checkpoints_are_stored_once_and_only_for_built_sizes(store: &dyn Store) {
    organization_with_events(store, "org_C", 5).await;
    assert!(store
        .append_log_hashes("org_C", 0, 5, &hashes(0..8, 1))
        .await
        .unwrap());
    for size in [6, -1] {
        assert!(matches!(
            store.save_checkpoint(&checkpoint("org_C", size, "x")).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert!(matches!(
        store.save_checkpoint(&checkpoint("org_none", 1, "x")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.latest_checkpoint("org_C").await.unwrap().is_none());
    let first = store
        .save_checkpoint(&checkpoint("org_C", 5, "five"))
        .await
        .unwrap();
    assert_eq!(first, checkpoint("org_C", 5, "five"));
    // A second checkpoint for the same size is never stored: the first stays in force.
    let again = store
        .save_checkpoint(&checkpoint("org_C", 5, "another five"))
        .await
        .unwrap();
    assert_eq!(again.note, "five");
    let (three_a, three_b) = (
        checkpoint("org_C", 3, "three a"),
        checkpoint("org_C", 3, "three b"),
    );
    let (a, b) = tokio::join!(
        store.save_checkpoint(&three_a),
        store.save_checkpoint(&three_b),
    );
    assert_eq!(a.unwrap().note, b.unwrap().note, "one checkpoint per size");
    store
        .save_checkpoint(&checkpoint("org_C", 0, "empty"))
        .await
        .unwrap();
    let size = |c: Option<StoredCheckpoint>| c.map(|c| c.tree_size);
    assert_eq!(
        size(store.latest_checkpoint("org_C").await.unwrap()),
        Some(5)
    );
    assert_eq!(
        size(store.checkpoint_at("org_C", 3).await.unwrap()),
        Some(3)
    );
    assert_eq!(size(store.checkpoint_at("org_C", 4).await.unwrap()), None);
    assert_eq!(
        size(store.checkpoint_covering("org_C", 4).await.unwrap()),
        Some(5)
    );
    assert_eq!(
        size(store.checkpoint_covering("org_C", 1).await.unwrap()),
        Some(3)
    );
    assert_eq!(
        size(store.checkpoint_covering("org_C", 0).await.unwrap()),
        Some(0)
    );
    assert_eq!(
        size(store.checkpoint_covering("org_C", 6).await.unwrap()),
        None
    );
    // Built and signed up to its events: no longer in the backlog.
    let backlog = store.log_backlog(100).await.unwrap();
    assert!(backlog.iter().all(|b| b.organization_id != "org_C"));
    // Built further than its newest checkpoint: back in the backlog.
    store
        .append_events(vec![event("org_C", 5, 1)])
        .await
        .unwrap();
    assert!(store
        .append_log_hashes("org_C", 5, 6, &hashes(8..10, 1))
        .await
        .unwrap());
    let backlog = store.log_backlog(100).await.unwrap();
    let lag = backlog
        .iter()
        .find(|b| b.organization_id == "org_C")
        .unwrap();
    assert_eq!(
        (lag.leaf_count, lag.tree_size, lag.checkpoint_size),
        (6, 6, Some(5))
    );
}

/// One builder per organization at a time, like the sweeper's lease.
pub async fn log_builder_leases_are_exclusive(store: &dyn Store) {
    assert!(store.claim_log_builder("org_L", "a", 0, 100).await.unwrap());
    assert!(!store
        .claim_log_builder("org_L", "b", 50, 150)
        .await
        .unwrap());
    assert!(store
        .claim_log_builder("org_L", "a", 60, 160)
        .await
        .unwrap());
    assert!(!store
        .claim_log_builder("org_L", "b", 159, 200)
        .await
        .unwrap());
    assert!(store
        .claim_log_builder("org_L", "b", 160, 260)
        .await
        .unwrap());
    store.release_log_builder("org_L", "a").await.unwrap();
    assert!(!store
        .claim_log_builder("org_L", "a", 170, 270)
        .await
        .unwrap());
    store.release_log_builder("org_L", "b").await.unwrap();
    assert!(store
        .claim_log_builder("org_L", "a", 171, 271)
        .await
        .unwrap());
    // The lease row does not touch the tree.
    assert_eq!(store.log_tree_size("org_L").await.unwrap(), 0);
}

/// A checkpoint's note can gain cosignature lines; other checkpoints are untouched. Runs after
/// [`checkpoints_are_stored_once_and_only_for_built_sizes`] (org_C has checkpoints at 3 and 5).
pub async fn cosigned_notes_replace_the_stored_note(store: &dyn Store) {
    let three = store.checkpoint_at("org_C", 3).await.unwrap().unwrap().note;
    store
        .record_cosigned_note("org_C", 5, "five\n— witness cosignature\n")
        .await
        .unwrap();
    let five = store.checkpoint_at("org_C", 5).await.unwrap().unwrap();
    assert_eq!(five.note, "five\n— witness cosignature\n");
    assert_eq!(
        store.latest_checkpoint("org_C").await.unwrap().unwrap(),
        five
    );
    assert_eq!(
        store.checkpoint_at("org_C", 3).await.unwrap().unwrap().note,
        three
    );
    store
        .record_cosigned_note("org_none", 3, "ignored")
        .await
        .unwrap();
    assert_eq!(store.checkpoint_at("org_none", 3).await.unwrap(), None);
}

/// A new database holds no signing seed (keys live outside it); erasing is idempotent.
pub async fn a_new_database_holds_no_signing_seed(store: &dyn Store) {
    assert_eq!(store.database_signing_seed().await.unwrap(), None);
    store.erase_database_signing_seed().await.unwrap();
    store.erase_database_signing_seed().await.unwrap();
    assert_eq!(store.database_signing_seed().await.unwrap(), None);
}

/// Exports are cut at a sequence number, and their rows carry their leaves.
pub async fn exports_are_cut_at_a_sequence(store: &dyn Store) {
    store
        .create_organization(&organization("org_X"))
        .await
        .unwrap();
    let events: Vec<PendingEvent> = (0..4).map(|n| event("org_X", n, n as i64)).collect();
    store.append_events(events.clone()).await.unwrap();
    let query = |max_sequence| ExportQuery {
        environment: "tlog".into(),
        organization_id: "org_X".into(),
        filters: ExportFilters {
            range_start: 0,
            range_end: 100_000,
            max_sequence,
            ..Default::default()
        },
    };
    let rows = store.export_page(&query(Some(1)), None, 10).await.unwrap();
    // occurred_at decreases with the sequence, so export order is 1, 0.
    let leaves: Vec<(i64, [u8; 32])> = rows.iter().map(|r| (r.sequence, r.leaf_hash)).collect();
    assert_eq!(leaves, vec![(1, [1; 32]), (0, [0; 32])]);
    assert_eq!(store.export_max_targets(&query(Some(1))).await.unwrap(), 1);
    assert_eq!(store.export_max_targets(&query(Some(2))).await.unwrap(), 2);
    assert_eq!(store.export_max_targets(&query(None)).await.unwrap(), 3);
    assert!(store
        .export_page(&query(Some(-1)), None, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .export_page(&query(None), None, 10)
            .await
            .unwrap()
            .len(),
        4
    );
}

/// Reconciliation: sequence numbers without an event row are counted and the first named, in
/// any range (one past the last event too); rows are read back by sequence, redacted ones with
/// their redaction time. `delete_event` deletes a row by id, as an insider with write access
/// to the database would.
pub async fn missing_event_rows_are_named(store: &dyn Store, delete_event: impl AsyncFn(&str)) {
    organization_with_events(store, "org_M", 8).await;
    organization_with_events(store, "org_N", 3).await;
    let missing = async |start, end, limit| {
        store
            .log_missing_sequences("org_M", start, end, limit)
            .await
            .unwrap()
    };
    assert_eq!(missing(0, 8, 100).await, MissingSequences::default());
    assert_eq!(missing(0, 0, 100).await, MissingSequences::default());
    for n in [2, 5, 6] {
        delete_event(&format!("audit_log_event_org_M_{n}")).await;
    }
    let all = MissingSequences {
        total: 5,
        first: vec![2, 5, 6, 8, 9],
    };
    assert_eq!(missing(0, 10, 100).await, all);
    // The limit bounds the names, not the total.
    assert_eq!(
        missing(0, 10, 2).await,
        MissingSequences {
            total: 5,
            first: vec![2, 5],
        }
    );
    // A range that starts inside a gap, and ranges without one.
    assert_eq!(
        missing(6, 8, 100).await,
        MissingSequences {
            total: 1,
            first: vec![6],
        }
    );
    assert_eq!(missing(3, 5, 100).await, MissingSequences::default());
    assert_eq!(missing(7, 8, 100).await, MissingSequences::default());
    // Another organization's rows neither hide nor cause a gap.
    assert_eq!(
        store
            .log_missing_sequences("org_N", 0, 3, 100)
            .await
            .unwrap(),
        MissingSequences::default()
    );

    // Event 0 occurred last (occurred_at = 10_000 - n): redact every other event of org_M.
    let redacted = store
        .redact_events_before("tlog", "org_M", 10_000, 100, 77)
        .await
        .unwrap();
    assert_eq!(redacted, 4);
    let events = store
        .log_events_at("org_M", &[7, 2, 0, 5, 3])
        .await
        .unwrap();
    let logged = |sequence: i64, payload: Option<&str>, redacted_at| LoggedEvent {
        sequence,
        leaf_hash: [sequence as u8; 32],
        payload: payload.map(str::to_string),
        redacted_at,
    };
    assert_eq!(
        events,
        vec![
            logged(0, Some("{\"n\":0}"), None),
            logged(3, None, Some(77)),
            logged(7, None, Some(77)),
        ]
    );
    assert!(store.log_events_at("org_M", &[]).await.unwrap().is_empty());
}
