use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{IdempotencyRow, IDEMPOTENCY_COLUMNS};
use crate::types::{ClaimOutcome, IdempotencyRecord};
use crate::IdempotencyStore;
use async_trait::async_trait;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres, Row};
use std::collections::{HashMap, HashSet};

/// (environment, key)
pub(super) type Scope = (String, String);

/// An idempotency row as [`lock_scopes`] found it.
pub(super) struct Locked {
    pub record: IdempotencyRecord,
    /// Until when a claim (status 0) holds.
    pub claimed_until: Option<i64>,
}

/// An idempotency row as PostgreSQL stores it (`status` is a 32-bit INTEGER).
type KeyRow = IdempotencyRow<i32>;

/// Whether an event carrying `record` must replay what its key's row holds instead of being
/// stored: a completed response still in force, or another request's live claim (its hash
/// differs, so the API answers 409 as for any reuse of a key). Otherwise (an expired record,
/// a lapsed claim, this request's own claim) the event takes the key over.
pub(super) fn replays(row: &Locked, record: &IdempotencyRecord) -> bool {
    let claimed_by_another = row.record.status == 0
        && row
            .claimed_until
            .is_some_and(|until| until > record.created_at)
        && row.record.request_hash != record.request_hash;
    completed_at(&row.record, record.created_at) || claimed_by_another
}

/// A stored response (not a claim) that is still in force at `now`.
pub(super) fn completed_at(record: &IdempotencyRecord, now: i64) -> bool {
    record.status != 0 && record.expires_at > now
}

/// Locks the idempotency rows of `scopes` for the rest of the transaction and returns what they
/// held before. A key without a row gets a placeholder row (a lapsed claim: status 0,
/// claimed until 0) so that there is something to lock: a concurrent transaction inserting the
/// same key waits for ours. Placeholders are reported in `.1` and must be overwritten or deleted
/// ([`delete_placeholders`]) before commit.
///
/// One statement, keys in sorted order: two transactions locking overlapping key sets take the
/// locks in the same order, so they queue instead of deadlocking. `ON CONFLICT DO UPDATE … WHERE
/// FALSE` locks an existing row without writing a new version of it.
pub(super) async fn lock_scopes(
    tx: &mut PgConnection,
    scopes: &[Scope],
) -> StoreResult<(HashMap<Scope, Locked>, HashSet<Scope>)> {
    let mut sorted: Vec<&Scope> = scopes.iter().collect();
    sorted.sort();
    sorted.dedup();
    let environments: Vec<&str> = sorted.iter().map(|(e, _)| e.as_str()).collect();
    let keys: Vec<&str> = sorted.iter().map(|(_, k)| k.as_str()).collect();
    let inserted: Vec<(String, String)> = sqlx::query_as(
        "INSERT INTO idempotency_keys
             (environment, key, request_hash, status, body, created_at, expires_at, claimed_until)
         SELECT k.environment, k.key, ''::bytea, 0, ''::bytea, 0, 0, 0
         FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS k(environment, key, position)
         ORDER BY k.position
         ON CONFLICT (environment, key) DO UPDATE SET claimed_until = idempotency_keys.claimed_until
             WHERE FALSE
         RETURNING environment, key",
    )
    .bind(&environments)
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?;
    let inserted: HashSet<Scope> = inserted.into_iter().collect();
    let mut existing = read_rows(tx, &environments, &keys).await?;
    existing.retain(|scope, _| !inserted.contains(scope));
    Ok((existing, inserted))
}

/// The rows of (environments[i], keys[i]); locked when the caller's transaction holds them.
pub(super) async fn read_rows(
    tx: &mut PgConnection,
    environments: &[&str],
    keys: &[&str],
) -> StoreResult<HashMap<Scope, Locked>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {IDEMPOTENCY_COLUMNS}, claimed_until
         FROM idempotency_keys
         WHERE (environment, key) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))"
    )))
    .bind(environments)
    .bind(keys)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            let locked = Locked {
                record: KeyRow::from_row(row)?.into(),
                claimed_until: row.try_get("claimed_until")?,
            };
            let scope = (locked.record.environment.clone(), locked.record.key.clone());
            Ok((scope, locked))
        })
        .collect()
}

