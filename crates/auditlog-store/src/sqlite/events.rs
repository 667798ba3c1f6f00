use super::{event_writer, hash_from_blob, SqliteStore};
use crate::error::{StoreError, StoreResult};
use crate::types::{AppendOutcome, PendingEvent, StoredEvent};
use crate::EventStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::AssertSqlSafe;
use sqlx::Row;
use std::sync::Arc;

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

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        // The store's one writer at a time: the batch goes through the ingest connection
        // (`event_writer`) while this guard keeps the sqlx writer idle.
        let _writer = self.lock_writer().await?;
        let ingest = Arc::clone(&self.ingest_writer);
        tokio::task::spawn_blocking(move || {
            let mut connection = ingest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            event_writer::append(&mut connection, &batch)
        })
        .await
        .map_err(|error| StoreError::Other(Box::new(error)))?
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
