//! The ingest write path: one batch of events in one transaction, on a rusqlite connection
//! on a blocking thread.
//!
//! Through sqlx every statement of a batch (sequence lookups, multi-row inserts, counter
//! updates, the commit) was a round trip to sqlx's worker thread, with its arguments copied on
//! the way; the whole batch now runs in one hop. The connection writes under the store's
//! writer mutex, so it never competes with the sqlx writer connection for SQLite's lock.

use super::connections::Role;
use super::idempotency;
use crate::error::StoreResult;
use crate::types::{AppendOutcome, IdempotencyRecord, PendingEvent};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::Path;

/// Statement sizes for multi-row inserts: a batch of n rows is split greedily into chunks of
/// these sizes, so at most a handful of distinct statements exist (each prepared once and kept
/// in the connection's statement cache) and a batch costs a few statements, not one per row.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// Opens the ingest writer, set up as the sqlx writer is (`connections::WRITER_PRAGMAS`: WAL
/// with `synchronous=FULL`, so a commit is on disk when it returns).
pub(super) fn open(path: &Path) -> StoreResult<Connection> {
    let connection = super::connections::open_rusqlite(path, Role::Writer)?;
    // The page cache stays at SQLite's default (2 MB). With 32 MB, every commit spent longer in
    // `pcache1TruncateUnsafe` (a scan of the whole cache; 11-19 % of the server's CPU under
    // load), and once the cache had filled, ingest after an idle pause had a p99 of 70-170 ms
    // instead of 15-20 ms, for no gain in events/s.
    connection.set_prepared_statement_cache_capacity(32);
    Ok(connection)
}

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

pub(super) fn find_unexpired(
    connection: &Connection,
    record: &IdempotencyRecord,
) -> StoreResult<Option<IdempotencyRecord>> {
    let mut statement = connection.prepare_cached(idempotency::FIND_UNEXPIRED)?;
    let found = statement
        .query_row(
            params![record.environment, record.key, record.created_at],
            |row| {
                Ok(IdempotencyRecord {
                    environment: row.get(0)?,
                    key: row.get(1)?,
                    request_hash: crate::rows::hash32(row.get_ref(2)?.as_blob()?),
                    status: row.get::<_, i64>(3)? as u16,
                    body: row.get(4)?,
                    created_at: row.get(5)?,
                    expires_at: row.get(6)?,
                })
            },
        )
        .optional()?;
    Ok(found)
}

/// Inserts the record, replacing an expired one with the same key.
pub(super) fn upsert(connection: &Connection, record: &IdempotencyRecord) -> StoreResult<()> {
    connection
        .prepare_cached(idempotency::UPSERT)?
        .execute(params![
            record.environment,
            record.key,
            &record.request_hash[..],
            record.status as i64,
            record.body,
            record.created_at,
            record.expires_at
        ])?;
    Ok(())
}

/// The last sequence number of a live organization, or `None` if it does not exist there.
pub(super) fn last_sequence(
    connection: &Connection,
    environment: &str,
    organization_id: &str,
) -> StoreResult<Option<i64>> {
    Ok(connection
        .prepare_cached(
            "SELECT last_sequence FROM organizations
             WHERE environment = ? AND id = ? AND deleted_at IS NULL",
        )?
        .query_row(params![environment, organization_id], |row| row.get(0))
        .optional()?)
}

