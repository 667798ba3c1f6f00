use super::SqliteStore;
use crate::error::{StoreError, StoreResult};
use crate::types::{ExportOutcome, ExportQuery, ExportRecord, ExportRow, ExportState, NewJob};
use crate::ExportStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite};

const COLUMNS: &str =
    "id, environment, organization_id, state, filters, blob_key, row_count, byte_count, error,
    created_at, updated_at, file_expires_at";

fn from_row(row: &SqliteRow) -> StoreResult<ExportRecord> {
    let state: String = row.get("state");
    Ok(ExportRecord {
        id: row.get("id"),
        environment: row.get("environment"),
        organization_id: row.get("organization_id"),
        state: ExportState::parse(&state)
            .ok_or(StoreError::Conflict("unknown export state in the database"))?,
        filters: serde_json::from_str(row.get("filters"))?,
        blob_key: row.get("blob_key"),
        row_count: row.get("row_count"),
        byte_count: row.get("byte_count"),
        error: row.get("error"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        file_expires_at: row.get("file_expires_at"),
    })
}

fn push_in_list(builder: &mut QueryBuilder<Sqlite>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    builder.push(format!(" AND {column} IN ("));
    let mut separated = builder.separated(", ");
    for value in values {
        separated.push_bind(value.clone());
    }
    separated.push_unseparated(")");
}

/// `WHERE` clause shared by the page and the widest-event queries. The range, the
/// organization and the keyset use the `events_by_time` index; the other filters narrow it.
/// The query with its time range narrowed to start at a keyset cursor.
///
/// SQLite does not seek an index with a row-value bound when the same column also has plain
/// bounds: beside `occurred_at >= range_start`, `(occurred_at, id) > (…)` is only a filter, so
/// every page starts at the range's edge and filters its way to the cursor (page k reads k
/// pages of index: quadratic exports, deep list pages linear in their depth). Every row past
/// the cursor has `occurred_at` on the cursor's side of it, so moving the range's edge there
/// selects the same rows and makes each page start where the last one ended.
pub(super) fn seek_from(
    query: &ExportQuery,
    after: Option<&(i64, String)>,
    ascending: bool,
) -> ExportQuery {
    let mut narrowed = query.clone();
    if let Some((occurred_at, _)) = after {
        let filters = &mut narrowed.filters;
        if ascending {
            filters.range_start = filters.range_start.max(*occurred_at);
        } else {
            // range_end is exclusive; the cursor's own timestamp must stay in range for the
            // rows with the same occurred_at and a smaller id.
            filters.range_end = filters.range_end.min(occurred_at.saturating_add(1));
        }
    }
    narrowed
}

pub(super) fn push_filters(builder: &mut QueryBuilder<Sqlite>, query: &ExportQuery) {
    let filters = &query.filters;
    builder.push(" WHERE e.organization_id = ");
    builder.push_bind(query.organization_id.clone());
    builder.push(" AND e.environment = ");
    builder.push_bind(query.environment.clone());
    builder.push(" AND e.occurred_at >= ");
    builder.push_bind(filters.range_start);
    builder.push(" AND e.occurred_at < ");
    builder.push_bind(filters.range_end);
    builder.push(" AND e.payload IS NOT NULL");
    if let Some(max_sequence) = filters.max_sequence {
        builder.push(" AND e.sequence <= ");
        builder.push_bind(max_sequence);
    }
    push_in_list(builder, "e.action", &filters.actions);
    push_in_list(builder, "e.actor_id", &filters.actor_ids);
    push_in_list(builder, "e.actor_name", &filters.actor_names);
    if !filters.targets.is_empty() {
        builder.push(
            " AND EXISTS (SELECT 1 FROM event_target_types t WHERE t.organization_id = e.organization_id
              AND t.occurred_at = e.occurred_at AND t.event_row_id = e.row_id",
        );
        push_in_list(builder, "t.target_type", &filters.targets);
        builder.push(")");
    }
}

#[async_trait]
impl ExportStore for SqliteStore {
    async fn create_export(&self, export: &ExportRecord, job: &NewJob) -> StoreResult<()> {
        let mut writer = self.writer.lock().await;
        let mut tx = super::begin_write(&mut writer).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO exports ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exports WHERE environment = ? AND id = ?"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn find_export(&self, id: &str) -> StoreResult<Option<ExportRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exports WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn finish_export(
        &self,
        id: &str,
        outcome: &ExportOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        let mut writer = self.writer.lock().await;
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
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exports x WHERE state = 'ready' AND file_expires_at <= ?
               AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = x.organization_id
                               AND o.legal_hold_since IS NOT NULL)
             ORDER BY file_expires_at LIMIT ?"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(from_row).collect()
    }

    async fn mark_export_expired(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.writer.lock().await;
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
        let mut builder =
            QueryBuilder::new("SELECT COALESCE(MAX(e.target_count), 0) FROM events e");
        push_filters(&mut builder, query);
        Ok(builder
            .build_query_scalar()
            .fetch_one(&self.readers)
            .await?)
    }

    async fn export_page(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>> {
        let mut builder = QueryBuilder::new(
            "SELECT e.occurred_at, e.id, e.payload, e.sequence, e.leaf_hash FROM events e",
        );
        let query = &seek_from(query, after, true);
        push_filters(&mut builder, query);
        if let Some((occurred_at, id)) = after {
            builder.push(" AND (e.occurred_at, e.id) > (");
            builder.push_bind(*occurred_at);
            builder.push(", ");
            builder.push_bind(id.clone());
            builder.push(")");
        }
        builder.push(" ORDER BY e.occurred_at, e.id LIMIT ");
        builder.push_bind(limit);
        let rows = builder.build().fetch_all(&self.readers).await?;
        Ok(rows
            .iter()
            .map(|row| ExportRow {
                occurred_at: row.get(0),
                id: row.get(1),
                payload: row.get(2),
                sequence: row.get(3),
                leaf_hash: super::hash_from_blob(row.get(4)),
            })
            .collect())
    }
}
