//! The witness's database: `witness.db` in its data dir, SQLite in WAL mode with
//! `synchronous=FULL`, so a committed checkpoint is on disk before the 200 that cosigns it.
//!
//! - `latest_checkpoints`: per origin, the latest checkpoint the witness cosigned (its size,
//!   root, the note as submitted, and the witness's cosignature line). It only moves forward by
//!   compare-and-set ([`WitnessStore::advance`]): two concurrent requests can never both build on
//!   the same old checkpoint, so none rolls the size back.
//! - `refusals`: add-checkpoint requests refused although the log's signature verified: 409s,
//!   422s and 400s on a signed checkpoint may be evidence of a fork. One row per (origin,
//!   checkpoint body, status) with a count, so replaying a signed checkpoint cannot grow the
//!   table: only the log can make new rows.

use anyhow::Context;
use auditlog_tlog::Hash;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Row;
use std::path::Path;
use std::time::Duration;

pub const DATABASE_FILE: &str = "witness.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS latest_checkpoints (
    origin TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS refusals (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body_sha256 BLOB NOT NULL,
    note TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    count INTEGER NOT NULL,
    UNIQUE (origin, body_sha256, status)
) STRICT;
";

/// The latest checkpoint cosigned for an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The note as the log submitted it (its signature, maybe other witnesses').
    pub note: String,
    /// This witness's cosignature line of it, ending in a newline.
    pub cosignature: String,
    /// POSIX seconds.
    pub updated_at: i64,
}

/// A refused add-checkpoint request whose checkpoint the log had signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub origin: String,
    pub status: u16,
    /// Why, for the latest such request.
    pub reason: String,
    /// The note of the first such request.
    pub note: String,
    pub first_at: i64,
    pub last_at: i64,
    pub count: i64,
}

#[derive(Debug, Clone)]
pub struct WitnessStore {
    pool: SqlitePool,
}

/// SQLite integers are signed; sizes beyond `i64::MAX` are refused before they get here.
fn to_sql(size: u64) -> anyhow::Result<i64> {
    i64::try_from(size).context("a tree size beyond 2^63 cannot be stored")
}