/// Records as column arrays, for `UNNEST`.
pub(super) struct RecordColumns<'a> {
    environments: Vec<&'a str>,
    keys: Vec<&'a str>,
    hashes: Vec<&'a [u8]>,
    statuses: Vec<i32>,
    bodies: Vec<&'a [u8]>,
    created: Vec<i64>,
    expires: Vec<i64>,
}

impl<'a> RecordColumns<'a> {
    /// Binds the columns as the query's next seven parameters ($1..$7 on a fresh query), in
    /// field order.
    pub(super) fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(&self.environments)
            .bind(&self.keys)
            .bind(&self.hashes)
            .bind(&self.statuses)
            .bind(&self.bodies)
            .bind(&self.created)
            .bind(&self.expires)
    }

    pub(super) fn new(records: &[&'a IdempotencyRecord]) -> Self {
        RecordColumns {
            environments: records.iter().map(|r| r.environment.as_str()).collect(),
            keys: records.iter().map(|r| r.key.as_str()).collect(),
            hashes: records.iter().map(|r| &r.request_hash[..]).collect(),
            statuses: records.iter().map(|r| r.status as i32).collect(),
            bodies: records.iter().map(|r| r.body.as_slice()).collect(),
            created: records.iter().map(|r| r.created_at).collect(),
            expires: records.iter().map(|r| r.expires_at).collect(),
        }
    }
}

/// [`lock_scopes`] for records about to be stored with their events: a key without a row gets
/// its final record straight away instead of a placeholder (one row version, no overwrite), and
/// only keys that had a row are read back. Rows inserted here are reported in `.1`; one whose
/// event is not stored must be overwritten or deleted ([`delete_placeholders`]) before commit.
pub(super) async fn lock_or_insert_records(
    tx: &mut PgConnection,
    records: &[&IdempotencyRecord],
) -> StoreResult<(HashMap<Scope, Locked>, HashSet<Scope>)> {
    let mut sorted: Vec<&IdempotencyRecord> = records.to_vec();
    sorted.sort_by(|a, b| (&a.environment, &a.key).cmp(&(&b.environment, &b.key)));
    sorted.dedup_by(|a, b| (&a.environment, &a.key) == (&b.environment, &b.key));
    let columns = RecordColumns::new(&sorted);
    let query = sqlx::query(
        "INSERT INTO idempotency_keys
             (environment, key, request_hash, status, body, created_at, expires_at, claimed_until)
         SELECT k.environment, k.key, k.request_hash, k.status, k.body, k.created_at,
             k.expires_at, NULL
         FROM UNNEST($1::text[], $2::text[], $3::bytea[], $4::int4[], $5::bytea[], $6::int8[],
                     $7::int8[]) WITH ORDINALITY
             AS k(environment, key, request_hash, status, body, created_at, expires_at, position)
         ORDER BY k.position
         ON CONFLICT (environment, key) DO UPDATE SET claimed_until = idempotency_keys.claimed_until
             WHERE FALSE
         RETURNING environment, key",
    );
    let inserted: HashSet<Scope> = columns
        .bind(query)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<StoreResult<_>>()?;
    if inserted.len() == sorted.len() {
        return Ok((HashMap::new(), inserted));
    }
    let (had_row_environments, had_row_keys): (Vec<&str>, Vec<&str>) = sorted
        .iter()
        .filter(|r| !inserted.contains(&(r.environment.clone(), r.key.clone())))
        .map(|r| (r.environment.as_str(), r.key.as_str()))
        .unzip();
    let existing = read_rows(tx, &had_row_environments, &had_row_keys).await?;
    Ok((existing, inserted))
}

