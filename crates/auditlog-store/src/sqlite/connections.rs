//! How the SQLite store opens its connections: the one place that sets their PRAGMAs.
//!
//! The store keeps five sets of connections to one database file, through two drivers:
//!
//! | set             | driver   | access     | used for                                          |
//! |-----------------|----------|------------|---------------------------------------------------|
//! | `writer`        | sqlx     | read-write | migrations, and every write but ingest            |
//! | `ingest_writer` | rusqlite | read-write | event batches (`event_writer`)                    |
//! | `readers`       | sqlx     | read-only  | every read but the export's (a pool of 8)         |
//! | `raw_readers`   | rusqlite | read-only  | export pages (`RawReaders`, up to 4 kept idle)    |
//! | `checkpointer`  | rusqlite | read-write | WAL checkpoints, on a thread of its own           |
//!
//! Why two drivers: sqlx's SQLite driver runs each connection on a worker thread, copies every
//! bound value and every column of every row, and hands each row over a channel. For the two
//! bulk paths that cost more than SQLite itself: an ingest batch was a round trip to the worker
//! per statement, and in a profile of a 1 M-row export the copies and the channel were 40 % of
//! the server's samples against 10 % for SQLite. Those two paths therefore run on rusqlite
//! connections on a blocking thread, reading and binding values in place. Everything else
//! stays on sqlx, whose async API the rest of the store (and the PostgreSQL store) share, and
//! which runs the migrations. Both drivers link the same bundled SQLite library.
//!
//! Why two writers can coexist: both take the store's writer mutex (`SqliteStore::lock_writer`)
//! before they write, so at most one of them holds SQLite's write lock at a time and neither
//! spins on SQLITE_BUSY. Readers never block the writers, and are never blocked by them, in WAL.
//!
//! Settings, whichever the driver: every connection waits up to [`BUSY_TIMEOUT`] for a lock
//! (another process, such as the CLI or a second server, may hold it). The writers set
//! [`WRITER_PRAGMAS`], and checkpoint the WAL themselves only past the bound in `checkpointer`
//! (whose thread does it before then); readers set none, as nothing there affects a read-only
//! connection (sqlx itself turns `foreign_keys` on by default, which changes nothing for
//! reads). Each driver applies the same `PRAGMA name = value` statements when a connection
//! opens.

use super::checkpointer::INLINE_CHECKPOINT_FRAMES;
use crate::error::StoreResult;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for a lock held by another connection or process.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The PRAGMAs of both writer connections, in the order they run.
pub(super) const WRITER_PRAGMAS: &[(&str, &str)] = &[
    // Readers run beside the writer; the database stays in WAL mode once set.
    ("journal_mode", "WAL"),
    // With WAL, a COMMIT returns after the WAL is fsync'd: an acknowledged write is on disk.
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    // A multi-row INSERT inside a transaction keeps a statement journal (to undo just that
    // statement on a constraint error); in memory rather than in a temp file, it costs no
    // system calls. Profiling showed it as many writes as the WAL itself.
    ("temp_store", "MEMORY"),
];

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Read-write; creates the database file if it does not exist.
    Writer,
    /// Read-only.
    Reader,
}

impl Role {
    fn pragmas(self) -> Vec<(&'static str, String)> {
        match self {
            Role::Writer => WRITER_PRAGMAS
                .iter()
                .map(|(name, value)| (*name, value.to_string()))
                .chain([("wal_autocheckpoint", INLINE_CHECKPOINT_FRAMES.to_string())])
                .collect(),
            Role::Reader => Vec::new(),
        }
    }
}

/// Options for an sqlx connection (or pool) of `role`.
pub(super) fn sqlx_options(path: &Path, role: Role) -> SqliteConnectOptions {
    let mut options = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(BUSY_TIMEOUT)
        .log_statements(tracing::log::LevelFilter::Trace);
    options = match role {
        Role::Writer => options.create_if_missing(true),
        Role::Reader => options.read_only(true),
    };
    for (name, value) in role.pragmas() {
        options = options.pragma(name, value);
    }
    options
}

/// Opens a rusqlite connection of `role`.
pub(super) fn open_rusqlite(path: &Path, role: Role) -> StoreResult<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let connection = match role {
        // rusqlite's default flags: read-write, create if missing.
        Role::Writer => rusqlite::Connection::open(path)?,
        Role::Reader => rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?,
    };
    connection.busy_timeout(BUSY_TIMEOUT)?;
    for (name, value) in role.pragmas() {
        connection.execute_batch(&format!("PRAGMA {name} = {value}"))?;
    }
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    /// `journal_mode`, then `synchronous`, `foreign_keys`, `temp_store` and
    /// `wal_autocheckpoint` as numbers.
    type Settings = (String, [i64; 4]);

    const NUMERIC: [&str; 4] = [
        "synchronous",
        "foreign_keys",
        "temp_store",
        "wal_autocheckpoint",
    ];

    /// Both drivers' writers end up with the same settings, and readers cannot write.
    #[tokio::test]
    async fn both_drivers_apply_the_same_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.db");

        let rusqlite_writer = open_rusqlite(&path, Role::Writer).unwrap();
        let pragma = |name: &str| format!("PRAGMA {name}");
        let from_rusqlite: Settings = (
            rusqlite_writer
                .query_row(&pragma("journal_mode"), [], |row| row.get(0))
                .unwrap(),
            NUMERIC.map(|name| {
                rusqlite_writer
                    .query_row(&pragma(name), [], |row| row.get(0))
                    .unwrap()
            }),
        );

        let mut sqlx_writer = sqlx_options(&path, Role::Writer).connect().await.unwrap();
        let journal_mode: String = sqlx::query_scalar(sqlx::AssertSqlSafe(pragma("journal_mode")))
            .fetch_one(&mut sqlx_writer)
            .await
            .unwrap();
        let mut numbers = [0; 4];
        for (number, name) in numbers.iter_mut().zip(NUMERIC) {
            *number = sqlx::query_scalar(sqlx::AssertSqlSafe(pragma(name)))
                .fetch_one(&mut sqlx_writer)
                .await
                .unwrap();
        }
        // WAL; synchronous FULL = 2, foreign_keys ON = 1, temp_store MEMORY = 2, and SQLite's
        // own checkpoint only past the bound.
        let expected: Settings = ("wal".to_string(), [2, 1, 2, INLINE_CHECKPOINT_FRAMES]);
        assert_eq!(from_rusqlite, expected);
        assert_eq!((journal_mode, numbers), expected);

        let reader = open_rusqlite(&path, Role::Reader).unwrap();
        assert!(reader.execute_batch("CREATE TABLE t (x)").is_err());
        let mut sqlx_reader = sqlx_options(&path, Role::Reader).connect().await.unwrap();
        assert!(sqlx::query("CREATE TABLE t (x)")
            .execute(&mut sqlx_reader)
            .await
            .is_err());
        let _ = sqlx_reader.close().await;
        let _ = sqlx_writer.close().await;
    }
}
