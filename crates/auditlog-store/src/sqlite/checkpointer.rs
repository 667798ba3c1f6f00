//! WAL checkpoints off the ingest path: a thread of the store's own copies committed pages from
//! the WAL into the database file while the writer goes on with the next batch.
//!
//! Left to SQLite, the connection whose COMMIT takes the WAL past 1,000 pages runs the
//! checkpoint itself, inside that commit: it writes every page back to the database file and
//! fsyncs it, all while the store's writer mutex is held and every waiting request with it.
//! On this store's ingest path that was one checkpoint every 1,000 to 4,000 events, each with
//! an fsync of the database file of about 5 ms.
//!
//! Instead, the ingest connection's WAL hook notes how many frames the WAL holds after each
//! commit; past [`CHECKPOINT_FRAMES`] not yet copied back, the store wakes this thread, which
//! runs a PASSIVE checkpoint on a connection of its own (it takes no lock that a writer or a
//! reader waits on). Durability does not change: a commit is durable once its WAL frames are
//! fsync'd, before any checkpoint.
//!
//! SQLite starts the WAL over (instead of growing the file) only when a writer begins while
//! every frame has been copied back, which a background checkpoint racing a busy writer rarely
//! allows. So the writer keeps a bound: once the WAL holds [`INLINE_CHECKPOINT_FRAMES`], the
//! ingest connection checkpoints itself after its commit, still holding the writer mutex, and
//! the next transaction starts the WAL over. The sqlx writer has the same bound as its
//! `wal_autocheckpoint` (set with the writers' other PRAGMAs in `connections`).

use super::connections::{open_rusqlite, Role};
use crate::error::StoreResult;
use rusqlite::hooks::Wal;
use rusqlite::Connection;
use std::cell::Cell;
use std::os::raw::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// WAL frames not yet copied back that wake the background checkpoint: SQLite's own
/// `wal_autocheckpoint` default.
pub(super) const CHECKPOINT_FRAMES: i64 = 1_000;

/// WAL frames at which a writer checkpoints inline: 16 MB of 4 KB pages.
pub(super) const INLINE_CHECKPOINT_FRAMES: i64 = 4_000;

thread_local! {
    /// Frames in the WAL after the last commit on this thread's ingest connection, set by the
    /// WAL hook (a plain function, so it cannot hold the store's state); 0 when nothing was
    /// committed since [`Checkpointer::before_write`].
    static WAL_FRAMES: Cell<i64> = const { Cell::new(0) };
}

fn note_wal_frames(_wal: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|cell| cell.set(i64::from(frames)));
    Ok(())
}

/// The background checkpoint of one store, and the writer's side of it.
pub(super) struct Checkpointer {
    /// Wakes the thread; capacity one, so wake-ups while it works fold into one more run.
    wake: SyncSender<()>,
    /// The WAL frame up to which the last checkpoint (either kind) copied pages back.
    copied: Arc<AtomicI64>,
    /// The thread, joined by [`Checkpointer::stop`]; none in tests of the writer's side.
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the checkpoint thread for the database at `path`, and hooks `ingest` (the ingest
    /// connection) so that its commits report the WAL's size. The thread ends when the
    /// checkpointer is stopped or dropped.
    pub(super) fn start(path: &Path, ingest: &Connection) -> StoreResult<Checkpointer> {
        let connection = open_rusqlite(path, Role::Writer)?;
        let (mut checkpointer, woken) = Checkpointer::hook(ingest);
        let copied = Arc::clone(&checkpointer.copied);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(connection, woken, copied))
            .map_err(|error| crate::error::StoreError::Other(Box::new(error)))?;
        checkpointer.thread = Some(thread);
        Ok(checkpointer)
    }

