//! The completeness checks of a v2 bundle: within the exported rows' sequence span, every
//! sequence is exported or listed as omitted exactly once; each omitted event's text hashes to
//! its leaf (whose inclusion the `inclusion` check proves with the rows'); no omitted event
//! matches the export's filters; redacted omitted events, which cannot be matched, are named.
//!
//! What stays unproven: events outside the span. An event with a sequence before
//! `first_sequence` or after `last_sequence` that the filters select (say, one logged after the
//! last exported one but whose `occurred_at` is in the range) could be missing, and so could
//! the whole export when it has no row. Nor is it proven that the checkpoint is the log every
//! other party sees; that is what witnesses and consistency proofs are for.

use crate::bundle::{Completeness, Manifest, OmittedEvent};
use crate::verify::{short, BundleReport, CheckName};
use auditlog_domain::canonical::leaf_hash;
use auditlog_domain::export::ExportFilters;
use serde_json::Value;

/// Problems named in one message, at most; the rest are counted.
const SHOWN: usize = 10;

/// Joins `problems` into one message naming the first [`SHOWN`].
fn summarize(problems: &[String], total: u128) -> String {
    let mut message = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    let named = problems.len().min(SHOWN) as u128;
    if total > named {
        message.push_str(&format!("; and {} more", total - named));
    }
    message
}

/// Sequences written as a list: `3, 7, 9 (3 in all)`.
fn sequence_list(sequences: &[u64], total: u128) -> String {
    let listed: Vec<String> = sequences.iter().take(SHOWN).map(u64::to_string).collect();
    format!("{} ({total} in all)", listed.join(", "))
}

/// Adds the completeness checks of `manifest` to `report`: one warning when completeness is
/// not claimed (v1) or not proven, the five named checks when it is.
pub(crate) fn check_completeness(manifest: &Manifest, report: &mut BundleReport) {
    let Some(completeness) = &manifest.completeness else {
        report.warn(
            CheckName::Completeness,
            "not claimed: a v1 bundle proves that its rows are in the log, not that no event \
             is missing"
                .into(),
        );
        return;
    };
    if !completeness.proven {
        let reason = completeness.reason.as_deref().unwrap_or("no reason given");
        report.warn(CheckName::Completeness, format!("not proven: {reason}"));
        return;
    }
    let (Some(first), Some(last)) = (completeness.first_sequence, completeness.last_sequence)
    else {
        report.push(
            CheckName::Completeness,
            Err("claimed proven without a first and last sequence".into()),
        );
        return;
    };
    let redacted = completeness
        .omitted
        .iter()
        .filter(|o| o.canonical_event.is_none())
        .count();
    report.push(
        CheckName::Completeness,
        Ok(format!(
            "claimed for sequences {first}..={last}: {} exported, {} omitted ({redacted} \
             redacted by retention); events outside this span are not covered",
            manifest.leaves.len(),
            completeness.omitted.len()
        )),
    );
    report.push(
        CheckName::SpanCoverage,
        span_coverage(manifest, first, last, completeness),
    );
    report.push(CheckName::OmittedLeaves, omitted_leaves(completeness));
    report.push(
        CheckName::OmittedFilters,
        omitted_filters(manifest, completeness),
    );
    let redacted: Vec<u64> = completeness
        .omitted
        .iter()
        .filter(|o| o.canonical_event.is_none())
        .map(|o| o.sequence)
        .collect();
    match redacted.len() {
        0 => report.push(
            CheckName::RedactedOmissions,
            Ok("no omitted event is redacted".into()),
        ),
        n => report.warn(
            CheckName::RedactedOmissions,
            format!(
                "sequences {} were redacted by retention: they cannot be checked against the \
                 export's filters",
                sequence_list(&redacted, n as u128)
            ),
        ),
    }
}

