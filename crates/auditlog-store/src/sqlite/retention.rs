use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{
    LegalHoldRow, PolicyRow, SweepCandidateRow, LEGAL_HOLD_COLUMNS, POLICY_COLUMNS,
    SWEEP_CANDIDATE_COLUMNS,
};
use crate::types::{LegalHoldChange, LegalHoldEntry, OrganizationPolicy, SweepCandidate};
use crate::RetentionStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

/// A sweep batch: the oldest unredacted events of an organization before the cutoff, in the
/// order of the partial `events_by_time` index (a query without `payload IS NOT NULL` could not
/// use it).
pub(super) const SWEEP_BATCH: &str = "SELECT row_id FROM events
     WHERE organization_id = ? AND environment = ? AND occurred_at < ? AND payload IS NOT NULL
     ORDER BY occurred_at, id LIMIT ?";

/// The target-type rows of a batch's events, by the primary key's leading row id.
pub(super) const DELETE_TARGET_TYPES: &str =
    "DELETE FROM event_target_types WHERE event_row_id IN (SELECT value FROM json_each(?))";

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn organization_policy(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Option<OrganizationPolicy>> {
        let row = sqlx::query_as::<_, PolicyRow>(AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM organizations
             WHERE environment = ? AND id = ? AND deleted_at IS NULL"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_optional(&self.readers)
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
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE organizations SET retention_period_in_days = ?, updated_at = ?
             WHERE environment = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(days)
        .bind(now)
        .bind(environment)
        .bind(organization_id)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn change_legal_hold(&self, entry: &LegalHoldEntry) -> StoreResult<LegalHoldChange> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        let held: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT legal_hold_since FROM organizations WHERE environment = ? AND id = ? AND deleted_at IS NULL",
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
        sqlx::query("UPDATE organizations SET legal_hold_reason = ?, legal_hold_since = ? WHERE environment = ? AND id = ?")
            .bind(reason)
            .bind(since)
            .bind(&entry.environment)
            .bind(&entry.organization_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO legal_hold_history ({LEGAL_HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
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
             WHERE environment = ? AND organization_id = ? ORDER BY at, id"
        )))
        .bind(environment)
        .bind(organization_id)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.into_iter().map(LegalHoldEntry::from).collect())
    }

    async fn sweep_candidates(&self) -> StoreResult<Vec<SweepCandidate>> {
        let rows = sqlx::query_as::<_, SweepCandidateRow>(AssertSqlSafe(format!(
            "SELECT {SWEEP_CANDIDATE_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&self.readers)
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
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "INSERT INTO retention_sweeps (organization_id, lease_owner, lease_expires_at) VALUES (?, ?, ?)
             ON CONFLICT (organization_id) DO UPDATE SET lease_owner = excluded.lease_owner,
                 lease_expires_at = excluded.lease_expires_at
             WHERE retention_sweeps.lease_expires_at IS NULL OR retention_sweeps.lease_expires_at <= ?
                 OR retention_sweeps.lease_owner = excluded.lease_owner",
        )
        .bind(organization_id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn finish_sweep(&self, organization_id: &str, owner: &str, now: i64) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "UPDATE retention_sweeps SET lease_owner = NULL, lease_expires_at = NULL, last_swept_at = ?
             WHERE organization_id = ? AND lease_owner = ?",
        )
        .bind(now)
        .bind(organization_id)
        .bind(owner)
        .execute(&mut *writer)
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
        // One small transaction per batch: the writer lock is held for a few milliseconds, so
        // ingest batches interleave with a large sweep instead of waiting for all of it.
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        let on_hold: Option<bool> = sqlx::query_scalar(
            "SELECT legal_hold_since IS NOT NULL FROM organizations WHERE environment = ? AND id = ?",
        )
        .bind(environment)
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        if on_hold != Some(false) {
            return Ok(0);
        }
        // The oldest unredacted events first, from the partial `events_by_time` index, which
        // holds unredacted events only: a batch never scans what earlier batches redacted.
        let rows: Vec<i64> = sqlx::query_scalar(SWEEP_BATCH)
            .bind(organization_id)
            .bind(environment)
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let row_ids = serde_json::to_string(&rows).expect("integers serialize");
        sqlx::query(
            "UPDATE events SET payload = NULL, actor_id = '', actor_name = NULL, action = '', redacted_at = ?
             WHERE row_id IN (SELECT value FROM json_each(?))",
        )
        .bind(now)
        .bind(&row_ids)
        .execute(&mut *tx)
        .await?;
        sqlx::query(DELETE_TARGET_TYPES)
            .bind(&row_ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}
