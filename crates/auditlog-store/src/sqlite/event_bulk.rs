//! A bulk append (`EventStore::append_all`): every event of the bulk in one IMMEDIATE
//! transaction on the ingest connection, or none of them. It reuses the group-commit writer's
//! statements (`event_writer`), so a bulk event is stored exactly as a single one is.

use super::event_writer::{find_unexpired, insert_events, last_sequence, upsert};
use crate::error::StoreResult;
use crate::types::{BulkOutcome, IdempotencyRecord, PendingEvent};
use rusqlite::{params, Connection, TransactionBehavior};
use std::collections::HashMap;

/// Writes the whole bulk and its idempotency record in one transaction. Returning early drops
/// the transaction, which rolls it back: a replay or a missing organization writes nothing.
pub(super) fn append_all(
    connection: &mut Connection,
    batch: &[PendingEvent],
    idempotency: Option<&IdempotencyRecord>,
) -> StoreResult<BulkOutcome> {
    // As in `event_writer::append`: a transaction left open by a failed COMMIT and ROLLBACK
    // would keep every later one from beginning.
    if !connection.is_autocommit() {
        connection.execute_batch("ROLLBACK")?;
    }
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The key decides first, as for single events: a retry replays its first answer even if
    // an organization was deleted since.
    if let Some(record) = idempotency {
        if let Some(existing) = find_unexpired(&tx, record)? {
            return Ok(BulkOutcome::Replay(existing));
        }
    }
    // Counters read once per organization and bumped in memory; the store's single writer
    // serializes this transaction with the group commit's, so numbers have no gaps.
    let mut counters: HashMap<(&str, &str), i64> = HashMap::new();
    let mut stored: Vec<(&PendingEvent, i64)> = Vec::with_capacity(batch.len());
    for event in batch {
        let scope = (event.environment.as_str(), event.organization_id.as_str());
        let sequence = match counters.get_mut(&scope) {
            Some(last) => {
                *last += 1;
                *last
            }
            None => match last_sequence(&tx, scope.0, scope.1)? {
                Some(last) => {
                    counters.insert(scope, last + 1);
                    last + 1
                }
                None => {
                    return Ok(BulkOutcome::OrganizationNotFound(
                        event.organization_id.clone(),
                    ))
                }
            },
        };
        stored.push((event, sequence));
    }
    insert_events(&tx, &stored)?;
    for ((environment, organization_id), last) in &counters {
        tx.prepare_cached(
            "UPDATE organizations SET last_sequence = ? WHERE environment = ? AND id = ?",
        )?
        .execute(params![last, environment, organization_id])?;
    }
    if let Some(record) = idempotency {
        upsert(&tx, record)?;
    }
    // WAL with synchronous=FULL: COMMIT returns once the WAL is fsync'd.
    tx.commit()?;
    Ok(BulkOutcome::Stored {
        sequences: stored.iter().map(|(_, sequence)| *sequence).collect(),
    })
}
