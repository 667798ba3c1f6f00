//! The tamper-evidence log on SQLite. The single writer connection serializes every write, so
//! the compare-and-set on a tree's size is a read and a write in one transaction under it.

use super::SqliteStore;
use crate::error::{MissingLogHash, StoreError, StoreResult};
use crate::rows::{hash32, missing_from_gaps, CheckpointRow, LogBacklogRow, CHECKPOINT_COLUMNS};
use crate::types::{LogBacklog, LoggedEvent, MissingSequences, StoredCheckpoint};
use crate::TlogStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, QueryBuilder, Sqlite};
use std::collections::HashMap;

/// Bound parameters per statement, well under SQLite's limit.
const CHUNK: usize = 400;

impl SqliteStore {
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
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(StoredCheckpoint::from))
    }
}

#[async_trait]
impl TlogStore for SqliteStore {
    async fn log_leaf_count(&self, organization_id: &str) -> StoreResult<Option<i64>> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT last_sequence FROM organizations WHERE id = ?")
                .bind(organization_id)
                .fetch_optional(&self.readers)
                .await?;
        Ok(last.map(|last| last + 1))
    }

    async fn log_backlog(&self, limit: i64) -> StoreResult<Vec<LogBacklog>> {
        let rows = sqlx::query_as::<_, LogBacklogRow>(
            "SELECT o.environment, o.id, o.last_sequence + 1 AS leaf_count,
                    COALESCE(t.tree_size, 0) AS tree_size,
                    (SELECT MAX(c.tree_size) FROM tlog_checkpoints c WHERE c.organization_id = o.id)
                        AS checkpoint_size
             FROM organizations o LEFT JOIN tlog_trees t ON t.organization_id = o.id
             WHERE o.last_sequence + 1 > COALESCE(t.tree_size, 0)
                OR COALESCE(t.tree_size, 0) > COALESCE(
                    (SELECT MAX(c.tree_size) FROM tlog_checkpoints c WHERE c.organization_id = o.id), 0)
             ORDER BY o.id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.into_iter().map(LogBacklog::from).collect())
    }

    async fn log_tree_size(&self, organization_id: &str) -> StoreResult<i64> {
        let size: Option<i64> =
            sqlx::query_scalar("SELECT tree_size FROM tlog_trees WHERE organization_id = ?")
                .bind(organization_id)
                .fetch_optional(&self.readers)
                .await?;
        Ok(size.unwrap_or(0))
    }

    async fn log_leaves(
        &self,
        organization_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(i64, [u8; 32])>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT sequence, leaf_hash FROM events
             WHERE organization_id = ? AND sequence >= ? AND sequence < ? ORDER BY sequence",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.readers)
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
        let present: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events
             WHERE organization_id = ? AND sequence >= ? AND sequence < ?",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .fetch_one(&self.readers)
        .await?;
        let total = (end - start).max(0) - present;
        if total <= 0 {
            return Ok(MissingSequences::default());
        }
        // Each row after a gap, with the sequence before it (`end` closes the range): the gap
        // is `prev + 1 .. sequence`. One row per gap, so `limit` rows name enough sequences.
        let gaps: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT prev + 1, sequence FROM (
                 SELECT sequence, LAG(sequence, 1, ?2 - 1) OVER (ORDER BY sequence) AS prev
                 FROM (SELECT sequence FROM events
                       WHERE organization_id = ?1 AND sequence >= ?2 AND sequence < ?3
                       UNION ALL SELECT ?3))
             WHERE sequence > prev + 1 ORDER BY sequence LIMIT ?4",
        )
        .bind(organization_id)
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(missing_from_gaps(total, gaps, limit))
    }

    async fn log_events_at(
        &self,
        organization_id: &str,
        sequences: &[i64],
    ) -> StoreResult<Vec<LoggedEvent>> {
        let mut events = Vec::with_capacity(sequences.len());
        for chunk in sequences.chunks(CHUNK) {
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT sequence, leaf_hash, payload, redacted_at FROM events
                 WHERE organization_id = ",
            );
            builder.push_bind(organization_id);
            builder.push(" AND sequence IN (");
            let mut list = builder.separated(", ");
            for sequence in chunk {
                list.push_bind(*sequence);
            }
            list.push_unseparated(")");
            let rows: Vec<(i64, Vec<u8>, Option<String>, Option<i64>)> =
                builder.build_query_as().fetch_all(&self.readers).await?;
            events.extend(
                rows.into_iter()
                    .map(|(sequence, hash, payload, redacted_at)| LoggedEvent {
                        sequence,
                        leaf_hash: hash32(&hash),
                        payload,
                        redacted_at,
                    }),
            );
        }
        events.sort_unstable_by_key(|event| event.sequence);
        Ok(events)
    }

    async fn log_hashes(
        &self,
        organization_id: &str,
        indexes: &[i64],
    ) -> StoreResult<Vec<[u8; 32]>> {
        let mut found = HashMap::with_capacity(indexes.len());
        for chunk in indexes.chunks(CHUNK) {
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT stored_index, hash FROM tlog_hashes WHERE organization_id = ",
            );
            builder.push_bind(organization_id);
            builder.push(" AND stored_index IN (");
            let mut list = builder.separated(", ");
            for index in chunk {
                list.push_bind(*index);
            }
            list.push_unseparated(")");
            let rows: Vec<(i64, Vec<u8>)> =
                builder.build_query_as().fetch_all(&self.readers).await?;
            found.extend(rows.into_iter().map(|(i, h)| (i, hash32(&h))));
        }
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
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        sqlx::query("INSERT OR IGNORE INTO tlog_trees (organization_id) VALUES (?)")
            .bind(organization_id)
            .execute(&mut *tx)
            .await?;
        // The compare-and-set: only a builder that saw the current size moves it.
        let moved = sqlx::query(
            "UPDATE tlog_trees SET tree_size = ? WHERE organization_id = ? AND tree_size = ?",
        )
        .bind(new_size)
        .bind(organization_id)
        .bind(old_size)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        for chunk in hashes.chunks(CHUNK / 3) {
            let mut builder: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO tlog_hashes (organization_id, stored_index, hash) ");
            builder.push_values(chunk, |mut row, (index, hash)| {
                row.push_bind(organization_id)
                    .push_bind(*index)
                    .push_bind(hash.to_vec());
            });
            builder.build().execute(&mut *tx).await?;
        }
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
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "INSERT INTO tlog_trees (organization_id, lease_owner, lease_expires_at) VALUES (?, ?, ?)
             ON CONFLICT (organization_id) DO UPDATE SET lease_owner = excluded.lease_owner,
                 lease_expires_at = excluded.lease_expires_at
             WHERE tlog_trees.lease_expires_at IS NULL OR tlog_trees.lease_expires_at <= ?
                 OR tlog_trees.lease_owner = excluded.lease_owner",
        )
        .bind(organization_id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_log_builder(&self, organization_id: &str, owner: &str) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "UPDATE tlog_trees SET lease_owner = NULL, lease_expires_at = NULL
             WHERE organization_id = ? AND lease_owner = ?",
        )
        .bind(organization_id)
        .bind(owner)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn save_checkpoint(
        &self,
        checkpoint: &StoredCheckpoint,
    ) -> StoreResult<StoredCheckpoint> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        let built: Option<i64> =
            sqlx::query_scalar("SELECT tree_size FROM tlog_trees WHERE organization_id = ?")
                .bind(&checkpoint.organization_id)
                .fetch_optional(&mut *tx)
                .await?;
        if checkpoint.tree_size > built.unwrap_or(0) || checkpoint.tree_size < 0 {
            return Err(StoreError::Conflict(
                "no checkpoint for a tree size the stored log does not have",
            ));
        }
        sqlx::query(
            "INSERT INTO tlog_checkpoints (organization_id, tree_size, note, created_at)
             VALUES (?, ?, ?, ?) ON CONFLICT (organization_id, tree_size) DO NOTHING",
        )
        .bind(&checkpoint.organization_id)
        .bind(checkpoint.tree_size)
        .bind(&checkpoint.note)
        .bind(checkpoint.created_at)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query_as::<_, CheckpointRow>(AssertSqlSafe(format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM tlog_checkpoints
             WHERE organization_id = ? AND tree_size = ?"
        )))
        .bind(&checkpoint.organization_id)
        .bind(checkpoint.tree_size)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    async fn latest_checkpoint(
        &self,
        organization_id: &str,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        let row = sqlx::query_as::<_, CheckpointRow>(AssertSqlSafe(format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM tlog_checkpoints
             WHERE organization_id = ? ORDER BY tree_size DESC LIMIT 1"
        )))
        .bind(organization_id)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(StoredCheckpoint::from))
    }

    async fn checkpoint_at(
        &self,
        organization_id: &str,
        tree_size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        self.one_checkpoint(
            "organization_id = ? AND tree_size = ?",
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
            "organization_id = ? AND tree_size >= ? ORDER BY tree_size LIMIT 1",
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
        let mut writer = self.lock_writer().await?;
        sqlx::query(
            "UPDATE tlog_checkpoints SET note = ? WHERE organization_id = ? AND tree_size = ?",
        )
        .bind(note)
        .bind(organization_id)
        .bind(tree_size)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn database_signing_seed(&self) -> StoreResult<Option<[u8; 32]>> {
        let seed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT seed FROM tlog_signing_key WHERE id = 1")
                .fetch_optional(&self.readers)
                .await?;
        seed.map(|seed| {
            seed.try_into()
                .map_err(|_| StoreError::Conflict("the stored log signing seed is not 32 bytes"))
        })
        .transpose()
    }

    async fn erase_database_signing_seed(&self) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query("DELETE FROM tlog_signing_key")
            .execute(&mut *writer)
            .await?;
        Ok(())
    }
}
