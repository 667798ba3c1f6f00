//! [`BlobStore`]: keyed objects on some [`ObjectStore`], behind an optional key prefix.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{ObjectStore, ObjectStoreExt};

use crate::writer::BlobWriter;
use crate::{BlobError, BlobResult};

/// A handle on the blob backend. Cheap to clone (an `Arc` and a path), so every job and handler
/// can hold its own.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Present for backends that can presign URLs (S3): downloads then go straight to them.
    signer: Option<Arc<dyn Signer>>,
    /// Prepended to every key, so several deployments (or tests) can share one bucket.
    prefix: Path,
    /// The directory of a local store: where interrupted uploads leave staging files.
    local_root: Option<std::path::PathBuf>,
}

/// An object being read: its size first (for `Content-Length`), then its bytes as a stream so a
/// download never holds the whole file in memory.
pub struct BlobRead {
    pub size: u64,
    pub stream: BoxStream<'static, BlobResult<Bytes>>,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobStore {
    /// Files under `root` (created if missing), via [`LocalFileSystem`].
    ///
    /// Uploads are fsynced (file and directory) before `finish` returns: an export is marked
    /// ready in the database right after, so its file must survive a crash too.
    pub fn local(root: &std::path::Path) -> BlobResult<BlobStore> {
        std::fs::create_dir_all(root).map_err(|source| BlobError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(root)
            .map_err(|source| BlobError::Store {
                location: root.display().to_string(),
                source,
            })?
            .with_fsync(true);
        let mut store = Self::from_object_store(Arc::new(fs), "");
        store.local_root = Some(root.to_path_buf());
        Ok(store)
    }

    /// In memory, for tests: same semantics as the real backends, nothing on disk.
    pub fn in_memory() -> BlobStore {
        Self::from_object_store(Arc::new(InMemory::new()), "")
    }

    /// Wraps any object store with an optional key prefix (`""` for none; slashes
    /// separate segments, empty segments are ignored).
    pub fn from_object_store(store: Arc<dyn ObjectStore>, prefix: &str) -> BlobStore {
        Self {
            store,
            signer: None,
            prefix: Path::from(prefix),
            local_root: None,
        }
    }

    /// Starts a streaming multipart upload to `key`; nothing is visible at `key` until
    /// [`BlobWriter::finish`], so a reader never sees a half-written export.
    pub async fn writer(&self, key: &str) -> BlobResult<BlobWriter> {
        let path = self.path(key)?;
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|source| store_error(&path, source))?;
        Ok(BlobWriter::new(upload, path.to_string()))
    }