    /// Ends the thread once its checkpoint in progress, if any, is done, and waits for it to
    /// close its connection.
    pub(super) fn stop(self) {
        let Checkpointer { wake, thread, .. } = self;
        drop(wake);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// The writer's side alone: hooks `ingest`, and returns what the thread would listen on.
    fn hook(ingest: &Connection) -> (Checkpointer, Receiver<()>) {
        // Replaces SQLite's own autocheckpoint on this connection.
        ingest.wal_hook(Some(note_wal_frames));
        let (wake, woken) = sync_channel(1);
        let copied = Arc::new(AtomicI64::new(0));
        let checkpointer = Checkpointer {
            wake,
            copied,
            thread: None,
        };
        (checkpointer, woken)
    }

    /// Call on the ingest connection's thread before a write transaction.
    pub(super) fn before_write(&self) {
        WAL_FRAMES.with(|cell| cell.set(0));
    }

    /// Call on the same thread after the write, still holding the writer mutex: wakes the
    /// background checkpoint, or past the bound checkpoints inline on `ingest`.
    pub(super) fn after_write(&self, ingest: &Connection) {
        let frames = WAL_FRAMES.with(Cell::get);
        if frames == 0 {
            return;
        }
        if frames >= INLINE_CHECKPOINT_FRAMES {
            self.checkpoint_inline(ingest);
            return;
        }
        // A smaller count than the last checkpoint's means the WAL started over since. (A WAL
        // that started over and then outgrew that count reads as smaller than it is, and
        // waits longer for its checkpoint; the inline bound still holds.)
        let copied = self.copied.load(Ordering::Relaxed);
        let waiting = if frames >= copied {
            frames - copied
        } else {
            frames
        };
        if waiting >= CHECKPOINT_FRAMES {
            match self.wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                // The thread is gone (it only ends when the checkpointer is dropped, or if it
                // panicked): the writer checkpoints inline instead.
                Err(TrySendError::Disconnected(())) => self.checkpoint_inline(ingest),
            }
        }
    }

    /// Checkpoints on the writer's own connection, under the writer mutex.
    fn checkpoint_inline(&self, ingest: &Connection) {
        match checkpoint(ingest) {
            Ok(copied) => note_copied(&self.copied, copied),
            Err(error) => tracing::warn!(%error, "inline WAL checkpoint failed"),
        }
    }
}

/// The checkpoint thread: one PASSIVE checkpoint per wake-up, until the store is dropped.
fn run(connection: Connection, woken: Receiver<()>, copied: Arc<AtomicI64>) {
    while woken.recv().is_ok() {
        match checkpoint(&connection) {
            Ok(frames) => note_copied(&copied, frames),
            // Not an acknowledged write at risk: the pages stay in the WAL, and the next
            // checkpoint (or the writer's inline one) copies them.
            Err(error) => tracing::warn!(%error, "background WAL checkpoint failed"),
        }
    }
}

/// Records how far a checkpoint copied; -1 means it did not run (another one was running).
fn note_copied(copied: &AtomicI64, frames: i64) {
    if frames >= 0 {
        copied.store(frames, Ordering::Relaxed);
    }
}

