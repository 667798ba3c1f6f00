use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{
    LegalHoldRow, PolicyRow, SweepCandidateRow, LEGAL_HOLD_COLUMNS, POLICY_COLUMNS,
    SWEEP_CANDIDATE_COLUMNS,
};
use crate::types::{LegalHoldChange, LegalHoldEntry, OrganizationPolicy, SweepCandidate};
use crate::RetentionStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn organization_policy(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Option<OrganizationPolicy>> {
        let row = sqlx::query_as::<_, PolicyRow>(AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM organizations
             WHERE environment = $1 AND id = $2 AND deleted_at IS NULL"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(OrganizationPolicy::from))
    }

    async fn set_retention(
        &self,
        environment: &str,
        organization_id: &str,
        days: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE organizations SET retention_period_in_days = $1, updated_at = $2
             WHERE environment = $3 AND id = $4 AND deleted_at IS NULL",
        )
        .bind(days)
        .bind(now)
        .bind(environment)
        .bind(organization_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn change_legal_hold(&self, entry: &LegalHoldEntry) -> StoreResult<LegalHoldChange> {
        let mut tx = self.pool.begin().await?;
        // FOR UPDATE (the strongest row lock): two changes of one organization's hold
        // serialize, and a redaction batch running right now (it holds FOR KEY SHARE on this row)
        // finishes first, while every later batch sees the hold. Ingest's FOR NO KEY UPDATE
        // waits a moment too, which is fine for so rare an operation.
        let held: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT legal_hold_since FROM organizations
             WHERE environment = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
        )
        .bind(&entry.environment)
        .bind(&entry.organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(since) = held else {
            return Ok(LegalHoldChange::OrganizationNotFound);
        };
        let placing = entry.action == "placed";
        if since.is_some() == placing {
            return Ok(LegalHoldChange::Unchanged);
        }
        let (reason, since) = if placing {
            (Some(&entry.reason), Some(entry.at))
        } else {
            (None, None)
        };
        sqlx::query(
            "UPDATE organizations SET legal_hold_reason = $1, legal_hold_since = $2
             WHERE environment = $3 AND id = $4",
        )
        .bind(reason)
        .bind(since)
        .bind(&entry.environment)
        .bind(&entry.organization_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO legal_hold_history ({LEGAL_HOLD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(&entry.id)
        .bind(&entry.environment)
        .bind(&entry.organization_id)
        .bind(&entry.action)
        .bind(&entry.reason)
        .bind(&entry.actor)
        .bind(entry.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(LegalHoldChange::Changed)
    }

    async fn legal_hold_history(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<LegalHoldEntry>> {
        let rows = sqlx::query_as::<_, LegalHoldRow>(AssertSqlSafe(format!(
            "SELECT {LEGAL_HOLD_COLUMNS} FROM legal_hold_history
             WHERE environment = $1 AND organization_id = $2 ORDER BY at, id"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(LegalHoldEntry::from).collect())
    }

    async fn sweep_candidates(&self) -> StoreResult<Vec<SweepCandidate>> {
        let rows = sqlx::query_as::<_, SweepCandidateRow>(AssertSqlSafe(format!(
            "SELECT {SWEEP_CANDIDATE_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SweepCandidate::from).collect())
    }

    async fn claim_sweep(
        &self,
        organization_id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        // One atomic statement: it inserts the lease, or takes over a free or expired one, or
        // renews our own; a lease another node holds is left alone (0 rows). Concurrent
        // claimants of one organization serialize on its row.
        let result = sqlx::query(
            "INSERT INTO retention_sweeps (organization_id, lease_owner, lease_expires_at)
             VALUES ($1, $2, $3)
             ON CONFLICT (organization_id) DO UPDATE SET lease_owner = EXCLUDED.lease_owner,
                 lease_expires_at = EXCLUDED.lease_expires_at
             WHERE retention_sweeps.lease_expires_at IS NULL
                 OR retention_sweeps.lease_expires_at <= $4
                 OR retention_sweeps.lease_owner = EXCLUDED.lease_owner",
        )
        .bind(organization_id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn finish_sweep(&self, organization_id: &str, owner: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE retention_sweeps SET lease_owner = NULL, lease_expires_at = NULL,
                 last_swept_at = $1
             WHERE organization_id = $2 AND lease_owner = $3",
        )
        .bind(now)
        .bind(organization_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn redact_events_before(
        &self,
        environment: &str,
        organization_id: &str,
        cutoff: i64,
        limit: i64,
        now: i64,
    ) -> StoreResult<u64> {
        // One small transaction per batch. The hold is checked under FOR KEY SHARE on the
        // organization row: `change_legal_hold` takes FOR UPDATE, which conflicts with it, so a
        // hold is either committed before this check (and seen: nothing is redacted) or waits
        // until this batch commits (and every later batch sees it). Ingest's FOR NO KEY UPDATE
        // does not conflict with it: a long sweep does not hold up new events.
        let mut tx = self.pool.begin().await?;
        let on_hold: Option<bool> = sqlx::query_scalar(
            "SELECT legal_hold_since IS NOT NULL FROM organizations
             WHERE environment = $1 AND id = $2 FOR KEY SHARE",
        )
        .bind(environment)
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        if on_hold != Some(false) {
            return Ok(0);
        }
        // Pin the plan of the statement below for this transaction only. It must walk the
        // partial `events_by_time` index in order and stop after `limit` entries, then probe
        // `events_pkey` and `event_target_types_by_event` once per event: a few thousand
        // buffers a batch, whatever the size of the tables. The planner picks that only with
        // fresh statistics. Right after a bulk load (autovacuum off, or its ANALYZE not run
        // yet) it guesses a handful of matching rows (default selectivities), and chooses a
        // bitmap scan of every unredacted event of the organization plus a sort, and a
        // sequential scan or hash join over the whole of event_target_types: every batch then
        // costs time proportional to the organization, and the sweep becomes quadratic.
        // `set_config(.., true)` is SET LOCAL: reset at commit or rollback.
        sqlx::query(
            "SELECT set_config('enable_seqscan', 'off', true),
                 set_config('enable_bitmapscan', 'off', true),
                 set_config('enable_sort', 'off', true),
                 set_config('enable_hashjoin', 'off', true),
                 set_config('enable_mergejoin', 'off', true)",
        )
        .execute(&mut *tx)
        .await?;
        // The oldest unredacted events first, found in the partial `events_by_time` index, so a
        // batch never scans what earlier batches already redacted. Their target-type rows go in
        // the same statement, found by `event_target_types_by_event`. No `organization_id`
        // condition there (`event_row_id` alone identifies the event): with one, the planner
        // may use the primary key instead, bounded by organization_id only, which reads all of
        // the organization's target-type rows for every redacted event.
        let redacted: i64 = sqlx::query_scalar(
            "WITH redacted AS (
                 UPDATE events SET payload = NULL, actor_id = '', actor_name = NULL, action = '',
                     redacted_at = $5
                 WHERE row_id IN (
                     SELECT row_id FROM events
                     WHERE organization_id = $1 AND environment = $2 AND occurred_at < $3
                       AND payload IS NOT NULL
                     ORDER BY occurred_at, id
                     LIMIT $4)
                 RETURNING row_id
             ), targets AS (
                 DELETE FROM event_target_types t USING redacted r
                 WHERE t.event_row_id = r.row_id
             )
             SELECT COUNT(*) FROM redacted",
        )
        .bind(organization_id)
        .bind(environment)
        .bind(cutoff)
        .bind(limit)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(redacted as u64)
    }
}
