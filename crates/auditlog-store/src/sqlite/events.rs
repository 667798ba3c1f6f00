use super::idempotency::{find_unexpired, upsert};
use super::{hash_from_blob, SqliteStore};
use crate::error::StoreResult;
use crate::types::{AppendOutcome, IdempotencyRecord, PendingEvent, StoredEvent};
use crate::EventStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::AssertSqlSafe;
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;

pub(super) const COLUMNS: &str =
    "id, environment, organization_id, sequence, occurred_at, received_at, action,
    actor_id, actor_name, payload, leaf_hash";

pub(super) fn from_row(row: &SqliteRow) -> StoredEvent {
    StoredEvent {
        id: row.get("id"),
        environment: row.get("environment"),
        organization_id: row.get("organization_id"),
        sequence: row.get("sequence"),
        occurred_at: row.get("occurred_at"),
        received_at: row.get("received_at"),
        action: row.get("action"),
        actor_id: row.get("actor_id"),
        actor_name: row.get("actor_name"),
        payload: row.get("payload"),
        leaf_hash: hash_from_blob(row.get("leaf_hash")),
    }
}

/// The last sequence number of a live organization, or `None` if it does not exist there.
async fn last_sequence(
    tx: &mut SqliteConnection,
    environment: &str,
    organization_id: &str,
) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT last_sequence FROM organizations WHERE environment = ? AND id = ? AND deleted_at IS NULL",
    )
    .bind(environment)
    .bind(organization_id)
    .fetch_optional(tx)
    .await?)
}

/// Statement sizes for multi-row inserts: a batch of n rows is split greedily into chunks of
/// these sizes, so at most a handful of distinct statements exist (each prepared once and kept
/// in the connection's statement cache) and a batch costs a few statements, not one per row.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

fn chunks<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    for size in CHUNKS {
        while rows.len() >= size {
            out.push(&rows[..size]);
            rows = &rows[size..];
        }
    }
    out
}

fn values_list(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// Inserts the batch's stored events and their target types with a few multi-row statements.
async fn insert_events(
    tx: &mut SqliteConnection,
    stored: &[(&PendingEvent, i64)],
) -> StoreResult<()> {
    for chunk in chunks(stored) {
        let sql = format!(
            "INSERT INTO events (id, environment, organization_id, sequence, occurred_at, received_at,
                 action, actor_id, actor_name, target_count, payload, leaf_hash) VALUES {}",
            values_list(chunk.len(), 12)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (event, sequence) in chunk {
            query = query
                .bind(&event.id)
                .bind(&event.environment)
                .bind(&event.organization_id)
                .bind(*sequence)
                .bind(event.occurred_at)
                .bind(event.received_at)
                .bind(&event.action)
                .bind(&event.actor_id)
                .bind(&event.actor_name)
                .bind(event.target_count)
                .bind(&event.payload)
                .bind(&event.leaf_hash[..]);
        }
        query.execute(&mut *tx).await?;
    }
    let types: Vec<(&str, &str)> = stored
        .iter()
        .flat_map(|(event, _)| {
            event
                .target_types
                .iter()
                .map(move |t| (event.id.as_str(), t.as_str()))
        })
        .collect();
    for chunk in chunks(&types) {
        // The events were inserted just above in this transaction: join on their unique id
        // to get each row id.
        let sql = format!(
            "WITH t(event_id, target_type) AS (VALUES {})
             INSERT OR IGNORE INTO event_target_types (organization_id, target_type, occurred_at, event_row_id)
             SELECT e.organization_id, t.target_type, e.occurred_at, e.row_id
             FROM t JOIN events e ON e.id = t.event_id",
            values_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (event_id, target_type) in chunk {
            query = query.bind(*event_id).bind(*target_type);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_events(&self, batch: &[PendingEvent]) -> StoreResult<Vec<AppendOutcome>> {
        let mut writer = self.writer.lock().await;
        let mut tx = super::begin_write(&mut writer).await?;
        // Sequence counters of the organizations in this batch: read once, bumped in memory,
        // written back once. The single writer connection serializes batches, so numbers are
        // handed out without gaps and become visible in commit order.
        let mut counters: HashMap<(String, String), Option<i64>> = HashMap::new();
        let mut claimed: HashMap<(String, String), IdempotencyRecord> = HashMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut stored: Vec<(&PendingEvent, i64)> = Vec::with_capacity(batch.len());
        for event in batch {
            if let Some(record) = &event.idempotency {
                let scope = (record.environment.clone(), record.key.clone());
                if let Some(first) = claimed.get(&scope) {
                    outcomes.push(AppendOutcome::Replay(first.clone()));
                    continue;
                }
                if let Some(existing) =
                    find_unexpired(&mut tx, &record.environment, &record.key, record.created_at)
                        .await?
                {
                    outcomes.push(AppendOutcome::Replay(existing));
                    continue;
                }
            }
            let scope = (event.environment.clone(), event.organization_id.clone());
            let counter = match counters.get(&scope) {
                Some(counter) => *counter,
                None => {
                    let current =
                        last_sequence(&mut tx, &event.environment, &event.organization_id).await?;
                    counters.insert(scope.clone(), current);
                    current
                }
            };
            let Some(previous) = counter else {
                outcomes.push(AppendOutcome::OrganizationNotFound);
                continue;
            };
            let sequence = previous + 1;
            stored.push((event, sequence));
            if let Some(record) = &event.idempotency {
                upsert(&mut tx, record).await?;
                claimed.insert(
                    (record.environment.clone(), record.key.clone()),
                    record.clone(),
                );
            }
            counters.insert(scope, Some(sequence));
            outcomes.push(AppendOutcome::Stored { sequence });
        }
        insert_events(&mut tx, &stored).await?;
        for ((environment, organization_id), counter) in &counters {
            if let Some(last) = counter {
                sqlx::query(
                    "UPDATE organizations SET last_sequence = ? WHERE environment = ? AND id = ?",
                )
                .bind(last)
                .bind(environment)
                .bind(organization_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        // With journal_mode=WAL and synchronous=FULL, COMMIT returns after the WAL is fsync'd.
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE environment = ? AND id = ?"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE environment = ? AND organization_id = ? ORDER BY sequence"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }
}
