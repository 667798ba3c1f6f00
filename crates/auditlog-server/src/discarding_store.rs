//! The ingest-ceiling diagnostic (`bench/ceiling.sh`): an event store that answers every event
//! of a batch "stored" and keeps none of them, so that a benchmark measures the whole ingest
//! path (API key, body, JSON, validation, canonical bytes, leaf hash, group-commit queue,
//! response) except the database. Only a binary built with the `ceiling-diagnostic` feature
//! uses it, and that binary loses every event it acknowledges: never ship one.

use async_trait::async_trait;
use auditlog_store::{
    AppendOutcome, BulkOutcome, EventStore, IdempotencyRecord, PendingEvent, StoreResult,
    StoredEvent,
};
use std::sync::Arc;

pub struct DiscardingEventStore {
    /// Reads still go to the real store (which holds none of the discarded events).
    reads: Arc<dyn EventStore>,
}

impl DiscardingEventStore {
    pub fn new(reads: Arc<dyn EventStore>) -> DiscardingEventStore {
        DiscardingEventStore { reads }
    }
}

#[async_trait]
impl EventStore for DiscardingEventStore {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        Ok((0..batch.len() as i64)
            .map(|sequence| AppendOutcome::Stored { sequence })
            .collect())
    }

    /// Answers "all stored" and keeps nothing, as `append_batch` does (the idempotency record
    /// goes too: a retry of a discarded bulk is discarded again).
    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        _idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        Ok(BulkOutcome::Stored {
            sequences: (0..batch.len() as i64).collect(),
        })
    }

    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        self.reads.get_event(environment, id).await
    }

    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.reads
            .list_events_by_sequence(environment, organization_id)
            .await
    }
}

/// The store the group-commit writer and bulk ingest append to: the real one, or in a
/// `ceiling-diagnostic` build the discarding one.
pub fn ingest_store(store: Arc<dyn EventStore>) -> Arc<dyn EventStore> {
    if cfg!(feature = "ceiling-diagnostic") {
        tracing::warn!("ceiling-diagnostic build: events are acknowledged and NOT stored");
        Arc::new(DiscardingEventStore::new(store))
    } else {
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_store::sqlite::SqliteStore;

    #[tokio::test]
    async fn answers_stored_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn EventStore> =
            Arc::new(SqliteStore::open(&dir.path().join("db")).await.unwrap());
        let discarding = DiscardingEventStore::new(store.clone());
        let event = |id: &str| PendingEvent {
            id: id.into(),
            environment: "env".into(),
            organization_id: "org_1".into(),
            occurred_at: 0,
            received_at: 0,
            action: "user.signed_in".into(),
            actor_id: "user_1".into(),
            actor_name: None,
            target_types: Vec::new(),
            target_count: 0,
            payload: "{}".into(),
            leaf_hash: [0; 32],
            idempotency: None,
        };
        let outcomes = discarding
            .append_events(vec![event("e1"), event("e2")])
            .await
            .unwrap();
        assert!(matches!(
            outcomes.as_slice(),
            [
                AppendOutcome::Stored { sequence: 0 },
                AppendOutcome::Stored { sequence: 1 }
            ]
        ));
        assert!(discarding.get_event("env", "e1").await.unwrap().is_none());
        assert!(store.get_event("env", "e1").await.unwrap().is_none());
    }
}
