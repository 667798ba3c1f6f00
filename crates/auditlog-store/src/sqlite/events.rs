use super::{event_bulk, event_writer, SqliteStore};
use crate::error::{StoreError, StoreResult};
use crate::rows::{EventRow, EVENT_COLUMNS};
use crate::types::{AppendOutcome, BulkOutcome, IdempotencyRecord, PendingEvent, StoredEvent};
use crate::EventStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use std::sync::Arc;

impl SqliteStore {
    /// Runs `write` on the ingest connection (rusqlite, on a blocking thread) under the store's
    /// writer mutex, which keeps the sqlx writer idle meanwhile. Whatever `write` logs belongs
    /// to the caller's span.
    async fn on_ingest_connection<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let _writer = self.lock_writer().await?;
        let ingest = Arc::clone(&self.ingest_writer);
        let checkpointer = Arc::clone(&self.checkpointer);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = ingest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            checkpointer.before_write();
            let written = write(&mut connection);
            checkpointer.after_write(&connection);
            written
        })
        .await
        .map_err(|error| StoreError::Other(Box::new(error)))?
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        self.on_ingest_connection(move |connection| event_writer::append(connection, &batch))
            .await
    }

    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        self.on_ingest_connection(move |connection| {
            event_bulk::append_all(connection, &batch, idempotency.as_ref())
        })
        .await
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
