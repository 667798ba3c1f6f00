use super::{hash_from_blob, SqliteStore};
use crate::error::StoreResult;
use crate::types::ApiKeyRecord;
use crate::KeyStore;
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, environment, key_hash, display_prefix, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.environment)
        .bind(&key.key_hash[..])
        .bind(&key.display_prefix)
        .bind(key.created_at)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn find_api_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, environment, key_hash, display_prefix, created_at FROM api_keys WHERE key_hash = ?",
        )
        .bind(&key_hash[..])
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(|row| ApiKeyRecord {
            id: row.get("id"),
            environment: row.get("environment"),
            key_hash: hash_from_blob(row.get("key_hash")),
            display_prefix: row.get("display_prefix"),
            created_at: row.get("created_at"),
        }))
    }

    async fn count_api_keys(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.readers)
            .await?)
    }
}
