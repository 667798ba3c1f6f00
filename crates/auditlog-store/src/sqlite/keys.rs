use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{ApiKeyRow, API_KEY_COLUMNS};
use crate::types::{ApiKeyRecord, KEY_SOURCE_CONFIGURED};
use crate::KeyStore;
use async_trait::async_trait;

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, environment, key_hash, hint, source, created_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.environment)
        .bind(&key.key_hash[..])
        .bind(&key.hint)
        .bind(&key.source)
        .bind(key.created_at)
        .execute(&mut *writer)
        .await?
        .rows_affected()
            == 1;
        if !inserted && key.source == KEY_SOURCE_CONFIGURED {
            sqlx::query("UPDATE api_keys SET source = ? WHERE key_hash = ? AND revoked_at IS NULL")
                .bind(KEY_SOURCE_CONFIGURED)
                .bind(&key.key_hash[..])
                .execute(&mut *writer)
                .await?;
        }
        Ok(inserted)
    }

    async fn find_api_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"
        )))
        .bind(&key_hash[..])
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(ApiKeyRecord::from))
    }

    async fn count_api_keys(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.readers)
            .await?)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
        )))
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.into_iter().map(ApiKeyRecord::from).collect())
    }

    async fn revoke_api_key(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *writer)
                .await?;
        Ok(result.rows_affected() == 1)
    }
}
