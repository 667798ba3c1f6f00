//! [`BlobWriter`]: a multipart upload with bounded memory.

use object_store::{MultipartUpload, WriteMultipart};

use crate::{BlobError, BlobResult};

/// Size of one uploaded part. 5 MiB is the smallest part S3 accepts (except the last one).
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts uploading at once. With the part being filled, a writer holds at most
/// `(MAX_IN_FLIGHT + 1) * PART_SIZE` bytes (15 MiB), however large the object.
const MAX_IN_FLIGHT: usize = 2;

/// A streaming upload to one key, started by [`BlobStore::writer`](crate::BlobStore::writer).
///
/// Call [`finish`](Self::finish) to publish the object or [`abort`](Self::abort) to give up.
/// Dropping it without either abandons the upload: the local backend removes its staging file,
/// S3 keeps the parts until a bucket lifecycle rule removes them.
#[derive(Debug)]
pub struct BlobWriter {
    upload: WriteMultipart,
    /// Object path, for error messages.
    key: String,
    /// Bytes accepted so far. `written % PART_SIZE` is also the fill of the part being buffered,
    /// because `WriteMultipart` starts uploading a part exactly when it reaches `PART_SIZE`.
    written: u64,
    /// Set once a part upload failed: that part's bytes are lost, so finishing would publish an
    /// object with a hole (on local files, a run of zeros).
    failed: bool,
}

impl BlobWriter {
    pub(crate) fn new(upload: Box<dyn MultipartUpload>, key: String) -> Self {
        Self {
            upload: WriteMultipart::new_with_chunk_size(upload, PART_SIZE),
            key,
            written: 0,
            failed: false,
        }
    }

    /// Buffers `bytes`, uploading full parts as they fill and waiting when too many are in flight
    /// (bounded memory).
    ///
    /// After an error the upload cannot be finished; call [`abort`](Self::abort). If this future
    /// is dropped before it completes, an unknown prefix of `bytes` was accepted: abort too.
    pub async fn write(&mut self, mut bytes: &[u8]) -> BlobResult<()> {
        if self.failed {
            return Err(self.failed_error());
        }
        while !bytes.is_empty() {
            let filled = (self.written % PART_SIZE as u64) as usize;
            let room = PART_SIZE - filled;
            let take = room.min(bytes.len());
            if take == room {
                // This slice completes a part, and `WriteMultipart::write` spawns its upload at
                // once whatever is in flight; so wait for a free slot first. This is the only
                // place memory could grow, hence the only place we apply back pressure.
                if let Err(source) = self.upload.wait_for_capacity(MAX_IN_FLIGHT).await {
                    self.failed = true;
                    return Err(BlobError::Store {
                        location: self.key.clone(),
                        source,
                    });
                }
            }
            self.upload.write(&bytes[..take]);
            self.written += take as u64;
            bytes = &bytes[take..];
        }
        Ok(())
    }

    /// Uploads the last part, waits for all parts, and publishes the object; returns the total
    /// bytes written.
    pub async fn finish(mut self) -> BlobResult<u64> {
        if self.failed {
            let error = self.failed_error();
            self.abort().await;
            return Err(error);
        }
        // `WriteMultipart::finish` uploads the partial last part without checking capacity:
        // make room first so the bound holds to the end.
        if let Err(source) = self.upload.wait_for_capacity(MAX_IN_FLIGHT).await {
            let key = std::mem::take(&mut self.key);
            self.abort().await;
            return Err(BlobError::Store {
                location: key,
                source,
            });
        }
        // On failure `WriteMultipart::finish` aborts the upload itself.
        match self.upload.finish().await {
            Ok(_) => Ok(self.written),
            Err(source) => Err(BlobError::Store {
                location: self.key,
                source,
            }),
        }
    }

    /// Abandons the upload (best effort cleanup: errors are ignored, since the caller is already
    /// handling a failure and a leftover part is harmless).
    pub async fn abort(self) {
        let _ = self.upload.abort().await;
    }

    fn failed_error(&self) -> BlobError {
        BlobError::UploadFailed {
            key: self.key.clone(),
        }
    }
}
