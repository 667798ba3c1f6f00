use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{JobRow, JOB_COLUMNS};
use crate::types::{JobRecord, NewJob};
use crate::JobStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, PgConnection};

pub(super) async fn insert_job(tx: &mut PgConnection, job: &NewJob, now: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, run_after, created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5)",
    )
    .bind(&job.id)
    .bind(&job.kind)
    .bind(serde_json::to_string(&job.payload)?)
    .bind(job.run_after)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

#[async_trait]
impl JobStore for PostgresStore {
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
        // The inner SELECT locks the first runnable job no other node has locked right now
        // (SKIP LOCKED: claimants never queue behind each other) and re-checks it is still
        // runnable once locked; the UPDATE then leases the row we hold. Two nodes therefore
        // never claim the same job, and a job whose lease expired (its node died) is claimable.
        let row = sqlx::query_as::<_, JobRow>(AssertSqlSafe(format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1,
                 lease_expires_at = $2, updated_at = $3
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE kind = ANY($4)
                   AND ((state = 'queued' AND run_after <= $3)
                        OR (state = 'running' AND lease_expires_at <= $3))
                 ORDER BY run_after, id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             RETURNING {JOB_COLUMNS}"
        )))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(kinds)
        .fetch_optional(&self.pool)
        .await?;
        row.map(JobRecord::try_from).transpose()
    }

    async fn renew_job_lease(&self, id: &str, owner: &str, lease_until: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1
             WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(lease_until)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn complete_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_expires_at = NULL, updated_at = $1
             WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
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
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = $1, last_error = $2, lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = $3
             WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
        )
        .bind(run_after)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn fail_job(&self, id: &str, owner: &str, error: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = $1, lease_expires_at = NULL,
                 updated_at = $2
             WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = $1,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
             WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
