//! Blob storage of `auditlog`: a small facade over [`object_store`] so the rest of the code never
//! sees its types, plus the HMAC signer for download links of the local-files backend.
//!
//! Export jobs stream CSV into a [`BlobWriter`] (bounded memory: one filling part plus at most two
//! parts in flight), and the download route streams a [`BlobRead`] back out. Which backend sits
//! underneath (local files, S3, in-memory for tests) is decided once, at startup.

mod link;
mod store;
mod writer;

pub use link::LinkSigner;
pub use store::{BlobRead, BlobStore};
pub use writer::BlobWriter;

use std::path::PathBuf;

/// Result of every fallible blob operation.
pub type BlobResult<T> = Result<T, BlobError>;

/// Why a blob operation failed. A missing object is not an error: [`BlobStore::get`] answers
/// `Ok(None)` and [`BlobStore::delete`] succeeds, because callers treat "gone" as a normal state.
///
/// Messages name what failed but not why; the cause is the [`source`](std::error::Error::source),
/// so a caller that logs the cause chain prints each part once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The key is not a valid object path (empty, an empty `a//b` segment, `.`/`..`, control
    /// characters). Keys are built by our own code, so this points at a bug, not at user input.
    #[error("invalid blob key {key:?}")]
    InvalidKey {
        key: String,
        #[source]
        source: object_store::path::Error,
    },
    /// The object store failed (IO on the local disk, network or service error on S3).
    #[error("object store operation failed at {location:?}")]
    Store {
        location: String,
        #[source]
        source: object_store::Error,
    },
    /// A blob URL that cannot be used.
    #[error("invalid blob URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// An earlier write of this upload failed, so finishing it would publish a file with a hole.
    #[error("upload to {key:?} was abandoned after an earlier error")]
    UploadFailed { key: String },
    /// Local file IO outside the object store (the blob root, the link secret file).
    #[error("file operation failed on {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The link secret file exists but does not hold 64 hex characters (32 bytes).
    #[error("link secret file {} does not hold 64 hex characters", path.display())]
    MalformedSecretFile { path: PathBuf },
    /// A configured link secret is too short to be a real secret.
    #[error("configured link secret has {actual} characters; at least {min} are required")]
    SecretTooShort { actual: usize, min: usize },
    /// The operating system could not supply random bytes for a new link secret.
    #[error("could not obtain random bytes from the operating system")]
    Entropy(#[source] rand::rand_core::OsError),
}
