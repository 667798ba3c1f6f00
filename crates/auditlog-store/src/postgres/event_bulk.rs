//! A bulk append (`EventStore::append_all`): all of it in one transaction, or nothing.
//!
//! Locks are taken in the global order of every event path (`events.rs`, `event_batch`):
//! the organizations' counter rows first, in id order, then the idempotency key. A bulk sharing
//! organizations with group-commit batches (on this node or another) therefore queues behind
//! them or they behind it, and never deadlocks. The events go in with the group commit's
//! multi-row `UNNEST` statement: one round trip for the whole bulk and its target types.

use super::events::{insert_events, lock_counters, OrganizationKey};
use super::idempotency::{lock_or_insert_records, overwrite, replays};
use super::PostgresStore;
use crate::error::StoreResult;
use crate::types::{BulkOutcome, IdempotencyRecord, PendingEvent};
use std::collections::{HashMap, HashSet};

impl PostgresStore {
    pub(super) async fn append_bulk(
        &self,
        batch: &[PendingEvent],
        idempotency: Option<&IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome> {
        let mut tx = self.pool.begin().await?;

        // 1. The counter rows, locked in id order until commit (see `lock_counters`).
        let distinct: HashSet<(&str, &str)> = batch
            .iter()
            .map(|e| (e.environment.as_str(), e.organization_id.as_str()))
            .collect();
        let mut organizations: Vec<OrganizationKey> = distinct
            .iter()
            .map(|(environment, id)| (environment.to_string(), id.to_string()))
            .collect();
        organizations.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        let organization_refs: Vec<&OrganizationKey> = organizations.iter().collect();
        let locked = lock_counters(&mut tx, &organization_refs).await?;
        // Looked up per event below without allocating a key.
        let mut counters: HashMap<(&str, &str), i64> = locked
            .iter()
            .map(|((environment, id), last)| ((environment.as_str(), id.as_str()), *last))
            .collect();

        // 2. The key, locked (or inserted with its final record) after the counters. It decides
        //    before the organizations do, as for single events: a retry replays its first answer.
        if let Some(record) = idempotency {
            let (existing, _inserted) = lock_or_insert_records(&mut tx, &[record]).await?;
            let scope = (record.environment.clone(), record.key.clone());
            if let Some(row) = existing.get(&scope) {
                if replays(row, record) {
                    tx.rollback().await?;
                    return Ok(BulkOutcome::Replay(row.record.clone()));
                }
                // An expired record or a lapsed claim: this request takes the key over.
                overwrite(&mut tx, &[record]).await?;
            }
        }

        // 3. Every organization must be live; otherwise nothing is written (the key row
        //    inserted above goes with the rollback).
        if let Some(event) = batch
            .iter()
            .find(|e| !counters.contains_key(&(e.environment.as_str(), e.organization_id.as_str())))
        {
            tx.rollback().await?;
            return Ok(BulkOutcome::OrganizationNotFound(
                event.organization_id.clone(),
            ));
        }

        // 4. Numbers in batch order, the events, then the counters they advanced.
        let mut stored: Vec<(&PendingEvent, i64)> = Vec::with_capacity(batch.len());
        for event in batch {
            // Present: step 3 checked every event's organization.
            if let Some(last) =
                counters.get_mut(&(event.environment.as_str(), event.organization_id.as_str()))
            {
                *last += 1;
                stored.push((event, *last));
            }
        }
        insert_events(&mut tx, &stored).await?;
        // Every locked organization has at least one event of the bulk, so each advanced.
        let mut environments = Vec::with_capacity(counters.len());
        let mut ids = Vec::with_capacity(counters.len());
        let mut lasts = Vec::with_capacity(counters.len());
        for ((environment, id), last) in &counters {
            environments.push(*environment);
            ids.push(*id);
            lasts.push(*last);
        }
        sqlx::query(
            "UPDATE organizations o SET last_sequence = u.last
             FROM UNNEST($1::text[], $2::text[], $3::int8[]) AS u(environment, id, last)
             WHERE o.environment = u.environment AND o.id = u.id",
        )
        .bind(&environments)
        .bind(&ids)
        .bind(&lasts)
        .execute(&mut *tx)
        .await?;

        // synchronous_commit is on: COMMIT returns once the WAL is flushed.
        tx.commit().await?;
        Ok(BulkOutcome::Stored {
            sequences: stored.iter().map(|(_, sequence)| *sequence).collect(),
        })
    }
}
