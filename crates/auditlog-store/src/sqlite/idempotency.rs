use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{IdempotencyRow, IDEMPOTENCY_COLUMNS};
use crate::types::{ClaimOutcome, IdempotencyRecord};
use crate::IdempotencyStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, FromRow, Row, SqliteConnection};

/// An idempotency row as SQLite stores it (`status` is a 64-bit INTEGER).
type KeyRow = IdempotencyRow<i64>;

/// An unexpired, completed record of a key (shared with the ingest writer, `event_writer`).
pub(super) const FIND_UNEXPIRED: &str =
    "SELECT environment, key, request_hash, status, body, created_at, expires_at
     FROM idempotency_keys WHERE environment = ? AND key = ? AND expires_at > ? AND status <> 0";

/// Inserts a record, replacing an expired one with the same key (shared with `event_writer`).
pub(super) const UPSERT: &str = "INSERT OR REPLACE INTO idempotency_keys
         (environment, key, request_hash, status, body, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)";

pub(super) async fn find_unexpired(
    connection: &mut SqliteConnection,
    environment: &str,
    key: &str,
    now_micros: i64,
) -> StoreResult<Option<IdempotencyRecord>> {
    let row = sqlx::query_as::<_, KeyRow>(FIND_UNEXPIRED)
        .bind(environment)
        .bind(key)
        .bind(now_micros)
        .fetch_optional(connection)
        .await?;
    Ok(row.map(IdempotencyRecord::from))
}

/// Inserts the record, replacing an expired one with the same key.
pub(super) async fn upsert(
    connection: &mut SqliteConnection,
    record: &IdempotencyRecord,
) -> StoreResult<()> {
    sqlx::query(UPSERT)
        .bind(&record.environment)
        .bind(&record.key)
        .bind(&record.request_hash[..])
        .bind(record.status as i64)
        .bind(&record.body)
        .bind(record.created_at)
        .bind(record.expires_at)
        .execute(connection)
        .await?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn find_idempotency(
        &self,
        environment: &str,
        key: &str,
        now_micros: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let mut reader = self.readers.acquire().await?;
        find_unexpired(&mut reader, environment, key, now_micros).await
    }

    async fn claim_idempotency(
        &self,
        environment: &str,
        key: &str,
        request_hash: &[u8; 32],
        now_micros: i64,
        claimed_until: i64,
    ) -> StoreResult<ClaimOutcome> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        let existing = sqlx::query(AssertSqlSafe(format!(
            "SELECT {IDEMPOTENCY_COLUMNS}, claimed_until
             FROM idempotency_keys WHERE environment = ? AND key = ?"
        )))
        .bind(environment)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let record = IdempotencyRecord::from(KeyRow::from_row(&row)?);
            let claimed_until_then: Option<i64> = row.try_get("claimed_until")?;
            if record.status != 0 && record.expires_at > now_micros {
                return Ok(ClaimOutcome::Completed(record));
            }
            if record.status == 0 && claimed_until_then.unwrap_or(0) > now_micros {
                return Ok(ClaimOutcome::InFlight {
                    request_hash: record.request_hash,
                });
            }
        }
        sqlx::query(
            "INSERT OR REPLACE INTO idempotency_keys
                 (environment, key, request_hash, status, body, created_at, expires_at, claimed_until)
             VALUES (?, ?, ?, 0, x'', ?, ?, ?)",
        )
        .bind(environment)
        .bind(key)
        .bind(&request_hash[..])
        .bind(now_micros)
        .bind(claimed_until)
        .bind(claimed_until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ClaimOutcome::Claimed)
    }

    async fn abandon_idempotency(&self, environment: &str, key: &str) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE environment = ? AND key = ? AND status = 0",
        )
        .bind(environment)
        .bind(key)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn save_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<IdempotencyRecord> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        if let Some(existing) =
            find_unexpired(&mut tx, &record.environment, &record.key, record.created_at).await?
        {
            return Ok(existing);
        }
        upsert(&mut tx, record).await?;
        tx.commit().await?;
        Ok(record.clone())
    }

    async fn purge_idempotency(&self, now_micros: i64) -> StoreResult<u64> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?")
            .bind(now_micros)
            .execute(&mut *writer)
            .await?;
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ingest writer reads `FIND_UNEXPIRED` by position, in the order of the shared list.
    #[test]
    fn find_unexpired_selects_the_shared_columns_in_order() {
        let selected = FIND_UNEXPIRED.trim_start_matches("SELECT ");
        assert!(
            selected.starts_with(IDEMPOTENCY_COLUMNS),
            "{FIND_UNEXPIRED}"
        );
    }
}
