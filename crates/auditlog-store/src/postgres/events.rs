use super::event_columns::EventColumns;
use super::idempotency::{delete_placeholders, lock_or_insert_records, overwrite, replays, Scope};
use super::{event_batch, PostgresStore};
use crate::error::StoreResult;
use crate::rows::{EventRow, EVENT_COLUMNS};
use crate::types::{AppendOutcome, BulkOutcome, IdempotencyRecord, PendingEvent, StoredEvent};
use crate::EventStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, PgConnection};
use std::collections::HashMap;
use std::sync::Arc;

/// (environment, organization id)
pub(super) type OrganizationKey = (String, String);

/// Locks the counter rows of the live organizations among `organizations` until the end of the
/// transaction and returns their last sequence numbers; missing or deleted ones are absent.
///
/// The lock is what makes sequence numbers gap- and duplicate-free across nodes: a second
/// batch for the same organization (from any node) waits here until the first one commits,
/// then reads the counter the first one wrote. Rows are locked in id order (the lock is taken
/// above the sort), so two batches sharing several organizations queue rather than deadlock.
/// `FOR NO KEY UPDATE` is the lock the final UPDATE takes anyway; unlike `FOR UPDATE` it leaves
/// the redaction sweeper's `FOR KEY SHARE` alone, so a sweep does not stall ingest.
pub(super) async fn lock_counters(
    tx: &mut PgConnection,
    organizations: &[&OrganizationKey],
) -> StoreResult<HashMap<OrganizationKey, i64>> {
    let environments: Vec<&str> = organizations.iter().map(|(e, _)| e.as_str()).collect();
    let ids: Vec<&str> = organizations.iter().map(|(_, id)| id.as_str()).collect();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.environment, o.id, o.last_sequence
         FROM organizations o
         JOIN UNNEST($1::text[], $2::text[]) AS k(environment, id)
             ON o.environment = k.environment AND o.id = k.id
         WHERE o.deleted_at IS NULL
         ORDER BY o.id
         FOR NO KEY UPDATE OF o",
    )
    .bind(&environments)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(environment, id, last)| ((environment, id), last))
        .collect())
}

