//! Read-only SQLite connections outside sqlx, for bulk reads on a blocking thread.
//!
//! sqlx's SQLite driver copies every value of every row and sends each row over a channel
//! from its worker thread to the caller; in a CPU profile of a 1 M-row export that was 40 % of
//! the server's samples (malloc, futex wake-ups, the channel) against 10 % for SQLite itself.
//! Reading a page straight off the statement on a blocking thread avoids all of it. Both
//! drivers link the same SQLite library, and in WAL mode these readers run beside the writer
//! (see `connections` for every connection set of the store).

use super::connections::Role;
use crate::error::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Idle connections kept for the next read; more are opened when reads run concurrently.
const IDLE_CONNECTIONS: usize = 4;

pub(super) struct RawReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl RawReaders {
    pub fn new(path: PathBuf) -> Arc<RawReaders> {
        Arc::new(RawReaders {
            path,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn open(&self) -> StoreResult<Connection> {
        super::connections::open_rusqlite(&self.path, Role::Reader)
    }

    /// Runs `read` on a blocking thread with a read-only connection.
    pub async fn read<T, F>(self: &Arc<Self>, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = Arc::clone(self);
        // Whatever the read logs belongs to the request or job that asked for it.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let pooled = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
            let connection = match pooled {
                Some(connection) => connection,
                None => readers.open()?,
            };
            let result = read(&connection);
            if let Ok(mut idle) = readers.idle.lock() {
                if idle.len() < IDLE_CONNECTIONS {
                    idle.push(connection);
                }
            }
            result
        })
        .await
        .map_err(|error| StoreError::Other(Box::new(error)))?
    }
}
