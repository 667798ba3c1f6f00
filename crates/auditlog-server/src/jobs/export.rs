//! The export job: streams an organization's matching events, page by page in
//! (occurred_at, id) order, through the CSV encoder into a multipart upload. Memory is one
//! page plus the upload's buffered parts, whatever the export's size.
//!
//! Every export is cut at the organization's last sequence number when it was created
//! (`ExportFilters::max_sequence`): the number of target columns, read before the first page,
//! then covers every row, an event committed while the export runs is simply not part of it,
//! and a retried job writes the identical file. Beside the CSV the job stores its leaves
//! sidecar (`crate::tlog::sidecar`: each row's sequence and leaf hash, and the CSV's SHA-256,
//! computed while streaming), from which the export's verifiable bundle is built.
//!
//! Before anything is written, the organization's event rows are reconciled with the cut:
//! every sequence up to it must have a row (retention redacts, never deletes). A deleted row
//! fails the export, naming the missing sequence numbers, rather than yield a file that
//! silently lacks an event ([`crate::tlog::completeness`]).

use super::JobError;
use crate::clock::now_micros;
use crate::state::AppState;
use crate::tlog::completeness::ensure_rows_cover;
use crate::tlog::sidecar::{encode_rows, encode_trailer, leaves_key};
use crate::tlog::LogError;
use auditlog_blob::BlobWriter;
use auditlog_domain::csv_export::{header, CsvEncoder};
use auditlog_store::{ExportOutcome, ExportQuery, ExportState, JobRecord};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

/// The job payload that names an export.
pub fn payload(environment: &str, export_id: &str) -> Value {
    json!({"environment": environment, "export_id": export_id})
}

/// Where an export's file lives in the blob store.
pub fn blob_key(export_id: &str) -> String {
    format!("exports/{export_id}.csv")
}

fn names(job: &JobRecord) -> Result<(&str, &str), JobError> {
    match (
        job.payload["environment"].as_str(),
        job.payload["export_id"].as_str(),
    ) {
        (Some(environment), Some(id)) => Ok((environment, id)),
        _ => Err(JobError::Permanent("malformed export job payload".into())),
    }
}

fn retryable(error: impl std::fmt::Display) -> JobError {
    JobError::Retryable(error.to_string())
}

/// Encodes one page off the async runtime and hands the encoder back for the next page.
async fn encode_page(
    mut encoder: CsvEncoder,
    payloads: Vec<String>,
    max_targets: usize,
) -> Result<(CsvEncoder, Vec<u8>), JobError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        for text in payloads {
            encoder.write_payload(&text, max_targets).map_err(|e| {
                JobError::Permanent(format!("a stored event payload is not JSON: {e}"))
            })?;
        }
        let bytes = encoder.take();
        Ok((encoder, bytes))
    })
    .await
    .map_err(|e| JobError::Retryable(format!("encoder task failed: {e}")))?
}

/// The CSV upload, its running SHA-256, and the leaves sidecar upload.
struct Writers {
    csv: BlobWriter,
    leaves: BlobWriter,
    sha256: Sha256,
}

impl Writers {
    async fn write(&mut self, csv: &[u8], leaves: &[u8]) -> Result<(), JobError> {
        self.sha256.update(csv);
        self.csv.write(csv).await.map_err(retryable)?;
        self.leaves.write(leaves).await.map_err(retryable)
    }

    /// Writes the last bytes, publishes the CSV, then its sidecar (whose trailer holds the
    /// CSV's hash); returns the CSV's size. A crash in between leaves a pending export that the
    /// retry rewrites identically.
    async fn finish(
        mut self,
        csv: &[u8],
        leaves: &[u8],
        rows: u64,
        protect: bool,
    ) -> Result<u64, JobError> {
        if let Err(error) = self.write(csv, leaves).await {
            self.abort().await;
            return Err(error);
        }
        let sha256: [u8; 32] = self.sha256.finalize().into();
        let size = match self.csv.finish().await {
            Ok(size) => size,
            Err(error) => {
                self.leaves.abort().await;
                return Err(retryable(error));
            }
        };
        let mut leaves = self.leaves;
        if let Err(error) = leaves.write(&encode_trailer(sha256, rows, protect)).await {
            leaves.abort().await;
            return Err(retryable(error));
        }
        leaves.finish().await.map_err(retryable)?;
        Ok(size)
    }

    async fn abort(self) {
        self.csv.abort().await;
        self.leaves.abort().await;
    }
}