/// Inserts the batch's stored events and their target types with a few multi-row statements.
pub(super) fn insert_events(
    connection: &Connection,
    stored: &[(&PendingEvent, i64)],
) -> StoreResult<()> {
    for chunk in chunks(stored) {
        let sql = format!(
            "INSERT INTO events (id, environment, organization_id, sequence, occurred_at, received_at,
                 action, actor_id, actor_name, target_count, payload, leaf_hash) VALUES {}",
            values_list(chunk.len(), 12)
        );
        let mut statement = connection.prepare_cached(&sql)?;
        for (row, (event, sequence)) in chunk.iter().enumerate() {
            let at = row * 12;
            statement.raw_bind_parameter(at + 1, &event.id)?;
            statement.raw_bind_parameter(at + 2, &event.environment)?;
            statement.raw_bind_parameter(at + 3, &event.organization_id)?;
            statement.raw_bind_parameter(at + 4, sequence)?;
            statement.raw_bind_parameter(at + 5, event.occurred_at)?;
            statement.raw_bind_parameter(at + 6, event.received_at)?;
            statement.raw_bind_parameter(at + 7, &event.action)?;
            statement.raw_bind_parameter(at + 8, &event.actor_id)?;
            statement.raw_bind_parameter(at + 9, &event.actor_name)?;
            statement.raw_bind_parameter(at + 10, event.target_count)?;
            statement.raw_bind_parameter(at + 11, &event.payload)?;
            statement.raw_bind_parameter(at + 12, &event.leaf_hash[..])?;
        }
        statement.raw_execute()?;
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
             INSERT OR IGNORE INTO event_target_types (event_row_id, target_type)
             SELECT e.row_id, t.target_type FROM t JOIN events e ON e.id = t.event_id",
            values_list(chunk.len(), 2)
        );
        let mut statement = connection.prepare_cached(&sql)?;
        for (row, (event_id, target_type)) in chunk.iter().enumerate() {
            statement.raw_bind_parameter(row * 2 + 1, event_id)?;
            statement.raw_bind_parameter(row * 2 + 2, target_type)?;
        }
        statement.raw_execute()?;
    }
    Ok(())
}

/// Writes one batch in one transaction; an error rolls all of it back.
pub(super) fn append(
    connection: &mut Connection,
    batch: &[PendingEvent],
) -> StoreResult<Vec<AppendOutcome>> {
    // A batch whose COMMIT and ROLLBACK both failed (an I/O error mid-way) can leave the
    // connection inside its transaction; end it here, or no batch could begin again.
    if !connection.is_autocommit() {
        connection.execute_batch("ROLLBACK")?;
    }
    // IMMEDIATE takes SQLite's write lock up front (waiting up to the busy timeout) instead of
    // failing when the first read turns into a write while another process holds the lock.
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Sequence counters of the organizations in this batch: read once, bumped in memory,
    // written back once. The store's single writer serializes batches, so numbers are handed
    // out without gaps and become visible in commit order.
    let mut counters: HashMap<(&str, &str), Option<i64>> = HashMap::new();
    let mut claimed: HashMap<(&str, &str), &IdempotencyRecord> = HashMap::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut stored: Vec<(&PendingEvent, i64)> = Vec::with_capacity(batch.len());
    for event in batch {
        if let Some(record) = &event.idempotency {
            let scope = (record.environment.as_str(), record.key.as_str());
            if let Some(first) = claimed.get(&scope) {
                outcomes.push(AppendOutcome::Replay((*first).clone()));
                continue;
            }
            if let Some(existing) = find_unexpired(&tx, record)? {
                outcomes.push(AppendOutcome::Replay(existing));
                continue;
            }
        }
        let scope = (event.environment.as_str(), event.organization_id.as_str());
        let counter = match counters.get(&scope) {
            Some(counter) => *counter,
            None => {
                let current = last_sequence(&tx, scope.0, scope.1)?;
                counters.insert(scope, current);
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
            upsert(&tx, record)?;
            claimed.insert((record.environment.as_str(), record.key.as_str()), record);
        }
        counters.insert(scope, Some(sequence));
        outcomes.push(AppendOutcome::Stored { sequence });
    }
    insert_events(&tx, &stored)?;
    for ((environment, organization_id), counter) in &counters {
        if let Some(last) = counter {
            tx.prepare_cached(
                "UPDATE organizations SET last_sequence = ? WHERE environment = ? AND id = ?",
            )?
            .execute(params![last, environment, organization_id])?;
        }
    }
    // With journal_mode=WAL and synchronous=FULL, COMMIT returns after the WAL is fsync'd.
    tx.commit()?;
    Ok(outcomes)
}
