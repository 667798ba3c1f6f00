use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{JobRow, JOB_COLUMNS};
use crate::types::{JobRecord, NewJob};
use crate::JobStore;
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

pub(super) async fn insert_job(
    tx: &mut SqliteConnection,
    job: &NewJob,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, run_after, created_at, updated_at)
         VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)",
    )
    .bind(&job.id)
    .bind(&job.kind)
    .bind(serde_json::to_string(&job.payload)?)
    .bind(job.run_after)
    .bind(now)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_job(
        &self,
        kinds: &[&str],
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<JobRecord>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // One UPDATE picks and leases the job; the single writer connection makes it atomic.
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ",
        );
        builder.push_bind(owner.to_string());
        builder.push(", lease_expires_at = ");
        builder.push_bind(lease_until);
        builder.push(", updated_at = ");
        builder.push_bind(now);
        builder.push(" WHERE id = (SELECT id FROM jobs WHERE kind IN (");
        let mut separated = builder.separated(", ");
        for kind in kinds {
            separated.push_bind(kind.to_string());
        }
        builder.push(") AND ((state = 'queued' AND run_after <= ");
        builder.push_bind(now);
        builder.push(") OR (state = 'running' AND lease_expires_at <= ");
        builder.push_bind(now);
        builder.push(format!(
            ")) ORDER BY run_after, id LIMIT 1) RETURNING {JOB_COLUMNS}"
        ));
        let mut writer = self.lock_writer().await?;
        let row: Option<JobRow> = builder
            .build_query_as()
            .fetch_optional(&mut *writer)
            .await?;
        row.map(JobRecord::try_from).transpose()
    }

    async fn renew_job_lease(&self, id: &str, owner: &str, lease_until: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(lease_until)
        .bind(id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn complete_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_expires_at = NULL, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn retry_job(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        run_after: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = ?, last_error = ?, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(run_after)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn fail_job(&self, id: &str, owner: &str, error: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = ?, lease_expires_at = NULL, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = ?, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
