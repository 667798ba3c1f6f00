//! [`LinkSigner`]: self-authenticating download links for the local-files backend, which has no
//! presigned URLs of its own (S3 will presign instead).

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::TryRngCore;
use sha2::{Digest, Sha256};

use crate::{BlobError, BlobResult};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of key material.
const KEY_LEN: usize = 32;

/// Shortest configured secret accepted: shorter text is too guessable to protect downloads.
const MIN_CONFIGURED_CHARS: usize = 32;

/// Prefix of every signed message, so a MAC made with this key for any other purpose (or a future
/// link format) can never be replayed as a download link.
const DOMAIN: &[u8] = b"auditlog/download-link/v1\0";

/// HMAC-SHA256 signer for self-authenticating download links of the local-files blob store.
///
/// A link carries the resource, its expiry and the signature; the server checks them before it
/// touches the file. Every node that serves links must share the secret (same file or same
/// configured string).
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("LinkSigner").finish_non_exhaustive()
    }
}

impl LinkSigner {
    /// Reads the secret from `path` (hex, 64 chars) or generates one with a CSPRNG and writes it
    /// with mode 0600, so links stay valid across restarts without any configuration.
    ///
    /// Two processes starting at once must end up with the same secret: the new secret is
    /// written in full to a private temporary file and then published with `hard_link`, which,
    /// like `create_new`, fails if `path` already exists. The loser re-reads the winner's file,
    /// and no reader ever sees a half-written one. A malformed existing file is an error, never
    /// overwritten: replacing it would silently invalidate every link already handed out.
    pub fn load_or_create(path: &Path) -> BlobResult<LinkSigner> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse_file(path, &text),
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err(io_error(path, source)),
        }

        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .map_err(BlobError::Entropy)?;
        match publish_new_file(path, hex::encode(key).as_bytes()) {
            Ok(()) => Ok(LinkSigner { key }),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
                Self::parse_file(path, &text)
            }
            Err(source) => Err(io_error(path, source)),
        }
    }

    /// From a configured secret string (at least 32 characters of text, used as is); the key is
    /// its SHA-256, so any length of secret gives a full-size key.
    pub fn from_configured(secret: &str) -> BlobResult<LinkSigner> {
        let actual = secret.chars().count();
        if actual < MIN_CONFIGURED_CHARS {
            return Err(BlobError::SecretTooShort {
                actual,
                min: MIN_CONFIGURED_CHARS,
            });
        }
        Ok(LinkSigner {
            key: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// Lowercase hex HMAC over a domain-separated message built from `resource` (e.g. an export
    /// id) and `expires_at_unix` (seconds).
    pub fn sign(&self, resource: &str, expires_at_unix: i64) -> String {
        hex::encode(self.mac(resource, expires_at_unix).finalize().into_bytes())
    }

    /// True only if `signature` is the valid signature (compared in constant time) AND
    /// `now_unix < expires_at_unix`. Never panics on malformed input.
    ///
    /// The answer is a bare bool on purpose: a caller must give a wrong or expired link the same
    /// response as a missing file, so there is nothing more to tell it.
    pub fn verify(
        &self,
        resource: &str,
        expires_at_unix: i64,
        signature: &str,
        now_unix: i64,
    ) -> bool {
        if now_unix >= expires_at_unix {
            return false;
        }
        let Ok(signature) = hex::decode(signature) else {
            return false;
        };
        // `verify_slice` rejects a wrong length and compares in constant time.
        self.mac(resource, expires_at_unix)
            .verify_slice(&signature)
            .is_ok()
    }

    /// The keyed MAC over `DOMAIN || len(resource) || resource || expiry`. The length prefix
    /// keeps the encoding unambiguous whatever bytes the resource holds.
    fn mac(&self, resource: &str, expires_at_unix: i64) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(DOMAIN);
        mac.update(&(resource.len() as u64).to_be_bytes());
        mac.update(resource.as_bytes());
        mac.update(&expires_at_unix.to_be_bytes());
        mac
    }

    fn parse_file(path: &Path, text: &str) -> BlobResult<LinkSigner> {
        let malformed = || BlobError::MalformedSecretFile {
            path: path.to_path_buf(),
        };
        let bytes = hex::decode(text.trim()).map_err(|_| malformed())?;
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| malformed())?;
        Ok(LinkSigner { key })
    }
}

/// Writes `contents` to a new private file at `path`, failing with `AlreadyExists` if there is
/// one; `path` appears only complete and synced.
fn publish_new_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let (mut file, temp) = create_private_temp(path)?;
    let result = file
        .write_all(contents)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::hard_link(&temp, path));
    // The temporary name is never needed again, whether the link was made or not.
    let _ = std::fs::remove_file(&temp);
    result?;
    // Make the new directory entry durable, so a crash cannot lose a secret links were signed with.
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

/// A new file beside `path`, readable and writable by the owner only, with a unique name.
fn create_private_temp(path: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut attempt = 0u32;
    loop {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".tmp.{}.{attempt}", std::process::id()));
        let temp = PathBuf::from(name);
        match options.open(&temp) {
            Ok(file) => return Ok((file, temp)),
            // A leftover from a crashed run, or another thread of this process.
            Err(error) if error.kind() == ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(error) => return Err(error),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> BlobError {
    BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}
