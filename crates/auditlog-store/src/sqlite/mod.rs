//! The embedded SQLite store: one writer at a time (WAL, `synchronous=FULL`, so a commit is on
//! disk when it returns) and read-only connections beside it. Which connections exist, through
//! which driver and why, and how they are set up: see `connections`.

mod checkpointer;
mod connections;
mod event_bulk;
mod event_filter;
mod event_reads;
mod event_writer;
mod events;
mod exports;
#[cfg(test)]
mod fault_tests;
mod idempotency;
mod jobs;
mod keys;
mod organizations;
mod portal;
mod raw_readers;
mod retention;
#[cfg(test)]
mod retention_tests;
mod schemas;
mod snapshot;
mod streams;
pub use snapshot::snapshot_into;
#[cfg(test)]
mod test_fixtures;
mod tlog;

use crate::error::StoreResult;
use auditlog_domain::pagination::PagePlan;
use checkpointer::Checkpointer;
use connections::Role;
use raw_readers::RawReaders;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// Concurrent readers; SQLite in WAL mode lets them run beside the writer.
const READER_CONNECTIONS: u32 = 8;

pub struct SqliteStore {
    /// SQLite allows one writer at a time; holding it behind a mutex makes that explicit and
    /// keeps writers from spinning on SQLITE_BUSY.
    /// Take it with [`SqliteStore::lock_writer`], which heals it after a failed transaction.
    writer: Mutex<SqliteConnection>,
    /// How `writer` was opened, to open it again (see [`SqliteStore::lock_writer`]).
    writer_options: SqliteConnectOptions,
    /// Read-only connections for every read but the export's.
    readers: SqlitePool,
    /// The ingest path's connection (`event_writer`), used under `writer`'s lock.
    ingest_writer: Arc<std::sync::Mutex<rusqlite::Connection>>,
    /// Copies the WAL back into the database file beside `ingest_writer` (`checkpointer`).
    checkpointer: Arc<Checkpointer>,
    /// Read-only connections outside sqlx, for the export's bulk reads.
    raw_readers: Arc<RawReaders>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let writer_options = connections::sqlx_options(path, Role::Writer);
        let mut writer = writer_options.connect().await?;
        // `run_direct` rather than `run`: `run` goes through `Acquire`, whose future is not
        // `Send` for every lifetime, which would stop callers from spawning the server.
        sqlx::migrate!("./migrations/sqlite")
            .run_direct(None, &mut writer, false)
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READER_CONNECTIONS)
            .connect_with(connections::sqlx_options(path, Role::Reader))
            .await?;
        let ingest_writer = event_writer::open(path)?;
        let checkpointer = Checkpointer::start(path, &ingest_writer)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            writer_options,
            readers,
            ingest_writer: Arc::new(std::sync::Mutex::new(ingest_writer)),
            checkpointer: Arc::new(checkpointer),
            raw_readers: RawReaders::new(path.to_path_buf()),
        })
    }

    /// The writer connection, locked, outside any transaction.
    ///
    /// A transaction that fails (SQLITE_FULL or SQLITE_IOERR at COMMIT, typically: the disk
    /// filled up) is rolled back automatically by SQLite; the ROLLBACK that sqlx then issues
    /// fails ("no transaction is active"), and sqlx's own count of open transactions stays at
    /// one, so every later `begin_with` on the connection would fail until a restart. A
    /// connection still counted as inside a transaction here, where none can be live, is
    /// closed (which rolls back whatever SQLite still holds) and opened anew.
    pub(super) async fn lock_writer(&self) -> StoreResult<MutexGuard<'_, SqliteConnection>> {
        let mut writer = self.writer.lock().await;
        if writer.is_in_transaction() {
            // A dropped transaction queues its ROLLBACK on the connection's worker thread; one
            // round trip lets it run before the count is trusted.
            let _ = writer.ping().await;
        }
        if writer.is_in_transaction() {
            // Debug, not warn: on a full disk this happens after every failed write, and the
            // failure itself is what gets reported.
            tracing::debug!("the SQLite writer was left in a failed transaction; reopening it");
            let fresh = self.writer_options.connect().await?;
            let stale = std::mem::replace(&mut *writer, fresh);
            let _ = stale.close_hard().await;
        }
        Ok(writer)
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(self) {
        self.readers.close().await;
        // The checkpoint thread's connection closes first, so that the last connection to
        // close (which copies the WAL back and removes it) is one of the writers.
        if let Ok(checkpointer) = Arc::try_unwrap(self.checkpointer) {
            let _ = tokio::task::spawn_blocking(move || checkpointer.stop()).await;
        }
        let _ = self.writer.into_inner().close().await;
    }
}

/// SQL fragments for one keyset scan: `("AND col > ?" or "", "ASC" | "DESC")`.
pub(super) fn keyset(plan: &PagePlan, column: &str) -> (String, &'static str) {
    let (comparison, direction) = if plan.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let bound = match &plan.start_after {
        Some(_) => format!("AND {column} {comparison} ?"),
        None => String::new(),
    };
    (bound, direction)
}

/// Starts a write transaction with `BEGIN IMMEDIATE`: it takes SQLite's write lock up front
/// (waiting up to the busy timeout), instead of failing with SQLITE_BUSY when a read turns
/// into a write while another process (a CLI, a second server) holds the lock.
pub(super) async fn begin_write(
    connection: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
    connection.begin_with("BEGIN IMMEDIATE").await
}

impl crate::PoolStats for SqliteStore {
    /// The sqlx reader pool; the writer and the ingest connection are single connections.
    fn pool_use(&self) -> Vec<crate::PoolUse> {
        vec![crate::PoolUse {
            pool: "readers",
            open: self.readers.size(),
            idle: self.readers.num_idle() as u32,
        }]
    }
}
