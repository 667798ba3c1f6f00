use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{convert_all, hash32, ExportRecordRow, EXPORT_COLUMNS};
use crate::types::{ExportOutcome, ExportQuery, ExportRecord, ExportRow, NewJob};
use crate::ExportStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};

/// `AND column = ANY($n)`: one array parameter however many values, so the statement text
/// (and its cached prepared statement) depends only on which filters are present.
fn push_any(builder: &mut QueryBuilder<Postgres>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    builder.push(format!(" AND {column} = ANY("));
    builder.push_bind(values.to_vec());
    builder.push(")");
}

/// `WHERE` clause shared by the page and the widest-event queries. The organization, the range
/// and the keyset use the `events_by_time` index (partial on `payload IS NOT NULL`, which this
/// clause repeats so the planner may use it); the other filters narrow it, or lead with their
/// own index when they are selective.
///
/// The environment is checked once on the organization row (an event is only ever stored under
/// its organization's environment, and organization ids are unique across environments), not
/// per event: that keeps the widest-event query an index-only scan.
pub(super) fn push_filters(builder: &mut QueryBuilder<Postgres>, query: &ExportQuery) {
    let filters = &query.filters;
    builder.push(" WHERE e.organization_id = ");
    builder.push_bind(query.organization_id.clone());
    builder.push(" AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = ");
    builder.push_bind(query.organization_id.clone());
    builder.push(" AND o.environment = ");
    builder.push_bind(query.environment.clone());
    builder.push(")");
    builder.push(" AND e.occurred_at >= ");
    builder.push_bind(filters.range_start);
    builder.push(" AND e.occurred_at < ");
    builder.push_bind(filters.range_end);
    builder.push(" AND e.payload IS NOT NULL");
    if let Some(max_sequence) = filters.max_sequence {
        builder.push(" AND e.sequence <= ");
        builder.push_bind(max_sequence);
    }
    push_any(builder, "e.action", &filters.actions);
    push_any(builder, "e.actor_id", &filters.actor_ids);
    push_any(builder, "e.actor_name", &filters.actor_names);
    if !filters.targets.is_empty() {
        builder.push(
            " AND EXISTS (SELECT 1 FROM event_target_types t WHERE t.organization_id = e.organization_id
              AND t.occurred_at = e.occurred_at AND t.event_row_id = e.row_id",
        );
        push_any(builder, "t.target_type", &filters.targets);
        builder.push(")");
    }
}

#[async_trait]
impl ExportStore for PostgresStore {
    async fn create_export(&self, export: &ExportRecord, job: &NewJob) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO exports ({EXPORT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
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
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE environment = $1 AND id = $2"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ExportRecord::try_from).transpose()
    }

    async fn find_export(&self, id: &str) -> StoreResult<Option<ExportRecord>> {
        let row = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ExportRecord::try_from).transpose()
    }

    async fn finish_export(
        &self,
        id: &str,
        outcome: &ExportOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        let result = match outcome {
            ExportOutcome::Ready {
                blob_key,
                row_count,
                byte_count,
                file_expires_at,
            } => {
                sqlx::query(
                    "UPDATE exports SET state = 'ready', blob_key = $1, row_count = $2,
                         byte_count = $3, file_expires_at = $4, updated_at = $5
                     WHERE id = $6 AND state = 'pending'",
                )
                .bind(blob_key)
                .bind(row_count)
                .bind(byte_count)
                .bind(file_expires_at)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
            ExportOutcome::Failed { reason } => {
                sqlx::query(
                    "UPDATE exports SET state = 'error', error = $1, updated_at = $2
                     WHERE id = $3 AND state = 'pending'",
                )
                .bind(reason)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(result.rows_affected() == 1)
    }

    async fn exports_due_to_expire(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportRecord>> {
        let rows = sqlx::query_as::<_, ExportRecordRow>(AssertSqlSafe(format!(
            "SELECT {EXPORT_COLUMNS} FROM exports x WHERE state = 'ready' AND file_expires_at <= $1
               AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = x.organization_id
                               AND o.legal_hold_since IS NOT NULL)
             ORDER BY file_expires_at LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
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
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE organization_id = $1 AND state = 'ready'
               AND created_at < $2 ORDER BY created_at LIMIT $3"
        )))
        .bind(organization_id)
        .bind(created_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn record_export_progress(&self, id: &str, rows: i64, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE exports SET row_count = $1, updated_at = $2 WHERE id = $3 AND state = 'pending'",
        )
        .bind(rows)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mark_export_expired(&self, id: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE exports SET state = 'expired', updated_at = $1 WHERE id = $2 AND state = 'ready'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn export_max_targets(&self, query: &ExportQuery) -> StoreResult<i64> {
        let mut builder =
            QueryBuilder::new("SELECT COALESCE(MAX(e.target_count), 0)::int8 FROM events e");
        push_filters(&mut builder, query);
        Ok(builder.build_query_scalar().fetch_one(&self.pool).await?)
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
        push_filters(&mut builder, query);
        if let Some((occurred_at, id)) = after {
            // A row comparison: PostgreSQL turns it into one index range bound on
            // (occurred_at, id), so every page starts where the last one ended.
            builder.push(" AND (e.occurred_at, e.id) > (");
            builder.push_bind(*occurred_at);
            builder.push(", ");
            builder.push_bind(id.clone());
            builder.push(")");
        }
        builder.push(" ORDER BY e.occurred_at, e.id LIMIT ");
        builder.push_bind(limit);
        let rows: Vec<(i64, String, String, i64, Vec<u8>)> =
            builder.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(occurred_at, id, payload, sequence, leaf_hash)| ExportRow {
                    occurred_at,
                    id,
                    payload,
                    sequence,
                    leaf_hash: hash32(&leaf_hash),
                },
            )
            .collect())
    }
}
