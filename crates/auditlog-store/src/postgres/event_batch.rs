//! A batch appended by one statement in its own implicit transaction: the counters are locked
//! and advanced, the events numbered and inserted with their target types, and the statement commits (durably: `synchronous_commit` is on) before it
//! answers. One round trip instead of five (BEGIN, lock, insert, advance, COMMIT): the counter
//! row lock is held for one round trip plus the commit, and that lock time is what bounds one
//! organization's ingest rate across all nodes.
//!
//! The guarantees are those of the multi-statement path in `events.rs`: counter rows are locked
//! in id order (the locking CTE sorts below its row locks, so two batches sharing organizations
//! queue instead of deadlocking), a batch that waited for a lock reads the counter the other
//! batch committed (READ COMMITTED re-reads a row it had to wait for), and numbers become
//! visible in commit order. Events of a missing or deleted organization are not inserted.
//!
//! A batch whose events carry idempotency keys (what the SDKs send) takes the same statement
//! with one more step when every key is new, the usual case: each stored event's record is
//! inserted with it, by a plain `INSERT`. If any key already has a row (a replay, an expired
//! record, another request's claim) or another transaction is inserting it, that `INSERT` fails
//! on the primary key (after waiting for the other transaction), the whole statement rolls
//! back, and the caller decides the batch on the multi-statement path, which replays or takes
//! over. The key of an event whose organization is missing is not inserted; if it has a row,
//! the event replays what the row holds, as on the multi-statement path, where a recorded key
//! is decided before the organization is looked at (and in the SQLite store).

use super::event_columns::EventColumns;
use super::idempotency::{read_rows, replays, RecordColumns};
use crate::error::StoreResult;
use crate::types::{AppendOutcome, IdempotencyRecord, PendingEvent};
use sqlx::{PgPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The statement's steps up to the events and their target types; the keyed statement adds
/// one, and both end with [`RETURN_BASES`].
const APPEND_STEPS: &str = "
WITH batch AS (
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[],
        $7::text[], $8::text[], $9::int8[], $10::text[], $11::bytea[]) WITH ORDINALITY
        AS b(id, environment, organization_id, occurred_at, received_at, action, actor_id,
             actor_name, target_count, payload, leaf_hash, ordinal)
),
wanted AS (
    SELECT environment, organization_id, count(*) AS n
    FROM batch GROUP BY environment, organization_id
),
locked AS MATERIALIZED (
    SELECT o.environment, o.id, o.last_sequence
    FROM organizations o
    JOIN wanted w ON o.environment = w.environment AND o.id = w.organization_id
    WHERE o.deleted_at IS NULL
    ORDER BY o.id
    FOR NO KEY UPDATE OF o
),
advanced AS (
    UPDATE organizations o SET last_sequence = l.last_sequence + w.n
    FROM locked l
    JOIN wanted w ON w.environment = l.environment AND w.organization_id = l.id
    WHERE o.environment = l.environment AND o.id = l.id
    RETURNING o.environment, o.id, l.last_sequence AS base
),
inserted AS (
    INSERT INTO events (id, environment, organization_id, sequence, occurred_at, received_at,
        action, actor_id, actor_name, target_count, payload, leaf_hash)
    SELECT b.id, b.environment, b.organization_id,
        a.base + row_number() OVER (PARTITION BY b.environment, b.organization_id
                                    ORDER BY b.ordinal),
        b.occurred_at, b.received_at, b.action, b.actor_id, b.actor_name, b.target_count,
        b.payload, b.leaf_hash
    FROM batch b
    JOIN advanced a ON a.environment = b.environment AND a.id = b.organization_id
    RETURNING row_id, id, organization_id, occurred_at
),
types AS (
    INSERT INTO event_target_types (organization_id, target_type, occurred_at, event_row_id)
    SELECT DISTINCT i.organization_id, t.target_type, i.occurred_at, i.row_id
    FROM inserted i JOIN UNNEST($12::text[], $13::text[]) AS t(event_id, target_type)
        ON t.event_id = i.id
    ON CONFLICT DO NOTHING
)";

/// Each organization's last number before the batch.
const RETURN_BASES: &str = "SELECT environment, id, base FROM advanced";

/// [`APPEND_STEPS`] for a batch without keys.
static APPEND: LazyLock<String> = LazyLock::new(|| format!("{APPEND_STEPS}\n{RETURN_BASES}"));

/// [`APPEND_STEPS`] plus the records of the events stored: the keys of a live organization's
/// events ($14..$20, records in key order; $21 the organization of each). The one-time filter `(SELECT count(*) FROM locked) >= 0` makes every counter row locked before
/// the first key is inserted: counters, then keys, the lock order of every path, so batches
/// queue instead of deadlocking.
static APPEND_KEYED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{APPEND_STEPS},
records AS (
    INSERT INTO idempotency_keys
        (environment, key, request_hash, status, body, created_at, expires_at, claimed_until)
    SELECT k.environment, k.key, k.request_hash, k.status, k.body, k.created_at, k.expires_at,
        NULL
    FROM UNNEST($14::text[], $15::text[], $16::bytea[], $17::int4[], $18::bytea[], $19::int8[],
                $20::int8[], $21::text[]) WITH ORDINALITY
        AS k(environment, key, request_hash, status, body, created_at, expires_at,
             organization_id, position)
    WHERE (SELECT count(*) FROM locked) >= 0
      AND EXISTS (SELECT 1 FROM locked l
                  WHERE l.environment = k.environment AND l.id = k.organization_id)
    ORDER BY k.position
)
{RETURN_BASES}"
    )
});

