//! A batch without idempotency keys, appended by one statement in its own implicit
//! transaction: the counters are locked and advanced, the events numbered and inserted with
//! their target types, and the statement commits (durably: `synchronous_commit` is on) before it
//! answers. One round trip instead of five (BEGIN, lock, insert, advance, COMMIT): the counter
//! row lock is held for one round trip plus the commit, and that lock time is what bounds one
//! organization's ingest rate across all nodes.
//!
//! The guarantees are those of the multi-statement path in `events.rs`: counter rows are locked
//! in id order (the locking CTE sorts below its row locks, so two batches sharing organizations
//! queue instead of deadlocking), a batch that waited for a lock reads the counter the other
//! batch committed (READ COMMITTED re-reads a row it had to wait for), and numbers become
//! visible in commit order. Events of a missing or deleted organization are not inserted.

use super::event_columns::EventColumns;
use crate::error::StoreResult;
use crate::types::{AppendOutcome, PendingEvent};
use sqlx::{PgPool, Row};
use std::collections::HashMap;

const APPEND: &str = "
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
)
SELECT environment, id, base FROM advanced";

/// Appends `batch` (no event carries an idempotency record) and returns one outcome per event.
pub(super) async fn append_in_one_statement(
    pool: &PgPool,
    batch: &[PendingEvent],
) -> StoreResult<Vec<AppendOutcome>> {
    let columns = EventColumns::new(batch.iter());
    let bases: Vec<(String, String, i64)> = columns
        .bind(sqlx::query(APPEND))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
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
