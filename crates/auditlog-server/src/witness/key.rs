//! The witness's own key: a 32-byte Ed25519 seed in `witness.key` (mode 0600), created on
//! first use. Its verifier key (which depends on the witness name too) is written to
//! `witness.pub` for operators to hand to logs.

use anyhow::Context;
use auditlog_tlog::cosignature::WitnessSigner;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const KEY_FILE: &str = "witness.key";
pub const PUBLIC_KEY_FILE: &str = "witness.pub";

/// Loads the witness key from `data_dir` (created with mode 0700 if missing), creating the
/// key on first use, and writes `witness.pub`. Refuses a key file that group or others can
/// access: the key is the witness's whole trust, so a wider mode is not tightened silently
/// (unlike the service's other files) but left for the operator to investigate.
pub fn load_or_create(data_dir: &Path, name: &str) -> anyhow::Result<WitnessSigner> {
    crate::private_files::create_private_dir(data_dir)?;
    let path = data_dir.join(KEY_FILE);
    let seed = match read_seed(&path)? {
        Some(seed) => seed,
        None => create_seed(&path)?,
    };
    let signer = WitnessSigner::from_seed(name, seed).context("--name")?;
    let public = data_dir.join(PUBLIC_KEY_FILE);
    std::fs::write(&public, format!("{}\n", signer.verifier_key()))
        .with_context(|| format!("writing {}", public.display()))?;
    Ok(signer)
}

fn read_seed(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let file = match OpenOptions::new().read(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("opening {}", path.display())),
    };
    let mode = file.metadata()?.permissions().mode() & 0o777;
    anyhow::ensure!(
        mode & 0o077 == 0,
        "the witness key {} has mode {mode:03o}: group or others can read or change it. \
         Check that nobody copied it, then `chmod 600` it",
        path.display()
    );
    let mut seed = Vec::with_capacity(33);
    file.take(33)
        .read_to_end(&mut seed)
        .with_context(|| format!("reading {}", path.display()))?;
    let seed: [u8; 32] = seed.try_into().map_err(|seed: Vec<u8>| {
        anyhow::anyhow!(
            "the witness key {} is not a 32-byte seed ({} bytes or more)",
            path.display(),
            seed.len()
        )
    })?;
    Ok(Some(seed))
}

/// Writes a fresh seed to a new file created with mode 0600 (never wider, not even briefly).
fn create_seed(path: &Path) -> anyhow::Result<[u8; 32]> {
    let seed: [u8; 32] = rand::random();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(&seed)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "created a new witness key");
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;

    #[test]
    fn the_key_is_created_once_private_and_refused_when_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), "w.example").unwrap();
        let path = dir.path().join(KEY_FILE);
        let metadata = std::fs::metadata(&path).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
        assert_eq!(metadata.len(), 32);
        let again = load_or_create(dir.path(), "w.example").unwrap();
        assert_eq!(again.verifier_key(), first.verifier_key());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PUBLIC_KEY_FILE)).unwrap(),
            format!("{}\n", first.verifier_key())
        );

        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create(dir.path(), "w.example").unwrap_err();
        assert!(refused.to_string().contains("mode 644"), "{refused}");
    }

    #[test]
    fn a_key_file_of_another_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::write(&path, [1; 31]).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create(dir.path(), "w.example").is_err());
        std::fs::write(&path, [1; 64]).unwrap();
        assert!(load_or_create(dir.path(), "w.example").is_err());
    }
}
