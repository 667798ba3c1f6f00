//! The SQLite store under storage faults: a full database answers `Unavailable`, and every
//! write path works again once the fault is gone, without reopening the store.

use super::{begin_write, SqliteStore};
use crate::error::StoreError;
use crate::types::{AppendOutcome, ClaimOutcome, Organization, PendingEvent};
use crate::{EventStore, IdempotencyStore, OrganizationStore};

fn organization(id: &str, name: String) -> Organization {
    Organization {
        id: id.into(),
        environment: "default".into(),
        name,
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 0,
        updated_at: 0,
    }
}

fn event(n: usize, payload_bytes: usize) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{n:026}"),
        environment: "default".into(),
        organization_id: "org_1".into(),
        occurred_at: n as i64,
        received_at: n as i64,
        action: "a.b".into(),
        actor_id: "u".into(),
        actor_name: None,
        target_types: vec![],
        target_count: 0,
        payload: "x".repeat(payload_bytes),
        leaf_hash: [0; 32],
        idempotency: None,
    }
}

async fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    store
        .create_organization(&organization("org_1", "One".into()))
        .await
        .unwrap();
    (dir, store)
}

/// Caps (or uncaps) the database size on both writer connections: SQLITE_FULL, as from a
/// full disk, for any write that needs a new page.
async fn cap_size(store: &SqliteStore, capped: bool) {
    let pages: i64 = if capped { 1 } else { 1 << 30 };
    let mut writer = store.lock_writer().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {pages}"
    )))
    .execute(&mut *writer)
    .await
    .unwrap();
    let ingest = store.ingest_writer.lock().unwrap();
    ingest.pragma_update(None, "max_page_count", pages).unwrap();
}

#[tokio::test]
async fn a_full_database_is_unavailable_until_space_returns() {
    let (_dir, store) = open().await;
    cap_size(&store, true).await;
    let big = organization("org_2", "n".repeat(200_000));
    let refused = store.create_organization(&big).await.unwrap_err();
    assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
    let batch = vec![event(1, 200_000)];
    let refused = store.append_events(batch.clone()).await.unwrap_err();
    assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");

    cap_size(&store, false).await;
    store.create_organization(&big).await.unwrap();
    let outcomes = store.append_events(batch).await.unwrap();
    assert_eq!(outcomes, vec![AppendOutcome::Stored { sequence: 0 }]);
}

/// When COMMIT fails on a full disk, SQLite rolls the transaction back by itself; the
/// ROLLBACK sqlx sends afterwards then fails, leaving sqlx counting a transaction that is
/// gone. Reproduced here by ending the transaction behind sqlx's back.
#[tokio::test]
async fn a_writer_left_in_a_failed_transaction_heals() {
    let (_dir, store) = open().await;
    {
        let mut writer = store.lock_writer().await.unwrap();
        let mut transaction = begin_write(&mut writer).await.unwrap();
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut *transaction)
            .await
            .unwrap();
    }
    let claimed = store
        .claim_idempotency("default", "key", &[1; 32], 0, 1_000)
        .await
        .unwrap();
    assert_eq!(claimed, ClaimOutcome::Claimed);
}
