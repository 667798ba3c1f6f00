use super::{event_bulk, event_writer, SqliteStore};
use crate::error::{StoreError, StoreResult};
use crate::rows::{EventRow, EVENT_COLUMNS};
use crate::types::{AppendOutcome, BulkOutcome, IdempotencyRecord, PendingEvent, StoredEvent};
use crate::EventStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use std::sync::Arc;

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        // The store's one writer at a time: the batch goes through the ingest connection
        // (`event_writer`) while this guard keeps the sqlx writer idle.
        let _writer = self.lock_writer().await?;
        let ingest = Arc::clone(&self.ingest_writer);
        // Whatever the append logs belongs to the ingest writer's span.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = ingest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            event_writer::append(&mut connection, &batch)
        })
        .await
        .map_err(|error| StoreError::Other(Box::new(error)))?
    }

    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        // As `append_batch`: the ingest connection, under the store's writer mutex.
        let _writer = self.lock_writer().await?;
        let ingest = Arc::clone(&self.ingest_writer);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = ingest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            event_bulk::append_all(&mut connection, &batch, idempotency.as_ref())
        })
        .await
        .map_err(|error| StoreError::Other(Box::new(error)))?
    }

    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        let row = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment = ? AND id = ?"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(StoredEvent::from))
    }

    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment = ? AND organization_id = ? ORDER BY sequence"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }
}
