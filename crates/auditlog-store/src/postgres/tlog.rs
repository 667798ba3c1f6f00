//! The tamper-evidence log on PostgreSQL, shared by every node.
//!
//! The tree of an organization grows only through [`TlogStore::append_log_hashes`]: an
//! `UPDATE tlog_trees … WHERE tree_size = old` takes the row's lock, so two nodes appending at
//! once serialize on it; under READ COMMITTED the second re-reads the row after the first
//! commits, finds the size changed, updates nothing and writes no hash. The hashes of the new
//! leaves go in the same transaction, so a stored size always has exactly its hashes.

use super::PostgresStore;
use crate::error::{MissingLogHash, StoreError, StoreResult};
use crate::rows::{hash32, missing_from_gaps, CheckpointRow, LogBacklogRow, CHECKPOINT_COLUMNS};
use crate::types::{LogBacklog, LoggedEvent, MissingSequences, StoredCheckpoint};
use crate::TlogStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

impl PostgresStore {
    /// The checkpoint of `organization_id` that `condition` (what follows `WHERE`, binding the
    /// organization and a size as its two parameters) selects.
    async fn one_checkpoint(
        &self,
        condition: &str,
        organization_id: &str,
        size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        let row = sqlx::query_as::<_, CheckpointRow>(AssertSqlSafe(format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM tlog_checkpoints WHERE {condition}"
        )))
        .bind(organization_id)
        .bind(size)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredCheckpoint::from))
    }
}

#[async_trait]
impl TlogStore for PostgresStore {
    async fn log_leaf_count(&self, organization_id: &str) -> StoreResult<Option<i64>> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT last_sequence FROM organizations WHERE id = $1")
                .bind(organization_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(last.map(|last| last + 1))
    }

    async fn log_backlog(&self, limit: i64) -> StoreResult<Vec<LogBacklog>> {
        let rows = sqlx::query_as::<_, LogBacklogRow>(
            "SELECT o.environment, o.id, o.last_sequence + 1 AS leaf_count,
                    COALESCE(t.tree_size, 0) AS tree_size, c.checkpoint_size
             FROM organizations o
             LEFT JOIN tlog_trees t ON t.organization_id = o.id
             LEFT JOIN LATERAL (SELECT MAX(tree_size) AS checkpoint_size FROM tlog_checkpoints
                                WHERE organization_id = o.id) c ON TRUE
             WHERE o.last_sequence + 1 > COALESCE(t.tree_size, 0)
                OR COALESCE(t.tree_size, 0) > COALESCE(c.checkpoint_size, 0)
             ORDER BY o.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(LogBacklog::from).collect())
    }

