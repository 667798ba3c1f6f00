//! The SQLite store under storage faults: a full database answers `Unavailable`, and every
//! write path works again once the fault is gone, without reopening the store.

use super::test_fixtures::{self, open, organization};
use super::{begin_write, SqliteStore};
use crate::error::StoreError;
use crate::types::{AppendOutcome, ClaimOutcome, PendingEvent};
use crate::{EventStore, IdempotencyStore, OrganizationStore};

fn event(n: usize, payload_bytes: usize) -> PendingEvent {
    PendingEvent {
        payload: "x".repeat(payload_bytes),
        ..test_fixtures::event("org_1", n as i64)
    }
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
    let (_dir, store) = open(&["org_1"]).await;
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
    let (_dir, store) = open(&["org_1"]).await;
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