/// Appends `batch` (no event carries an idempotency record) and returns one outcome per event.
pub(super) async fn append_in_one_statement(
    pool: &PgPool,
    batch: &[PendingEvent],
) -> StoreResult<Vec<AppendOutcome>> {
    let columns = EventColumns::new(batch.iter());
    let rows = columns
        .bind(sqlx::query(APPEND.as_str()))
        .fetch_all(pool)
        .await?;
    outcomes_from_bases(batch, &rows)
}

/// Appends a keyed batch whose keys are all distinct in one statement, or returns `None`
/// (having written nothing) if one of its keys already has a row: the batch then needs the
/// multi-statement path.
pub(super) async fn append_keyed_in_one_statement(
    pool: &PgPool,
    batch: &[PendingEvent],
) -> StoreResult<Option<Vec<AppendOutcome>>> {
    let events = EventColumns::new(batch.iter());
    let mut keyed: Vec<(&IdempotencyRecord, &str)> = batch
        .iter()
        .filter_map(|e| Some((e.idempotency.as_ref()?, e.organization_id.as_str())))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| (&a.environment, &a.key).cmp(&(&b.environment, &b.key)));
    let records: Vec<&IdempotencyRecord> = keyed.iter().map(|(record, _)| *record).collect();
    let organizations: Vec<&str> = keyed
        .iter()
        .map(|(_, organization)| *organization)
        .collect();
    let record_columns = RecordColumns::new(&records);
    let query = record_columns
        .bind(events.bind(sqlx::query(APPEND_KEYED.as_str())))
        .bind(&organizations);
    let rows = match query.fetch_all(pool).await {
        Ok(rows) => rows,
        Err(sqlx::Error::Database(error))
            if error.is_unique_violation()
                && error.constraint() == Some("idempotency_keys_pkey") =>
        {
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    let mut outcomes = outcomes_from_bases(batch, &rows)?;
    replay_refused_keys(pool, batch, &mut outcomes).await?;
    Ok(Some(outcomes))
}

/// Events refused for a missing organization whose key has a row: the key decides first, so
/// they replay that row when it is in force for them (a retry after the organization was
/// deleted answers as the first request did). Nothing was written for them.
async fn replay_refused_keys(
    pool: &PgPool,
    batch: &[PendingEvent],
    outcomes: &mut [AppendOutcome],
) -> StoreResult<()> {
    let refused: Vec<(usize, &IdempotencyRecord)> = batch
        .iter()
        .zip(outcomes.iter())
        .enumerate()
        .filter(|(_, (_, outcome))| **outcome == AppendOutcome::OrganizationNotFound)
        .filter_map(|(index, (event, _))| Some((index, event.idempotency.as_ref()?)))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let (environments, keys): (Vec<&str>, Vec<&str>) = refused
        .iter()
        .map(|(_, record)| (record.environment.as_str(), record.key.as_str()))
        .unzip();
    let rows = read_rows(&mut *pool.acquire().await?, &environments, &keys).await?;
    for (index, record) in refused {
        if let Some(row) = rows.get(&(record.environment.clone(), record.key.clone())) {
            if replays(row, record) {
                outcomes[index] = AppendOutcome::Replay(row.record.clone());
            }
        }
    }
    Ok(())
}

/// True when no two events of the batch carry the same idempotency key (scope).
pub(super) fn keys_are_distinct(batch: &[PendingEvent]) -> bool {
    let mut seen = HashSet::new();
    batch
        .iter()
        .filter_map(|e| e.idempotency.as_ref())
        .all(|record| seen.insert((record.environment.as_str(), record.key.as_str())))
}

/// One outcome per event from the rows of [`RETURN_BASES`].
fn outcomes_from_bases(
    batch: &[PendingEvent],
    rows: &[sqlx::postgres::PgRow],
) -> StoreResult<Vec<AppendOutcome>> {
    let bases: Vec<(String, String, i64)> = rows
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect::<StoreResult<_>>()?;
    // The statement numbered each organization's events base+1, base+2, … in batch order.
    let mut last: HashMap<(&str, &str), i64> = bases
        .iter()
        .map(|(environment, id, base)| ((environment.as_str(), id.as_str()), *base))
        .collect();
    Ok(batch
        .iter()
        .map(|event| {
            match last.get_mut(&(event.environment.as_str(), event.organization_id.as_str())) {
                Some(sequence) => {
                    *sequence += 1;
                    AppendOutcome::Stored {
                        sequence: *sequence,
                    }
                }
                None => AppendOutcome::OrganizationNotFound,
            }
        })
        .collect())
}