    async fn log_tree_size(&self, organization_id: &str) -> StoreResult<i64> {
        let size: Option<i64> =
            sqlx::query_scalar("SELECT tree_size FROM tlog_trees WHERE organization_id = $1")
                .bind(organization_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(size.unwrap_or(0))
    }

    async fn log_leaves(
        &self,
        organization_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(i64, [u8; 32])>> {
        // Sequence numbers become visible in commit order (ingest holds the organization's
        // counter row until it commits), so a range read never sees a later leaf without the
        // earlier ones; the builder still checks the range has no gap.
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT sequence, leaf_hash FROM events
             WHERE organization_id = $1 AND sequence >= $2 AND sequence < $3 ORDER BY sequence",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(sequence, hash)| (sequence, hash32(&hash)))
            .collect())
    }

    async fn log_missing_sequences(
        &self,
        organization_id: &str,
        start: i64,
        end: i64,
        limit: i64,
    ) -> StoreResult<MissingSequences> {
        // An index-only scan of the events_sequence constraint's index.
        let present: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events
             WHERE organization_id = $1 AND sequence >= $2 AND sequence < $3",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        let total = (end - start).max(0) - present;
        if total <= 0 {
            return Ok(MissingSequences::default());
        }
        // Each row after a gap, with the sequence before it (`end` closes the range): the gap
        // is `prev + 1 .. sequence`. One row per gap, so `limit` rows name enough sequences.
        let gaps: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT prev + 1, sequence FROM (
                 SELECT sequence, LAG(sequence, 1, $2::BIGINT - 1) OVER (ORDER BY sequence) AS prev
                 FROM (SELECT sequence FROM events
                       WHERE organization_id = $1 AND sequence >= $2 AND sequence < $3
                       UNION ALL SELECT $3::BIGINT) bounded) gaps
             WHERE sequence > prev + 1 ORDER BY sequence LIMIT $4",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(missing_from_gaps(total, gaps, limit))
    }

    async fn log_events_at(
        &self,
        organization_id: &str,
        sequences: &[i64],
    ) -> StoreResult<Vec<LoggedEvent>> {
        let rows: Vec<(i64, Vec<u8>, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT sequence, leaf_hash, payload, redacted_at FROM events
             WHERE organization_id = $1 AND sequence = ANY($2) ORDER BY sequence",
        )
        .bind(organization_id)
        .bind(sequences)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(sequence, hash, payload, redacted_at)| LoggedEvent {
                sequence,
                leaf_hash: hash32(&hash),
                payload,
                redacted_at,
            })
            .collect())
    }

    async fn log_hashes(
        &self,
        organization_id: &str,
        indexes: &[i64],
    ) -> StoreResult<Vec<[u8; 32]>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT stored_index, hash FROM tlog_hashes
             WHERE organization_id = $1 AND stored_index = ANY($2)",
        )
        .bind(organization_id)
        .bind(indexes)
        .fetch_all(&self.pool)
        .await?;
        let found: HashMap<i64, [u8; 32]> = rows
            .into_iter()
            .map(|(index, hash)| (index, hash32(&hash)))
            .collect();
        indexes
            .iter()
            .map(|index| {
                found
                    .get(index)
                    .copied()
                    .ok_or_else(|| StoreError::Other(Box::new(MissingLogHash(*index))))
            })
            .collect()
    }

    async fn append_log_hashes(
        &self,
        organization_id: &str,
        old_size: i64,
        new_size: i64,
        hashes: &[(i64, [u8; 32])],
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO tlog_trees (organization_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(organization_id)
            .execute(&mut *tx)
            .await?;
        // The compare-and-set (see the module documentation).
        let moved = sqlx::query(
            "UPDATE tlog_trees SET tree_size = $1 WHERE organization_id = $2 AND tree_size = $3",
        )
        .bind(new_size)
        .bind(organization_id)
        .bind(old_size)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        let indexes: Vec<i64> = hashes.iter().map(|(index, _)| *index).collect();
        let values: Vec<Vec<u8>> = hashes.iter().map(|(_, hash)| hash.to_vec()).collect();
        sqlx::query(
            "INSERT INTO tlog_hashes (organization_id, stored_index, hash)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BYTEA[])",
        )
        .bind(organization_id)
        .bind(&indexes)
        .bind(&values)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_log_builder(
        &self,
        organization_id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        // One statement, like the sweeper's lease: insert, take over a free or expired lease,
        // or renew our own; another node's live lease is left alone (0 rows).
        let result = sqlx::query(
            "INSERT INTO tlog_trees (organization_id, lease_owner, lease_expires_at)
             VALUES ($1, $2, $3)
             ON CONFLICT (organization_id) DO UPDATE SET lease_owner = EXCLUDED.lease_owner,
                 lease_expires_at = EXCLUDED.lease_expires_at
             WHERE tlog_trees.lease_expires_at IS NULL OR tlog_trees.lease_expires_at <= $4
                 OR tlog_trees.lease_owner = EXCLUDED.lease_owner",
        )
        .bind(organization_id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_log_builder(&self, organization_id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE tlog_trees SET lease_owner = NULL, lease_expires_at = NULL
             WHERE organization_id = $1 AND lease_owner = $2",
        )
        .bind(organization_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn save_checkpoint(
        &self,
        checkpoint: &StoredCheckpoint,
    ) -> StoreResult<StoredCheckpoint> {
        // The size check and the insert are one statement; a tree never shrinks, so a size it
        // has now it keeps. A concurrent insert of the same size makes ours do nothing (after
        // waiting for it to commit); the SELECT that follows, a new snapshot, then sees it.
        let inserted = sqlx::query(
            "INSERT INTO tlog_checkpoints (organization_id, tree_size, note, created_at)
             SELECT $1, $2, $3, $4
             WHERE $2 >= 0 AND $2 <= COALESCE(
                 (SELECT tree_size FROM tlog_trees WHERE organization_id = $1), 0)
             ON CONFLICT (organization_id, tree_size) DO NOTHING",
        )
        .bind(&checkpoint.organization_id)
        .bind(checkpoint.tree_size)
        .bind(&checkpoint.note)
        .bind(checkpoint.created_at)
        .execute(&self.pool)
        .await?;
        let stored = self
            .checkpoint_at(&checkpoint.organization_id, checkpoint.tree_size)
            .await?;
        match stored {
            Some(stored) => Ok(stored),
            None if inserted.rows_affected() == 0 => Err(StoreError::Conflict(
                "no checkpoint for a tree size the stored log does not have",
            )),
            None => Err(StoreError::Conflict("a stored checkpoint vanished")),
        }
    }

    async fn latest_checkpoint(
        &self,
        organization_id: &str,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        let row = sqlx::query_as::<_, CheckpointRow>(AssertSqlSafe(format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM tlog_checkpoints
             WHERE organization_id = $1 ORDER BY tree_size DESC LIMIT 1"
        )))
        .bind(organization_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredCheckpoint::from))
    }

    async fn checkpoint_at(
        &self,
        organization_id: &str,
        tree_size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        self.one_checkpoint(
            "organization_id = $1 AND tree_size = $2",
            organization_id,
            tree_size,
        )
        .await
    }

    async fn checkpoint_covering(
        &self,
        organization_id: &str,
        min_size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        self.one_checkpoint(
            "organization_id = $1 AND tree_size >= $2 ORDER BY tree_size LIMIT 1",
            organization_id,
            min_size,
        )
        .await
    }

    async fn record_cosigned_note(
        &self,
        organization_id: &str,
        tree_size: i64,
        note: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE tlog_checkpoints SET note = $1 WHERE organization_id = $2 AND tree_size = $3",
        )
        .bind(note)
        .bind(organization_id)
        .bind(tree_size)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn database_signing_seed(&self) -> StoreResult<Option<[u8; 32]>> {
        let seed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT seed FROM tlog_signing_key WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        seed.map(|seed| {
            seed.try_into()
                .map_err(|_| StoreError::Conflict("the stored log signing seed is not 32 bytes"))
        })
        .transpose()
    }

    async fn erase_database_signing_seed(&self) -> StoreResult<()> {
        sqlx::query("DELETE FROM tlog_signing_key")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
