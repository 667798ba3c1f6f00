//! Online snapshots of the SQLite database, for `auditlog backup`.
//!
//! `VACUUM INTO` copies the database as one read transaction sees it: every transaction
//! committed before the snapshot began is in it, none that commits later is, and writers keep
//! going meanwhile (WAL mode: readers do not block them). The copy is a plain, compacted
//! database file with no WAL beside it.

use super::connections::{open_rusqlite, Role};
use crate::StoreResult;
use std::path::Path;

/// Writes a consistent copy of the database at `database` to `destination`, which must not
/// exist yet.
pub fn snapshot_into(database: &Path, destination: &Path) -> StoreResult<()> {
    let connection = open_rusqlite(database, Role::Reader)?;
    let target = destination
        .to_str()
        .ok_or_else(|| crate::StoreError::Other("the snapshot path is not valid UTF-8".into()))?;
    connection.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}