    /// The object as a byte stream with its size, or `Ok(None)` if there is no such object.
    pub async fn get(&self, key: &str) -> BlobResult<Option<BlobRead>> {
        let path = self.path(key)?;
        let result = match self.store.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(source) => return Err(store_error(&path, source)),
        };
        let size = result.meta.size;
        let location = path.to_string();
        let stream = result
            .into_stream()
            .map_err(move |source| BlobError::Store {
                location: location.clone(),
                source,
            })
            .boxed();
        Ok(Some(BlobRead { size, stream }))
    }

    /// Deletes `key`; deleting a missing object is Ok, so retention sweeps and retried jobs are
    /// idempotent.
    /// Removes the staging files of uploads that were interrupted (a process killed mid-export)
    /// and last written more than `older_than` ago; returns how many went. Local stores write an
    /// upload to `KEY#N` and rename it on completion, so a kill leaves `KEY#N` behind forever.
    /// S3 keeps an interrupted multipart upload's parts instead, which object_store cannot list:
    /// a bucket lifecycle rule that aborts incomplete multipart uploads removes them there.
    pub async fn remove_abandoned_uploads(
        &self,
        older_than: std::time::Duration,
    ) -> BlobResult<usize> {
        let Some(root) = self.local_root.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || remove_staging_files(&root, older_than))
            .await
            .map_err(|error| BlobError::Io {
                path: std::path::PathBuf::new(),
                source: std::io::Error::other(error),
            })?
    }

    pub async fn delete(&self, key: &str) -> BlobResult<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(store_error(&path, source)),
        }
    }

    /// Writes `bytes` at `key` only if no object is there (create-only: on S3 a conditional
    /// `If-None-Match: *` put, locally a no-clobber rename). `Ok(false)` when one already was,
    /// whatever its content: what was written first stays.
    pub async fn create(&self, key: &str, bytes: Vec<u8>) -> BlobResult<bool> {
        let path = self.path(key)?;
        let options = object_store::PutOptions {
            mode: object_store::PutMode::Create,
            ..Default::default()
        };
        match self.store.put_opts(&path, bytes.into(), options).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(source) => Err(store_error(&path, source)),
        }
    }

    /// Writes a small object whole at `key`, replacing any (for objects that change, such as a
    /// log's newest checkpoint).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> BlobResult<()> {
        let path = self.path(key)?;
        self.store
            .put(&path, bytes.into())
            .await
            .map(|_| ())
            .map_err(|source| store_error(&path, source))
    }

    /// A small object read whole (at most `limit` bytes; larger is an error), or `Ok(None)`.
    pub async fn read_small(&self, key: &str, limit: u64) -> BlobResult<Option<Vec<u8>>> {
        let Some(read) = self.get(key).await? else {
            return Ok(None);
        };
        if read.size > limit {
            return Err(BlobError::Io {
                path: key.into(),
                source: std::io::Error::other(format!("larger than {limit} bytes")),
            });
        }
        let chunks: Vec<Bytes> = read.stream.try_collect().await?;
        Ok(Some(chunks.concat()))
    }

    /// Whether any object exists under `prefix/` (one listing page at most).
    pub async fn any_under(&self, prefix: &str) -> BlobResult<bool> {
        let folder = self.path(prefix)?;
        let first = self.store.list(Some(&folder)).try_next().await;
        first
            .map(|meta| meta.is_some())
            .map_err(|source| store_error(&folder, source))
    }

    /// The keys under `prefix/` (relative to the store, like every key here) that sort after
    /// `offset` (a full key), in lexicographic order.
    pub async fn list_after(&self, prefix: &str, offset: Option<&str>) -> BlobResult<Vec<String>> {
        let folder = self.path(prefix)?;
        let offset = match offset {
            Some(key) => self.path(key)?,
            None => folder.clone(),
        };
        let metas: Vec<object_store::ObjectMeta> = self
            .store
            .list_with_offset(Some(&folder), &offset)
            .try_collect()
            .await
            .map_err(|source| store_error(&folder, source))?;
        let skip = self.prefix.as_ref().len() + usize::from(!self.prefix.as_ref().is_empty());
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|meta| meta.location.as_ref()[skip..].to_string())
            // A local write interrupted by a crash leaves its staging file `KEY#N`.
            .filter(|key| self.local_root.is_none() || !is_staging_file(key))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Whether an object exists at `key` (a metadata request; the content is not read).
    pub async fn exists(&self, key: &str) -> BlobResult<bool> {
        let path = self.path(key)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(store_error(&path, source)),
        }
    }

    /// The full object path of `key`: validated (no `..`, no empty segments, not empty) and put
    /// under the prefix. Validation keeps a key from ever escaping the local root.
    /// An S3 (or S3-compatible) bucket from `s3://bucket[/prefix]`. Credentials, region and an
    /// endpoint override come from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`; `AWS_ALLOW_HTTP=true` for a
    /// plain-HTTP endpoint).
    pub fn s3(url: &str) -> BlobResult<BlobStore> {
        let invalid = |reason: &str| BlobError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("names no bucket"));
        }
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|source| store_error_at(url, source))?;
        let s3 = Arc::new(s3);
        let mut store = Self::from_object_store(s3.clone(), prefix);
        store.signer = Some(s3);
        Ok(store)
    }

    /// A presigned GET of `key` valid for `expires_in`, naming `file_name` as the download's
    /// file name; `Ok(None)` for backends that cannot presign (local files: the server signs
    /// its own download route instead).
    pub async fn presigned_get(
        &self,
        key: &str,
        file_name: &str,
        expires_in: std::time::Duration,
    ) -> BlobResult<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let path = self.path(key)?;
        let options = SignedUrlOptions::new().with_query([
            (
                "response-content-type",
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                "response-content-disposition",
                format!("attachment; filename=\"{file_name}\""),
            ),
        ]);
        let url = signer
            .signed_url_opts(
                object_store::signer::Method::GET,
                &path,
                expires_in,
                &options,
            )
            .await
            .map_err(|source| store_error(&path, source))?;
        Ok(Some(url.to_string()))
    }

    fn path(&self, key: &str) -> BlobResult<Path> {
        let parsed = Path::parse(key).map_err(|source| BlobError::InvalidKey {
            key: key.to_owned(),
            source,
        })?;
        if parsed.is_root() {
            return Err(BlobError::InvalidKey {
                key: key.to_owned(),
                source: object_store::path::Error::EmptySegment {
                    path: key.to_owned(),
                },
            });
        }
        Ok(self.prefix.parts().chain(parsed.parts()).collect())
    }
}

fn store_error(path: &Path, source: object_store::Error) -> BlobError {
    BlobError::Store {
        location: path.to_string(),
        source,
    }
}

fn store_error_at(location: &str, source: object_store::Error) -> BlobError {
    BlobError::Store {
        location: location.to_string(),
        source,
    }
}

/// Whether `name` is a local upload's staging file: `NAME#DIGITS`.
fn is_staging_file(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(stem, n)| {
        !stem.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn remove_staging_files(
    dir: &std::path::Path,
    older_than: std::time::Duration,
) -> BlobResult<usize> {
    let io = |source| BlobError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            removed += remove_staging_files(&entry.path(), older_than)?;
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if kind.is_file() && stale && is_staging_file(&entry.file_name().to_string_lossy()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io(error)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod staging_tests {
    use super::is_staging_file;

    #[test]
    fn staging_file_names() {
        assert!(is_staging_file("exports/export_1.csv#1"));
        assert!(is_staging_file("export_1.leaves#12"));
        assert!(!is_staging_file("export_1.csv"));
        assert!(!is_staging_file("export_1.csv#"));
        assert!(!is_staging_file("#1"));
        assert!(!is_staging_file("a#1b"));
    }
}