/// Every sequence of `first..=last` is exported or omitted exactly once, and nothing else is.
fn span_coverage(
    manifest: &Manifest,
    first: u64,
    last: u64,
    completeness: &Completeness,
) -> Result<String, String> {
    let exported = manifest.leaves.iter().map(|l| l.sequence);
    let (low, high) = (exported.clone().min(), exported.clone().max());
    if (low, high) != (Some(first), Some(last)) {
        return Err(format!(
            "the span {first}..={last} is not the exported rows' {}",
            match (low, high) {
                (Some(low), Some(high)) => format!("{low}..={high}"),
                _ => "(none)".into(),
            }
        ));
    }
    let mut sequences: Vec<u64> = exported
        .chain(completeness.omitted.iter().map(|o| o.sequence))
        .collect();
    sequences.sort_unstable();
    let mut problems = Vec::new();
    let outside: Vec<u64> = completeness
        .omitted
        .iter()
        .map(|o| o.sequence)
        .filter(|s| !(first..=last).contains(s))
        .collect();
    if !outside.is_empty() {
        problems.push(format!(
            "omitted sequences {} are outside the span",
            sequence_list(&outside, outside.len() as u128)
        ));
    }
    let mut twice: Vec<u64> = sequences
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    twice.dedup();
    if !twice.is_empty() {
        problems.push(format!(
            "sequences {} are listed more than once (exported or omitted)",
            sequence_list(&twice, twice.len() as u128)
        ));
    }
    sequences.dedup();
    sequences.retain(|s| (first..=last).contains(s));
    // Never walks the span itself: a hostile one may be 2^64 long.
    let span_len = u128::from(last - first) + 1;
    let absent_total = span_len - sequences.len() as u128;
    if absent_total > 0 {
        let mut absent = Vec::new();
        for pair in sequences.windows(2) {
            absent.extend((pair[0] + 1..pair[1]).take(SHOWN - absent.len().min(SHOWN)));
            if absent.len() >= SHOWN {
                break;
            }
        }
        problems.push(format!(
            "sequences {} are neither exported nor listed as omitted",
            sequence_list(&absent, absent_total)
        ));
    }
    match problems.is_empty() {
        true => Ok(format!(
            "each of the {span_len} sequences {first}..={last} is exported or omitted exactly once"
        )),
        false => Err(problems.join("; ")),
    }
}

/// Each omitted event is either its canonical text, which hashes to its leaf, or a redaction.
fn omitted_leaves(completeness: &Completeness) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut recomputed = 0u64;
    for omitted in &completeness.omitted {
        let OmittedEvent {
            sequence,
            leaf_hash: listed,
            ..
        } = omitted;
        match (&omitted.canonical_event, &omitted.redacted_at) {
            (Some(text), None) => {
                let leaf = leaf_hash(text.as_bytes());
                if leaf == *listed {
                    recomputed += 1;
                } else {
                    problems.push(format!(
                        "sequence {sequence}: its event hashes to leaf {}…, not the listed {}…",
                        short(&leaf),
                        short(listed)
                    ));
                }
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => problems.push(format!(
                "sequence {sequence}: both an event and a redaction are listed"
            )),
            (None, None) => problems.push(format!(
                "sequence {sequence}: neither its event nor a redaction is listed"
            )),
        }
    }
    match problems.is_empty() {
        true => Ok(format!(
            "{recomputed} omitted events hash to their listed leaves; {} redacted ones are \
             proven by leaf hash only",
            completeness.omitted.len() as u64 - recomputed
        )),
        false => Err(summarize(&problems, problems.len() as u128)),
    }
}

/// No omitted (unredacted) event is one the export's filters select.
fn omitted_filters(manifest: &Manifest, completeness: &Completeness) -> Result<String, String> {
    let filters: ExportFilters = serde_json::from_value(manifest.filters.clone())
        .map_err(|e| format!("the manifest's filters cannot be read: {e}"))?;
    let mut problems = Vec::new();
    let mut checked = 0u64;
    for omitted in &completeness.omitted {
        let Some(text) = &omitted.canonical_event else {
            continue;
        };
        let sequence = omitted.sequence;
        let event: Value = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                problems.push(format!("sequence {sequence}: its event is not JSON ({e})"));
                continue;
            }
        };
        if event["organization_id"].as_str() != Some(manifest.organization_id.as_str()) {
            problems.push(format!(
                "sequence {sequence}: its event is not of {}",
                manifest.organization_id
            ));
            continue;
        }
        let id = event["id"].as_str().unwrap_or("(no id)");
        match i64::try_from(sequence)
            .map_err(|_| "its sequence is out of range".to_string())
            .and_then(|s| filters.select_canonical(s, &event))
        {
            Ok(false) => checked += 1,
            Ok(true) => problems.push(format!(
                "sequence {sequence} ({id}) is listed as omitted, but the export's filters select it"
            )),
            Err(e) => problems.push(format!("sequence {sequence} ({id}): {e}")),
        }
    }
    match problems.is_empty() {
        true => Ok(format!(
            "none of the {checked} omitted events matches the export's filters"
        )),
        false => Err(summarize(&problems, problems.len() as u128)),
    }
}
