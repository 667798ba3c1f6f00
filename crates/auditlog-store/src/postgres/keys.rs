use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{ApiKeyRow, API_KEY_COLUMNS};
use crate::types::{ApiKeyRecord, KEY_SOURCE_CONFIGURED};
use crate::KeyStore;
use async_trait::async_trait;

#[async_trait]
impl KeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, environment, key_hash, hint, source, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.environment)
        .bind(&key.key_hash[..])
        .bind(&key.hint)
        .bind(&key.source)
        .bind(key.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if !inserted && key.source == KEY_SOURCE_CONFIGURED {
            sqlx::query(
                "UPDATE api_keys SET source = $1 WHERE key_hash = $2 AND revoked_at IS NULL",
            )
            .bind(KEY_SOURCE_CONFIGURED)
            .bind(&key.key_hash[..])
            .execute(&self.pool)
            .await?;
        }
        Ok(inserted)
    }

    async fn find_api_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        )))
        .bind(&key_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ApiKeyRecord::from))
    }

    async fn count_api_keys(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ApiKeyRecord::from).collect())
    }

    async fn revoke_api_key(&self, id: &str, now: i64) -> StoreResult<bool> {
        let result =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() == 1)
    }
}
