//! Completeness on the server: reconciliation of an organization's event rows with its log, and
//! the omitted events of an export bundle (`auditlog_tlog::Completeness`).
//!
//! Retention redacts events but never deletes their rows, so every sequence below the log's
//! size (or an export's cut) has a row. Before an export is written and before a bundle is
//! served, a count over the (organization, sequence) index checks that; a shortfall means rows
//! were deleted from the database, and the export or bundle is refused with the missing
//! sequence numbers named, instead of passing off a log with holes as complete.

use super::LogError;
use auditlog_domain::canonical::leaf_hash;
use auditlog_domain::timestamp::{format_canonical, from_micros};
use auditlog_store::{LoggedEvent, Store};
use auditlog_tlog::{
    span_omissions, Completeness, OmittedEvent, SpanOmissions, MAX_OMITTED_EVENTS,
};

/// Missing sequence numbers an error names, at most (the total is always given).
const NAMED_MISSING: i64 = 100;
/// Omitted events read per store query.
const EVENTS_PER_READ: usize = 1_000;
/// Bytes of omitted events' text one bundle holds, at most: a bundle's preparation keeps them
/// in memory, and [`MAX_OMITTED_EVENTS`] alone would allow gigabytes of large events.
pub const MAX_OMITTED_BYTES: usize = 64 * 1024 * 1024;

/// Fails with [`LogError::Integrity`] naming the sequences in `start..end` that have no event
/// row; `scope` says what the range is (e.g. "below its checkpoint at size 12").
pub async fn ensure_rows_cover(
    store: &dyn Store,
    organization_id: &str,
    start: i64,
    end: i64,
    scope: &str,
) -> Result<(), LogError> {
    if start >= end {
        return Ok(());
    }
    let missing = store
        .log_missing_sequences(organization_id, start, end, NAMED_MISSING)
        .await?;
    if missing.total == 0 {
        return Ok(());
    }
    let mut named: Vec<String> = missing.first.iter().map(i64::to_string).collect();
    let unnamed = missing.total - missing.first.len() as i64;
    if unnamed > 0 {
        named.push(format!("and {unnamed} more"));
    }
    Err(LogError::Integrity(format!(
        "{} events of {organization_id} {scope} have no event row (missing sequence numbers: \
         {}): event rows were deleted from the database",
        missing.total,
        named.join(", ")
    )))
}

/// The completeness section of a bundle whose rows have the sequences `exported` (sorted here,
/// in place): every other sequence of their span, read from the store. Integrity errors when
/// an omitted event's row is gone or its text no longer hashes to its stored leaf.
pub async fn completeness(
    store: &dyn Store,
    organization_id: &str,
    exported: &mut [u64],
) -> Result<Completeness, LogError> {
    let (first, last, gaps) = match span_omissions(exported) {
        SpanOmissions::NoRows => {
            return Ok(Completeness::unproven(
                None,
                "the export has no rows, so it has no span of sequence numbers to prove".into(),
            ))
        }
        SpanOmissions::TooMany {
            first,
            last,
            omitted,
        } => {
            return Ok(Completeness::unproven(
                Some((first, last)),
                format!(
                    "{omitted} events of the span {first}..={last} are not exported, more than \
                     the {MAX_OMITTED_EVENTS} a bundle lists"
                ),
            ))
        }
        SpanOmissions::Listed {
            first,
            last,
            omitted,
        } => (first, last, omitted),
    };
    let mut omitted = Vec::with_capacity(gaps.len());
    let mut bytes = 0usize;
    for chunk in gaps.chunks(EVENTS_PER_READ) {
        let wanted: Vec<i64> = chunk.iter().map(|&s| s as i64).collect();
        let events = store.log_events_at(organization_id, &wanted).await?;
        // Both in sequence order: the first position where they differ is a missing row.
        if events.len() != chunk.len() {
            let gone = chunk
                .iter()
                .zip(
                    events
                        .iter()
                        .map(|e| e.sequence as u64)
                        .chain(std::iter::repeat(u64::MAX)),
                )
                .find(|(wanted, found)| **wanted != *found)
                .map_or(0, |(wanted, _)| *wanted);
            return Err(LogError::Integrity(format!(
                "the event of {organization_id} at sequence {gone} has no row: event rows were \
                 deleted from the database"
            )));
        }
        for event in events {
            bytes += event.payload.as_ref().map_or(0, String::len);
            if bytes > MAX_OMITTED_BYTES {
                return Ok(Completeness::unproven(
                    Some((first, last)),
                    format!(
                        "the events of the span {first}..={last} that are not exported hold \
                         more than the {} MiB a bundle lists",
                        MAX_OMITTED_BYTES >> 20
                    ),
                ));
            }
            omitted.push(omitted_event(organization_id, event)?);
        }
    }
    Ok(Completeness::proven(first, last, omitted))
}

fn omitted_event(organization_id: &str, event: LoggedEvent) -> Result<OmittedEvent, LogError> {
    let sequence = event.sequence;
    match (event.payload, event.redacted_at) {
        (Some(text), _) if leaf_hash(text.as_bytes()) == event.leaf_hash => Ok(OmittedEvent {
            sequence: sequence as u64,
            leaf_hash: event.leaf_hash,
            canonical_event: Some(text),
            redacted_at: None,
        }),
        (Some(_), _) => Err(LogError::Integrity(format!(
            "the event of {organization_id} at sequence {sequence} does not hash to its logged \
             leaf: the stored event was altered after it was logged"
        ))),
        (None, Some(at)) => Ok(OmittedEvent {
            sequence: sequence as u64,
            leaf_hash: event.leaf_hash,
            canonical_event: None,
            redacted_at: Some(format_canonical(from_micros(at))),
        }),
        (None, None) => Err(LogError::Integrity(format!(
            "the event of {organization_id} at sequence {sequence} has neither its content nor \
             a redaction time"
        ))),
    }
}