/// A PASSIVE checkpoint: copies back what no reader still needs, without waiting on anyone.
/// Returns the frame up to which the WAL is now copied back.
fn checkpoint(connection: &Connection) -> rusqlite::Result<i64> {
    // Columns: busy (another checkpoint was running), frames in the WAL, frames copied back.
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A writer connection with one table, in a fresh directory.
    fn writer() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.db");
        let connection = open_rusqlite(&path, Role::Writer).unwrap();
        connection
            .execute_batch("CREATE TABLE rows (body BLOB NOT NULL)")
            .unwrap();
        (dir, path, connection)
    }

    /// One transaction of `pages` rows of a page each, as the store writes: between
    /// `before_write` and `after_write`.
    fn commit(checkpointer: &Checkpointer, connection: &mut Connection, pages: usize) {
        checkpointer.before_write();
        let tx = connection.transaction().unwrap();
        for _ in 0..pages {
            tx.execute("INSERT INTO rows (body) VALUES (zeroblob(4000))", [])
                .unwrap();
        }
        tx.commit().unwrap();
        checkpointer.after_write(connection);
    }

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
    }

    fn wal(path: &Path) -> std::path::PathBuf {
        path.with_extension("db-wal")
    }

    /// The writer's commits leave the pages in the WAL; the thread copies them into the
    /// database file, and the next transaction starts the WAL over instead of growing it.
    #[test]
    fn the_thread_copies_committed_pages_back() {
        let (_dir, path, mut connection) = writer();
        let checkpointer = Checkpointer::start(&path, &connection).unwrap();
        let empty = size(&path);
        commit(&checkpointer, &mut connection, 600);
        assert_eq!(size(&path), empty, "no checkpoint below the threshold");
        commit(&checkpointer, &mut connection, 600);
        let deadline = Instant::now() + Duration::from_secs(10);
        while size(&path) < empty + 1_000 * 4_000 {
            assert!(
                Instant::now() < deadline,
                "the pages never reached the database file"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        while checkpointer.copied.load(Ordering::Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the checkpoint never finished");
            std::thread::sleep(Duration::from_millis(10));
        }
        let wal_size = size(&wal(&path));
        commit(&checkpointer, &mut connection, 10);
        assert_eq!(
            size(&wal(&path)),
            wal_size,
            "the WAL started over, in place"
        );
        let rows: i64 = connection
            .query_row("SELECT count(*) FROM rows", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1_210);
    }

    /// With the thread behind (here: never running), the writer checkpoints itself once the
    /// WAL reaches the bound, so the WAL file stays within it plus one transaction.
    #[test]
    fn the_writer_bounds_the_wal_when_the_thread_falls_behind() {
        let (_dir, path, mut connection) = writer();
        let (checkpointer, _asleep) = Checkpointer::hook(&connection);
        // A frame is a 4 KB page and a 24-byte header; each commit writes 500 rows' pages
        // and a few of the table's inner pages.
        let bound = (INLINE_CHECKPOINT_FRAMES as u64 + 600) * (4_096 + 24);
        for _ in 0..40 {
            commit(&checkpointer, &mut connection, 500);
            assert!(
                size(&wal(&path)) <= bound,
                "WAL of {} bytes",
                size(&wal(&path))
            );
        }
        assert!(
            size(&path) > 15_000 * 4_000,
            "the pages reached the database file"
        );
        let rows: i64 = connection
            .query_row("SELECT count(*) FROM rows", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 20_000);
    }

    /// Through the store: a big bulk's pages reach the database file by the thread, readers
    /// see every event meanwhile, and closing the store folds the WAL away.
    #[tokio::test]
    async fn the_store_checkpoints_in_the_background_and_on_close() {
        use crate::sqlite::test_fixtures::{event, open};
        use crate::types::BulkOutcome;
        use crate::EventStore;
        let (dir, store) = open(&["org_1"]).await;
        let path = dir.path().join("db.sqlite");
        let empty = size(&path);
        // 2,000 events of 5 KB each: about 2,500 frames, past the background threshold and
        // under the inline bound.
        let bulk: Vec<_> = (1..=2_000)
            .map(|n| {
                let mut event = event("org_1", n);
                event.payload = format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(5_000));
                event
            })
            .collect();
        let outcome = store.append_all(bulk.into(), None).await.unwrap();
        assert!(matches!(outcome, BulkOutcome::Stored { .. }), "{outcome:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while size(&path) < empty + 2_000 * 5_000 {
            assert!(
                Instant::now() < deadline,
                "the pages never reached the database file"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let stored = store
            .list_events_by_sequence("default", "org_1")
            .await
            .unwrap();
        assert_eq!(stored.len(), 2_000);
        store.close().await;
        assert!(
            !path.with_extension("sqlite-wal").exists(),
            "the WAL outlived close"
        );
        let reopened = crate::sqlite::SqliteStore::open(&path).await.unwrap();
        let stored = reopened
            .list_events_by_sequence("default", "org_1")
            .await
            .unwrap();
        assert_eq!(stored.len(), 2_000);
    }
}