/// Overwrites locked rows (claims, placeholders, expired records) with final records.
pub(super) async fn overwrite(
    tx: &mut PgConnection,
    records: &[&IdempotencyRecord],
) -> StoreResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let columns = RecordColumns::new(records);
    let query = sqlx::query(
        "UPDATE idempotency_keys i SET request_hash = u.request_hash, status = u.status,
             body = u.body, created_at = u.created_at, expires_at = u.expires_at,
             claimed_until = NULL
         FROM UNNEST($1::text[], $2::text[], $3::bytea[], $4::int4[], $5::bytea[], $6::int8[],
                     $7::int8[])
             AS u(environment, key, request_hash, status, body, created_at, expires_at)
         WHERE i.environment = u.environment AND i.key = u.key",
    );
    columns.bind(query).execute(&mut *tx).await?;
    Ok(())
}

/// Removes placeholder rows that [`lock_scopes`] inserted and nothing overwrote.
pub(super) async fn delete_placeholders(
    tx: &mut PgConnection,
    scopes: &[&Scope],
) -> StoreResult<()> {
    if scopes.is_empty() {
        return Ok(());
    }
    let environments: Vec<&str> = scopes.iter().map(|(e, _)| e.as_str()).collect();
    let keys: Vec<&str> = scopes.iter().map(|(_, k)| k.as_str()).collect();
    sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE (environment, key) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))",
    )
    .bind(&environments)
    .bind(&keys)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for PostgresStore {
    async fn find_idempotency(
        &self,
        environment: &str,
        key: &str,
        now_micros: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let row = sqlx::query_as::<_, KeyRow>(AssertSqlSafe(format!(
            "SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency_keys
             WHERE environment = $1 AND key = $2 AND expires_at > $3 AND status <> 0"
        )))
        .bind(environment)
        .bind(key)
        .bind(now_micros)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(IdempotencyRecord::from))
    }

    async fn claim_idempotency(
        &self,
        environment: &str,
        key: &str,
        request_hash: &[u8; 32],
        now_micros: i64,
        claimed_until: i64,
    ) -> StoreResult<ClaimOutcome> {
        let mut tx = self.pool.begin().await?;
        // Either this INSERT creates the row (and concurrent claimants of the key wait on it
        // until we commit), or the row exists and we lock it below to decide on its state.
        let scopes = [(environment.to_string(), key.to_string())];
        let (existing, _) = lock_scopes(&mut tx, &scopes).await?;
        if let Some(Locked {
            record,
            claimed_until: claimed_until_then,
        }) = existing.get(&scopes[0])
        {
            if completed_at(record, now_micros) {
                return Ok(ClaimOutcome::Completed(record.clone()));
            }
            if record.status == 0 && claimed_until_then.unwrap_or(0) > now_micros {
                return Ok(ClaimOutcome::InFlight {
                    request_hash: record.request_hash,
                });
            }
        }
        // Ours: a fresh key (our placeholder), a lapsed claim or an expired record.
        sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $3, status = 0, body = ''::bytea,
                 created_at = $4, expires_at = $5, claimed_until = $5
             WHERE environment = $1 AND key = $2",
        )
        .bind(environment)
        .bind(key)
        .bind(&request_hash[..])
        .bind(now_micros)
        .bind(claimed_until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ClaimOutcome::Claimed)
    }

    async fn abandon_idempotency(&self, environment: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE environment = $1 AND key = $2 AND status = 0",
        )
        .bind(environment)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn save_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<IdempotencyRecord> {
        let mut tx = self.pool.begin().await?;
        let scope = (record.environment.clone(), record.key.clone());
        let (existing, _) = lock_scopes(&mut tx, std::slice::from_ref(&scope)).await?;
        if let Some(Locked {
            record: existing, ..
        }) = existing.get(&scope)
        {
            if completed_at(existing, record.created_at) {
                return Ok(existing.clone());
            }
        }
        overwrite(&mut tx, &[record]).await?;
        tx.commit().await?;
        Ok(record.clone())
    }

    async fn purge_idempotency(&self, now_micros: i64) -> StoreResult<u64> {
        // SKIP LOCKED: a row locked right now belongs to a request or an ingest batch that is
        // about to overwrite it. Waiting for it could deadlock with that batch (which locks its
        // keys in key order, while a DELETE locks in scan order), and it is not garbage anyway.
        let result = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (environment, key) IN (
                 SELECT environment, key FROM idempotency_keys WHERE expires_at <= $1
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now_micros)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