pub async fn run(
    state: &AppState,
    job: &JobRecord,
    cancel: &CancellationToken,
) -> Result<(), JobError> {
    let (environment, export_id) = names(job)?;
    let export = state
        .store
        .get_export(environment, export_id)
        .await
        .map_err(retryable)?
        .ok_or_else(|| JobError::Permanent(format!("export {export_id} does not exist")))?;
    if export.state != ExportState::Pending {
        return Ok(()); // Finished by an earlier run whose completion was not recorded.
    }
    let organization_id = export.organization_id.as_str();
    // Exports stored before the cut existed cover every event stored now.
    let cut = match export.filters.max_sequence {
        Some(max_sequence) => max_sequence + 1,
        None => state
            .store
            .log_leaf_count(organization_id)
            .await
            .map_err(retryable)?
            .unwrap_or(0),
    };
    let scope = format!("up to the export's cut at sequence {}", cut - 1);
    match ensure_rows_cover(state.store.as_ref(), organization_id, 0, cut, &scope).await {
        Ok(()) => {}
        Err(LogError::Integrity(message)) => return Err(JobError::Permanent(message)),
        Err(error) => return Err(retryable(error)),
    }
    let query = ExportQuery {
        environment: export.environment.clone(),
        organization_id: export.organization_id.clone(),
        filters: export.filters.clone(),
    };
    // The widest event sets the header's target columns; finding it scans the whole range, so
    // the first page is read meanwhile.
    let page_rows = state.config.exports.export_page_rows;
    let (max_targets, mut page) = tokio::try_join!(
        state.store.export_max_targets(&query),
        state.store.export_page(&query, None, page_rows)
    )
    .map_err(retryable)?;
    let max_targets = max_targets.max(0) as usize;
    let key = blob_key(export_id);
    let protect = state.config.exports.csv_formula_protection;
    let csv = state.blob.writer(&key).await.map_err(retryable)?;
    let leaves = match state.blob.writer(&leaves_key(export_id)).await {
        Ok(leaves) => leaves,
        Err(error) => {
            csv.abort().await;
            return Err(retryable(error));
        }
    };
    let mut writers = Writers {
        csv,
        leaves,
        sha256: Sha256::new(),
    };
    let mut encoder = CsvEncoder::new(protect);
    encoder.write(&header(max_targets));
    // Bytes encoded but not yet written: the CSV's, and the leaves sidecar's.
    let mut pending = (encoder.take(), Vec::new());
    let mut rows = 0i64;
    // Three-stage pipeline: while page N is encoded (on a blocking thread), page N+1 is read
    // from the store and page N-1 is hashed and written, so the export runs at the slowest
    // stage's speed instead of the sum of all three. Memory: three pages plus the uploads'
    // parts.
    loop {
        if cancel.is_cancelled() {
            writers.abort().await;
            return Err(JobError::Cancelled);
        }
        let Some(last) = page.last() else { break };
        let after = (last.occurred_at, last.id.clone());
        rows += page.len() as i64;
        let mut page_leaves = Vec::with_capacity(page.len() * 40);
        encode_rows(
            page.iter().map(|r| (r.sequence, r.leaf_hash)),
            &mut page_leaves,
        );
        let payloads = std::mem::take(&mut page)
            .into_iter()
            .map(|r| r.payload)
            .collect();
        // Progress (rows read so far) is for people watching, such as the Admin Portal's
        // export bar: a failure to record it does not fail the export.
        let (next, encoded, written, progress) = tokio::join!(
            state.store.export_page(&query, Some(&after), page_rows),
            encode_page(encoder, payloads, max_targets),
            writers.write(&pending.0, &pending.1),
            state
                .store
                .record_export_progress(export_id, rows, now_micros())
        );
        if let Err(error) = progress {
            tracing::debug!(export_id, %error, "could not record export progress");
        }
        match (encoded, written) {
            (Ok((next_encoder, bytes)), Ok(())) => {
                encoder = next_encoder;
                pending = (bytes, page_leaves);
            }
            (Err(error), _) | (_, Err(error)) => {
                writers.abort().await;
                return Err(error);
            }
        }
        page = match next {
            Ok(page) => page,
            Err(error) => {
                writers.abort().await;
                return Err(retryable(error));
            }
        };
    }
    let byte_count = writers
        .finish(&pending.0, &pending.1, rows as u64, protect)
        .await? as i64;
    let now = now_micros();
    let outcome = ExportOutcome::Ready {
        blob_key: key,
        row_count: rows,
        byte_count,
        file_expires_at: now + state.config.exports.export_file_ttl_secs * 1_000_000,
    };
    state
        .store
        .finish_export(export_id, &outcome, now)
        .await
        .map_err(retryable)?;
    tracing::info!(export_id, rows, byte_count, "export ready");
    Ok(())
}

/// The job failed for good: the export ends in `error` (the reason is in the log).
pub async fn give_up(state: &AppState, job: &JobRecord, reason: &str) {
    let Ok((_, export_id)) = names(job) else {
        return;
    };
    let outcome = ExportOutcome::Failed {
        reason: reason.to_string(),
    };
    if let Err(error) = state
        .store
        .finish_export(export_id, &outcome, now_micros())
        .await
    {
        crate::failure::report("marking an export as failed", &error);
    }
}
