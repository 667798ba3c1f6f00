//! One classification of driver errors, so callers never match on sqlx types.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the message names which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The store cannot take writes (or any request) right now, whatever the request: the disk
    /// is full, an I/O error, the database is locked or unreachable, the connection was lost.
    /// It heals without the caller changing anything, so callers answer "retry later" (503)
    /// instead of blaming the request, and must not retry it piecemeal.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything unexpected: corruption, a value the store refuses, a bug. Logged by the caller
    /// with its cause chain.
    #[error("storage failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// True for a condition of the store as a whole (see [`StoreError::Unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// SQLite primary result codes that say "not now" rather than "not this": SQLITE_BUSY,
/// SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN.
/// Extended codes carry the primary code in their low byte.
fn sqlite_code_is_unavailable(extended_code: i32) -> bool {
    matches!(extended_code & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14)
}

/// PostgreSQL SQLSTATEs of the server's condition rather than the statement's: connection
/// exceptions (class 08), insufficient resources (class 53: disk full, out of memory, too many
/// connections), operator intervention (57P01-57P05: shutdown, cannot connect now), system I/O
/// errors (58030) and a read-only server (25006, e.g. a standby after failover).
fn sqlstate_is_unavailable(state: &str) -> bool {
    state.starts_with("08")
        || state.starts_with("53")
        || state.starts_with("57P")
        || state == "58030"
        || state == "25006"
}

/// True when `error` is a condition of the store as a whole (see [`StoreError::Unavailable`]).
pub(crate) fn sqlx_is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                return db
                    .code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(sqlite_code_is_unavailable);
            }
            if let Some(postgres) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                return sqlstate_is_unavailable(postgres.code());
            }
            false
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if sqlx_is_unavailable(&error) {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Other(Box::new(error))
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        let unavailable = matches!(
            &error,
            rusqlite::Error::SqliteFailure(failure, _)
                if sqlite_code_is_unavailable(failure.extended_code)
        );
        if unavailable {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Other(Box::new(error))
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(Box::new(error))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Other(Box::new(error))
    }
}

/// True when the driver reports a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The error of an organization INSERT or UPDATE. The only uniqueness rule such a write can
/// break is the live external id per environment (ids are fresh ULIDs).
pub(crate) fn classify_organization_write(error: sqlx::Error) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Conflict("an organization with this external_id already exists")
    } else {
        error.into()
    }
}

/// A stored hash of the tamper-evidence log that should exist does not: the log tables were
/// altered, or a caller asked beyond the built tree.
#[derive(Debug, Error)]
#[error("the log has no stored hash at index {0}")]
pub struct MissingLogHash(pub i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_conditions_are_unavailable_statement_errors_are_not() {
        // disk full, out of memory, too many connections, connection failure, admin shutdown,
        // cannot connect now, I/O error, read-only standby
        for state in [
            "53100", "53200", "53300", "08006", "08001", "57P01", "57P03", "58030", "25006",
        ] {
            assert!(sqlstate_is_unavailable(state), "{state}");
        }
        // unique violation, character not in repertoire (NUL), syntax error, deadlock
        for state in ["23505", "22021", "42601", "40P01"] {
            assert!(!sqlstate_is_unavailable(state), "{state}");
        }
        // SQLITE_FULL, SQLITE_IOERR_WRITE (778), SQLITE_BUSY, SQLITE_CANTOPEN
        for code in [13, 778, 5, 14] {
            assert!(sqlite_code_is_unavailable(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_CORRUPT, SQLITE_MISMATCH
        for code in [2067, 11, 20] {
            assert!(!sqlite_code_is_unavailable(code), "{code}");
        }
    }
}
