use super::event_filter::{EventQuery, SqlValue};
use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{convert_all, ExportRecordRow, EXPORT_COLUMNS};
use crate::types::{ExportOutcome, ExportQuery, ExportRecord, ExportRow, NewJob};
use crate::ExportStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

#[async_trait]
impl ExportStore for SqliteStore {
    async fn create_export(&self, export: &ExportRecord, job: &NewJob) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO exports ({EXPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(&export.id)
        .bind(&export.environment)
        .bind(&export.organization_id)
        .bind(export.state.as_str())
        .bind(serde_json::to_string(&export.filters)?)
        .bind(&export.blob_key)
        .bind(export.row_count)
        .bind(export.byte_count)
        .bind(&export.error)
        .bind(export.created_at)
        .bind(export.updated_at)
        .bind(export.file_expires_at)
        .execute(&mut *tx)
        .await?;
        super::jobs::insert_job(&mut tx, job, export.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_export(&self, environment: &str, id: &str) -> StoreResult<Option<ExportRecord>> {
        let row = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE environment = ? AND id = ?"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(ExportRecord::try_from).transpose()
    }

    async fn find_export(&self, id: &str) -> StoreResult<Option<ExportRecord>> {
        let row = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(ExportRecord::try_from).transpose()
    }

    async fn finish_export(
        &self,
        id: &str,
        outcome: &ExportOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = match outcome {
            ExportOutcome::Ready { blob_key, row_count, byte_count, file_expires_at } => sqlx::query(
                "UPDATE exports SET state = 'ready', blob_key = ?, row_count = ?, byte_count = ?,
                     file_expires_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
            )
            .bind(blob_key)
            .bind(row_count)
            .bind(byte_count)
            .bind(file_expires_at)
            .bind(now)
            .bind(id)
            .execute(&mut *writer)
            .await?,
            ExportOutcome::Failed { reason } => sqlx::query(
                "UPDATE exports SET state = 'error', error = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
            )
            .bind(reason)
            .bind(now)
            .bind(id)
            .execute(&mut *writer)
            .await?,
        };
        Ok(result.rows_affected() == 1)
    }

    async fn exports_due_to_expire(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportRecord>> {
        let rows = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports x WHERE state = 'ready' AND file_expires_at <= ?
               AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = x.organization_id
                               AND o.legal_hold_since IS NOT NULL)
             ORDER BY file_expires_at LIMIT ?"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        convert_all(rows)
    }

    async fn ready_exports_created_before(
        &self,
        organization_id: &str,
        created_before: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExportRecord>> {
        let rows = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE organization_id = ? AND state = 'ready'
               AND created_at < ? ORDER BY created_at LIMIT ?"
        )))
        .bind(organization_id)
        .bind(created_before)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        convert_all(rows)
    }

    async fn record_export_progress(&self, id: &str, rows: i64, now: i64) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "UPDATE exports SET row_count = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
        )
        .bind(rows)
        .bind(now)
        .bind(id)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn mark_export_expired(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE exports SET state = 'expired', updated_at = ? WHERE id = ? AND state = 'ready'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn export_max_targets(&self, query: &ExportQuery) -> StoreResult<i64> {
        let mut max = EventQuery::new("SELECT COALESCE(MAX(e.target_count), 0) FROM events e");
        max.filters(query);
        Ok(max.sqlx().fetch_one(&self.readers).await?.try_get(0)?)
    }

    async fn export_page(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>> {
        let mut page = EventQuery::new(
            "SELECT e.occurred_at, e.id, e.payload, e.sequence, e.leaf_hash FROM events e",
        );
        page.page(query, after, true)
            .push(" ORDER BY e.occurred_at, e.id LIMIT ")
            .bind(SqlValue::Int(limit));
        self.raw_readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&page.sql)?;
                let rows =
                    statement.query_map(rusqlite::params_from_iter(&page.params), |row| {
                        Ok(ExportRow {
                            occurred_at: row.get(0)?,
                            id: row.get(1)?,
                            payload: row.get(2)?,
                            sequence: row.get(3)?,
                            leaf_hash: crate::rows::hash32(row.get_ref(4)?.as_blob()?),
                        })
                    })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }
}
