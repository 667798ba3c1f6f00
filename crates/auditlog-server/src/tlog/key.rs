//! Where the log signing key lives: never in the database, so that a copy of the database (a
//! dump, a replica, an insider with SQL access) cannot sign a rewritten history.
//!
//! In order: the configured seed (`--log-signing-key`), the configured key file
//! (`--log-signing-key-file`), else the deployment's default place: with local blob files, the
//! file `log-signing.key` in the data dir (created 0600 on first start); with an S3 blob store,
//! the object `keys/log-signing.key` in the bucket every node of a cluster shares (created
//! create-only, so nodes starting together agree on the first one written). Production
//! clusters should configure the key (a secret manager's file) instead.
//!
//! Earlier releases kept the seed in the database: it is moved to the default place on the
//! first start of this release and then erased from the database, so the log keeps its key.

use crate::config::Config;
use crate::private_files;
use anyhow::Context;
use auditlog_blob::BlobStore;
use auditlog_store::Store;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The default key file's name in the data dir.
pub const KEY_FILE: &str = "log-signing.key";
/// The key object in an S3 blob store.
pub const KEY_OBJECT: &str = "keys/log-signing.key";

/// Where the key came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    File(std::path::PathBuf),
    BlobObject,
}

/// Parses a seed: 64 hex digits, surrounding whitespace ignored.
pub fn parse_seed(text: &str) -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .context("a log signing key must be 64 hex digits (an Ed25519 seed)")?;
    Ok(seed)
}

/// The deployment's signing seed and where it came from.
pub async fn load_signing_seed(
    config: &Config,
    store: &dyn Store,
    blob: &BlobStore,
) -> anyhow::Result<([u8; 32], KeySource)> {
    if let Some(text) = &config.log.log_signing_key {
        let seed = parse_seed(text.expose()).context("--log-signing-key")?;
        return Ok((seed, KeySource::Configured));
    }
    if let Some(path) = &config.log.log_signing_key_file {
        let seed = read_key_file(path)?
            .with_context(|| format!("--log-signing-key-file {} does not exist", path.display()))?;
        return finish(store, seed, KeySource::File(path.clone())).await;
    }
    if config.storage.blob_url.is_some() {
        let seed = match read_key_object(blob).await? {
            Some(seed) => seed,
            None => {
                let candidate = legacy_or_new(store, blob).await?;
                blob.create(KEY_OBJECT, hex::encode(candidate).into_bytes())
                    .await
                    .context("writing the log signing key to the blob store")?;
                // Another node may have written first: its key is the deployment's.
                read_key_object(blob)
                    .await?
                    .context("the log signing key vanished from the blob store")?
            }
        };
        return finish(store, seed, KeySource::BlobObject).await;
    }
    let path = config.storage.data_dir.join(KEY_FILE);
    let seed = match read_key_file(&path)? {
        Some(seed) => seed,
        None => {
            let candidate = legacy_or_new(store, blob).await?;
            write_new_key_file(&path, &candidate)?;
            read_key_file(&path)?.context("the log signing key file vanished")?
        }
    };
    finish(store, seed, KeySource::File(path)).await
}

/// Erases a seed an earlier release left in the database, once the key lives elsewhere. A
/// database seed that differs from the key in use is left alone, loudly: erasing it could lose
/// the only copy of the key that signed the log so far.
async fn finish(
    store: &dyn Store,
    seed: [u8; 32],
    source: KeySource,
) -> anyhow::Result<([u8; 32], KeySource)> {
    match store.database_signing_seed().await? {
        Some(stored) if stored == seed => {
            store.erase_database_signing_seed().await?;
            tracing::info!(
                ?source,
                "moved the log signing key out of the database and erased it there"
            );
        }
        Some(_) => tracing::warn!(
            ?source,
            "the database still holds a log signing key that differs from the one in use: \
             checkpoints signed before may not verify with the published key; erase it only \
             once that is understood"
        ),
        None => {}
    }
    Ok((seed, source))
}

/// The seed an earlier release kept in the database, or a new random one — unless the blob
/// store remembers checkpoints: then a key signed them, and a new one would silently fork every
/// log, so its loss is an error for the operator to resolve (restore the key file).
async fn legacy_or_new(store: &dyn Store, blob: &BlobStore) -> anyhow::Result<[u8; 32]> {
    if let Some(seed) = store.database_signing_seed().await? {
        return Ok(seed);
    }
    if blob.any_under(super::memory::FOLDER).await? {
        anyhow::bail!(
            "the log signing key is missing, but checkpoints it signed are remembered in the \
             blob store: restore the key (the data dir's {KEY_FILE}, the bucket's {KEY_OBJECT}, \
             or --log-signing-key-file) rather than start a new, unrelated log"
        );
    }
    Ok(rand::random())
}

async fn read_key_object(blob: &BlobStore) -> anyhow::Result<Option<[u8; 32]>> {
    let bytes = blob
        .read_small(KEY_OBJECT, 1024)
        .await
        .context("reading the log signing key from the blob store")?;
    bytes
        .map(|bytes| parse_seed(&String::from_utf8_lossy(&bytes)))
        .transpose()
        .context(KEY_OBJECT)
}

/// Reads a key file, refusing one other users can read.
fn read_key_file(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the log signing key file {} is readable by other users (mode {mode:o}); \
             run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    parse_seed(&text)
        .with_context(|| format!("{}", path.display()))
        .map(Some)
}

/// Creates the key file with mode 0600 (never replacing one) and syncs it to disk.
fn write_new_key_file(path: &Path, seed: &[u8; 32]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        private_files::create_private_dir(dir)?;
    }
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        // Created meanwhile (by another process on this data dir): that one is the key.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(error) => return Err(error).with_context(|| format!("creating {}", path.display())),
    };
    writeln!(file, "{}", hex::encode(seed))?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_hex() {
        assert_eq!(parse_seed(&"01".repeat(32)).unwrap(), [1; 32]);
        assert_eq!(
            parse_seed(&format!("{}\n", "01".repeat(32))).unwrap(),
            [1; 32]
        );
        assert!(parse_seed("xyz").is_err());
        assert!(parse_seed(&"01".repeat(31)).is_err());
    }

    #[test]
    fn key_files_are_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(KEY_FILE);
        write_new_key_file(&path, &[3; 32]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        write_new_key_file(&path, &[4; 32]).unwrap();
        assert_eq!(read_key_file(&path).unwrap(), Some([3; 32]));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = read_key_file(&path).unwrap_err().to_string();
        assert!(refused.contains("readable by other users"), "{refused}");
        assert_eq!(read_key_file(&dir.path().join("missing")).unwrap(), None);
    }
}
