//! One classification of driver errors, so callers never match on sqlx types.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the message names which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Anything unexpected: IO, corruption, a bug. Logged by the caller with its cause chain.
    #[error("storage failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Other(Box::new(error))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Other(Box::new(error))
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

/// A stored hash of the tamper-evidence log that should exist does not: the log tables were
/// altered, or a caller asked beyond the built tree.
#[derive(Debug, Error)]
#[error("the log has no stored hash at index {0}")]
pub struct MissingLogHash(pub i64);