/// Inserts the events (one statement for the whole batch, arrays unnested server-side) and
/// their distinct target types.
pub(super) async fn insert_events(
    tx: &mut PgConnection,
    stored: &[(&PendingEvent, i64)],
) -> StoreResult<()> {
    if stored.is_empty() {
        return Ok(());
    }
    let columns = EventColumns::new(stored.iter().map(|(event, _)| *event));
    let sequences: Vec<i64> = stored.iter().map(|(_, sequence)| *sequence).collect();
    // A data-modifying CTE runs to completion exactly once, so every event is inserted even if
    // it has no target types.
    let query = sqlx::query(
        "WITH inserted AS (
             INSERT INTO events (id, environment, organization_id, occurred_at, received_at,
                 action, actor_id, actor_name, target_count, payload, leaf_hash, sequence)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[],
                 $6::text[], $7::text[], $8::text[], $9::int8[], $10::text[], $11::bytea[],
                 $14::int8[])
             RETURNING row_id, id, organization_id, occurred_at
         )
         INSERT INTO event_target_types (organization_id, target_type, occurred_at, event_row_id)
         SELECT DISTINCT i.organization_id, t.target_type, i.occurred_at, i.row_id
         FROM inserted i JOIN UNNEST($12::text[], $13::text[]) AS t(event_id, target_type)
             ON t.event_id = i.id
         ON CONFLICT DO NOTHING",
    );
    columns
        .bind(query)
        .bind(&sequences)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Without idempotency keys there is nothing to decide between statements: the whole
        // batch is one statement, one round trip (see `event_batch`).
        if batch.iter().all(|event| event.idempotency.is_none()) {
            return event_batch::append_in_one_statement(&self.pool, &batch).await;
        }
        // Keyed batches whose keys are all new (the usual case) are one statement too; if a key
        // turns out to have a row, that statement wrote nothing and the steps below decide.
        if event_batch::keys_are_distinct(&batch) {
            if let Some(outcomes) =
                event_batch::append_keyed_in_one_statement(&self.pool, &batch).await?
            {
                return Ok(outcomes);
            }
        }
        let mut tx = self.pool.begin().await?;

        // 1. The organizations' counter rows, locked in id order (see `lock_counters`).
        let mut organizations: Vec<OrganizationKey> = batch
            .iter()
            .map(|e| (e.environment.clone(), e.organization_id.clone()))
            .collect();
        organizations.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        organizations.dedup();
        let organization_refs: Vec<&OrganizationKey> = organizations.iter().collect();
        let mut counters = lock_counters(&mut tx, &organization_refs).await?;
        let initial = counters.clone();

        // 2. The batch's idempotency keys, locked in key order (always after the organizations:
        //    one global lock order). From here until commit nobody else can store or replace a
        //    response for them, so deciding "replay or store" below is race-free across nodes.
        //    A new key gets its record now (each key's first event in the batch): the usual
        //    case, a fresh key, then costs this one statement.
        let records: Vec<&IdempotencyRecord> = batch
            .iter()
            .filter_map(|e| e.idempotency.as_ref())
            .collect();
        let (existing, inserted) = lock_or_insert_records(&mut tx, &records).await?;

        // 3. Outcomes, decided exactly as the SQLite store does: a key stored earlier in this
        //    batch or a completed unexpired record replays; otherwise the event needs a live
        //    organization, and takes the next number of its counter.
        let mut claimed: HashMap<Scope, &IdempotencyRecord> = HashMap::new();
        let mut stored: Vec<(&PendingEvent, i64)> = Vec::with_capacity(batch.len());
        let mut outcomes = Vec::with_capacity(batch.len());
        for event in batch.iter() {
            if let Some(record) = &event.idempotency {
                let scope = (record.environment.clone(), record.key.clone());
                if let Some(first) = claimed.get(&scope) {
                    outcomes.push(AppendOutcome::Replay((*first).clone()));
                    continue;
                }
                if let Some(locked) = existing.get(&scope).filter(|row| replays(row, record)) {
                    outcomes.push(AppendOutcome::Replay(locked.record.clone()));
                    continue;
                }
            }
            let scope = (event.environment.clone(), event.organization_id.clone());
            let Some(last) = counters.get_mut(&scope) else {
                outcomes.push(AppendOutcome::OrganizationNotFound);
                continue;
            };
            *last += 1;
            stored.push((event, *last));
            if let Some(record) = &event.idempotency {
                claimed.insert((record.environment.clone(), record.key.clone()), record);
            }
            outcomes.push(AppendOutcome::Stored { sequence: *last });
        }

        // 4. Responses in force from now on: rows that held something else (in-flight claims,
        //    expired records, or the record of a first event that was not stored) are
        //    overwritten; rows inserted for keys that stored nothing go.
        let first_records: HashMap<Scope, &IdempotencyRecord> = records
            .iter()
            .rev()
            .map(|r| ((r.environment.clone(), r.key.clone()), *r))
            .collect();
        let to_overwrite: Vec<&IdempotencyRecord> = claimed
            .iter()
            .filter(|(scope, record)| {
                !(inserted.contains(*scope) && first_records.get(*scope) == Some(*record))
            })
            .map(|(_, record)| *record)
            .collect();
        overwrite(&mut tx, &to_overwrite).await?;
        let unused: Vec<&Scope> = inserted
            .iter()
            .filter(|scope| !claimed.contains_key(*scope))
            .collect();
        delete_placeholders(&mut tx, &unused).await?;

        // 5. The events, then the counters they advanced (rows we hold locked).
        insert_events(&mut tx, &stored).await?;
        let advanced: Vec<(&str, i64)> = counters
            .iter()
            .filter(|(scope, last)| initial.get(*scope) != Some(*last))
            .map(|((_, id), last)| (id.as_str(), *last))
            .collect();
        if !advanced.is_empty() {
            let ids: Vec<&str> = advanced.iter().map(|(id, _)| *id).collect();
            let lasts: Vec<i64> = advanced.iter().map(|(_, last)| *last).collect();
            sqlx::query(
                "UPDATE organizations o SET last_sequence = u.last
                 FROM UNNEST($1::text[], $2::int8[]) AS u(id, last) WHERE o.id = u.id",
            )
            .bind(&ids)
            .bind(&lasts)
            .execute(&mut *tx)
            .await?;
        }

        // With synchronous_commit on (see `PostgresStore::connect`), COMMIT returns after the
        // WAL is flushed: the batch is durable before any waiter hears "stored".
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        self.append_bulk(&batch, idempotency.as_ref()).await
    }

    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        let row = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment = $1 AND id = $2"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredEvent::from))
    }

    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment = $1 AND organization_id = $2
             ORDER BY sequence"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }
}
