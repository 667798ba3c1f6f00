use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::convert_all;
use crate::stream_rows::{StreamRow, STREAM_COLUMNS};
use crate::stream_sql::{self, bind_failure, bind_insert, bind_progress, bind_update, numbered};
use crate::types::{LogStream, StreamFailure, StreamProgress, StreamSummary};
use crate::StreamStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[async_trait]
impl StreamStore for PostgresStore {
    async fn create_stream(&self, stream: &LogStream) -> StoreResult<()> {
        bind_insert!(
            sqlx::query(AssertSqlSafe(numbered(stream_sql::INSERT))),
            stream
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_stream(
        &self,
        environment: &str,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<LogStream>> {
        let sql = numbered(&format!("SELECT {STREAM_COLUMNS} {}", stream_sql::GET));
        let row: Option<StreamRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(environment)
            .bind(organization_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(LogStream::try_from).transpose()
    }

    async fn list_streams(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<LogStream>> {
        let sql = numbered(&format!("SELECT {STREAM_COLUMNS} {}", stream_sql::LIST));
        let rows: Vec<StreamRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(environment)
            .bind(organization_id)
            .fetch_all(&self.pool)
            .await?;
        convert_all(rows)
    }

    async fn update_stream(&self, stream: &LogStream) -> StoreResult<bool> {
        let result = bind_update!(
            sqlx::query(AssertSqlSafe(numbered(stream_sql::UPDATE))),
            stream
        )
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_stream(
        &self,
        environment: &str,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let result = sqlx::query(AssertSqlSafe(numbered(stream_sql::DELETE)))
            .bind(environment)
            .bind(organization_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn streams_due(&self, owner: &str, now: i64, limit: i64) -> StoreResult<Vec<LogStream>> {
        let sql = numbered(&format!("SELECT {STREAM_COLUMNS} {}", stream_sql::DUE));
        let rows: Vec<StreamRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(false)
            .bind(now)
            .bind(now)
            .bind(owner)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        convert_all(rows)
    }

    async fn claim_stream(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        let result = sqlx::query(AssertSqlSafe(numbered(stream_sql::CLAIM)))
            .bind(owner)
            .bind(lease_until)
            .bind(id)
            .bind(now)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_stream(&self, id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(numbered(stream_sql::RELEASE)))
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_stream_progress(&self, progress: &StreamProgress) -> StoreResult<bool> {
        let sql = if progress.replay {
            stream_sql::REPLAY_PROGRESS
        } else {
            stream_sql::PROGRESS
        };
        // A stream's position need not be durable at once: one lost in a crash only sends its
        // batch again (delivery is at least once). So this one transaction does not wait for
        // its WAL flush, and leaves the flushes to ingest's commits.
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *transaction)
            .await?;
        let result = bind_progress!(sqlx::query(AssertSqlSafe(numbered(sql))), progress)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(result.rows_affected() == 1)
    }

    async fn record_stream_failure(&self, failure: &StreamFailure) -> StoreResult<bool> {
        let result = bind_failure!(
            sqlx::query(AssertSqlSafe(numbered(stream_sql::FAILURE))),
            failure
        )
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn first_sequence_received_since(
        &self,
        organization_id: &str,
        at: i64,
    ) -> StoreResult<Option<i64>> {
        let first: Option<i64> =
            sqlx::query_scalar(AssertSqlSafe(numbered(stream_sql::FIRST_SEQUENCE_SINCE)))
                .bind(organization_id)
                .bind(at)
                .fetch_one(&self.pool)
                .await?;
        Ok(first)
    }

    async fn stream_summary(&self) -> StoreResult<Vec<StreamSummary>> {
        Ok(sqlx::query_as(stream_sql::SUMMARY)
            .fetch_all(&self.pool)
            .await?)
    }
}
