//! The SQLite schema after migration 0012: the sweeper finds its batches in the partial time
//! index and deletes target-type rows by event, and the read paths use the indexes they need.

use super::event_filter::{EventQuery, SqlValue};
use super::retention::{DELETE_TARGET_TYPES, SWEEP_BATCH};
use super::test_fixtures::{self, open};
use super::SqliteStore;
use crate::types::{ExportQuery, PendingEvent};
use crate::{EventStore, RetentionStore};
use auditlog_domain::export::ExportFilters;
use std::sync::Arc;

fn event(organization_id: &str, n: i64, target_types: &[&str]) -> PendingEvent {
    PendingEvent {
        target_types: target_types.iter().map(|t| t.to_string()).collect(),
        target_count: target_types.len() as i64,
        ..test_fixtures::event(organization_id, n)
    }
}

/// `(organization, target type, occurred_at)` of every target-type row, in key order.
async fn target_type_rows(store: &SqliteStore) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT e.organization_id, t.target_type, e.occurred_at
         FROM event_target_types t JOIN events e ON e.row_id = t.event_row_id
         ORDER BY e.organization_id, t.target_type, e.occurred_at",
    )
    .fetch_all(&store.readers)
    .await
    .unwrap()
}

async fn plan(store: &SqliteStore, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(&store.readers)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn redaction_deletes_exactly_the_redacted_events_target_type_rows() {
    let (_dir, store) = open(&["org_a", "org_b"]).await;
    // Events 1..=9 in org_a with one, two or no target types; org_b shares a type and times.
    let types: [&[&str]; 3] = [&["team"], &["user", "document"], &[]];
    let batch: Vec<PendingEvent> = (1..=9)
        .map(|n| event("org_a", n, types[n as usize % 3]))
        .chain((1..=9).map(|n| event("org_b", n, &["team"])))
        .collect();
    store.append_batch(Arc::from(batch)).await.unwrap();

    // Batches of two, as the sweeper loops, up to an exclusive cutoff of 6.
    let mut redacted = 0;
    loop {
        let n = store
            .redact_events_before("default", "org_a", 6, 2, 100)
            .await
            .unwrap();
        redacted += n;
        if n < 2 {
            break;
        }
    }
    assert_eq!(redacted, 5);

    let expected_a: Vec<(String, String, i64)> = (6..=9)
        .flat_map(|n| {
            types[n as usize % 3]
                .iter()
                .map(move |t| (t.to_string(), n))
        })
        .map(|(t, n)| ("org_a".to_string(), t, n))
        .collect();
    let mut expected = expected_a;
    expected.extend((1..=9).map(|n| ("org_b".to_string(), "team".to_string(), n)));
    expected.sort();
    assert_eq!(target_type_rows(&store).await, expected);
}

#[tokio::test]
async fn sweeper_and_readers_use_the_indexes_they_were_built_for() {
    let (_dir, store) = open(&["org_a", "org_b"]).await;
    assert!(
        plan(&store, SWEEP_BATCH)
            .await
            .contains("USING INDEX events_by_time (organization_id=? AND occurred_at<?)"),
        "{}",
        plan(&store, SWEEP_BATCH).await
    );
    let delete = plan(&store, DELETE_TARGET_TYPES).await;
    assert!(
        delete.contains("USING PRIMARY KEY (event_row_id=?)"),
        "{delete}"
    );
    // A page of the list API, as `list_events` builds it.
    let query = ExportQuery {
        environment: "default".into(),
        organization_id: "org_a".into(),
        filters: ExportFilters {
            range_start: 0,
            range_end: 100,
            targets: vec!["team".into()],
            ..Default::default()
        },
    };
    let mut page = EventQuery::new("SELECT e.id FROM events e");
    page.page(&query, None, true)
        .push(" ORDER BY e.occurred_at ASC, e.id ASC LIMIT ")
        .bind(SqlValue::Int(10));
    let list = plan(&store, &page.sql).await;
    assert!(list.contains("USING INDEX events_by_time"), "{list}");
    assert!(!list.contains("TEMP B-TREE"), "{list}");
    // The `targets` filter: one primary-key probe per candidate event.
    assert!(
        list.contains("SEARCH t EXISTS USING PRIMARY KEY (event_row_id=? AND target_type=?)"),
        "{list}"
    );
}