impl WitnessStore {
    /// Opens (creating) `witness.db` in `data_dir`, readable by its owner only.
    pub async fn open(data_dir: &Path) -> anyhow::Result<WitnessStore> {
        let path = data_dir.join(DATABASE_FILE);
        crate::private_files::create_database_file(&path)?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the witness database {}", path.display()))?;
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .context("creating the witness database's tables")?;
        Ok(WitnessStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn latest(&self, origin: &str) -> anyhow::Result<Option<LatestCheckpoint>> {
        let row = sqlx::query(
            "SELECT origin, size, root, note, cosignature, updated_at
             FROM latest_checkpoints WHERE origin = ?",
        )
        .bind(origin)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let root: Vec<u8> = row.try_get("root")?;
        Ok(Some(LatestCheckpoint {
            origin: row.try_get("origin")?,
            size: u64::try_from(row.try_get::<i64, _>("size")?)?,
            root: root
                .try_into()
                .map_err(|_| anyhow::anyhow!("a stored root is not 32 bytes"))?,
            note: row.try_get("note")?,
            cosignature: row.try_get("cosignature")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Stores `new` as the latest checkpoint of its origin if the stored one is still
    /// `expected` (same size and root; `None`: nothing stored). Returns false when another
    /// request changed it first. Committed (fsync'd) when it returns true.
    pub async fn advance(
        &self,
        expected: Option<(u64, Hash)>,
        new: &LatestCheckpoint,
    ) -> anyhow::Result<bool> {
        let result = match expected {
            None => {
                sqlx::query(
                    "INSERT INTO latest_checkpoints
                         (origin, size, root, note, cosignature, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (origin) DO NOTHING",
                )
                .bind(&new.origin)
                .bind(to_sql(new.size)?)
                .bind(new.root.as_slice())
                .bind(&new.note)
                .bind(&new.cosignature)
                .bind(new.updated_at)
                .execute(&self.pool)
                .await?
            }
            Some((size, root)) => {
                sqlx::query(
                    "UPDATE latest_checkpoints
                     SET size = ?, root = ?, note = ?, cosignature = ?, updated_at = ?
                     WHERE origin = ? AND size = ? AND root = ?",
                )
                .bind(to_sql(new.size)?)
                .bind(new.root.as_slice())
                .bind(&new.note)
                .bind(&new.cosignature)
                .bind(new.updated_at)
                .bind(&new.origin)
                .bind(to_sql(size)?)
                .bind(root.as_slice())
                .execute(&self.pool)
                .await?
            }
        };
        Ok(result.rows_affected() == 1)
    }

    /// Records a refusal of a signed checkpoint whose note text (the signed body) is `body`.
    pub async fn record_refusal(
        &self,
        origin: &str,
        status: u16,
        reason: &str,
        body: &str,
        note: &str,
        at: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO refusals
                 (origin, status, reason, body_sha256, note, first_at, last_at, count)
             VALUES (?, ?, ?, ?, ?, ?, ?, 1)
             ON CONFLICT (origin, body_sha256, status) DO UPDATE
             SET reason = excluded.reason, last_at = excluded.last_at, count = count + 1",
        )
        .bind(origin)
        .bind(i64::from(status))
        .bind(reason)
        .bind(Sha256::digest(body.as_bytes()).to_vec())
        .bind(note)
        .bind(at)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The refusals recorded for `origin`, oldest first.
    pub async fn refusals(&self, origin: &str) -> anyhow::Result<Vec<Refusal>> {
        let rows = sqlx::query(
            "SELECT origin, status, reason, note, first_at, last_at, count
             FROM refusals WHERE origin = ? ORDER BY id",
        )
        .bind(origin)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Refusal {
                    origin: row.try_get("origin")?,
                    status: u16::try_from(row.try_get::<i64, _>("status")?)?,
                    reason: row.try_get("reason")?,
                    note: row.try_get("note")?,
                    first_at: row.try_get("first_at")?,
                    last_at: row.try_get("last_at")?,
                    count: row.try_get("count")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(size: u64, root: u8) -> LatestCheckpoint {
        LatestCheckpoint {
            origin: "log.example/a".into(),
            size,
            root: [root; 32],
            note: format!("note {size}"),
            cosignature: "— w AAAA\n".into(),
            updated_at: 1,
        }
    }

    #[tokio::test]
    async fn only_one_of_two_requests_from_the_same_checkpoint_advances() {
        let dir = tempfile::tempdir().unwrap();
        let store = WitnessStore::open(dir.path()).await.unwrap();
        assert!(store.advance(None, &checkpoint(3, 1)).await.unwrap());
        assert!(!store.advance(None, &checkpoint(4, 2)).await.unwrap());
        let (five, nine) = (checkpoint(5, 5), checkpoint(9, 9));
        let (a, b) = tokio::join!(
            store.advance(Some((3, [1; 32])), &five),
            store.advance(Some((3, [1; 32])), &nine),
        );
        assert!(a.unwrap() ^ b.unwrap(), "exactly one compare-and-set wins");
        let latest = store.latest("log.example/a").await.unwrap().unwrap();
        assert!(latest.size == 5 || latest.size == 9);
        // The same size with another root is not the expected checkpoint.
        assert!(!store
            .advance(Some((latest.size, [0; 32])), &checkpoint(10, 10))
            .await
            .unwrap());
        store.close().await;
        let reopened = WitnessStore::open(dir.path()).await.unwrap();
        assert_eq!(
            reopened.latest("log.example/a").await.unwrap(),
            Some(latest)
        );
    }

    #[tokio::test]
    async fn replayed_refusals_count_instead_of_adding_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = WitnessStore::open(dir.path()).await.unwrap();
        for at in [10, 11, 12] {
            store
                .record_refusal("o", 409, "stale", "body", "note", at)
                .await
                .unwrap();
        }
        store
            .record_refusal("o", 422, "bad proof", "body", "note", 13)
            .await
            .unwrap();
        let refusals = store.refusals("o").await.unwrap();
        assert_eq!(refusals.len(), 2);
        assert_eq!(
            (refusals[0].count, refusals[0].first_at, refusals[0].last_at),
            (3, 10, 12)
        );
        assert_eq!(refusals[1].status, 422);
        assert!(store.refusals("other").await.unwrap().is_empty());
    }
}
