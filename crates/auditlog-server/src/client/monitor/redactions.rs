//! The sequences below the checkpoint's size that the read API's tail did not serve, explained
//! by the log's `redactions` route: an event listed there was removed by retention (its leaf
//! must be the log's, and it must be older than the retention period); one not listed was
//! deleted.

use super::super::ClientError;
use super::remote::{Redaction, Remote};
use super::report::{ranges, EventsSummary, FindingKind, Report};
use super::state::UNKNOWN_TIME;
use auditlog_domain::timestamp::to_micros;
use auditlog_tlog::Hash;
use std::collections::{BTreeMap, BTreeSet};

const DAY_MICROS: i64 = 86_400_000_000;

/// What the monitor knows of an unserved sequence: the log's leaf (or the one it verified
/// before), and the `occurred_at` it saw before (`UNKNOWN_TIME` if it never saw the event).
pub struct Expected {
    pub leaf: Hash,
    pub occurred_at: i64,
}

/// How the unserved sequences were explained.
#[derive(Default)]
pub struct Explained {
    /// Removed by retention: listed, with the log's leaf, older than the retention period.
    pub retention: Vec<u64>,
    /// Listed, but occurred within the retention period.
    pub early: Vec<u64>,
    /// Listed with a leaf hash other than the log's (or the one verified before).
    pub other_leaf: Vec<u64>,
    /// Listed with another `occurred_at` than the monitor saw before: backdated, perhaps to
    /// pass a deletion off as retention (the leaf cannot vouch for the time without the payload).
    pub other_time: Vec<u64>,
    /// Neither served nor listed: deleted.
    pub gaps: Vec<u64>,
    /// The listed `occurred_at` (µs) of each sequence in `retention`, to keep with its leaf.
    pub occurred_at: BTreeMap<u64, i64>,
    /// The retention period asked for, when the session could ask.
    pub retention_days: Option<i64>,
}

/// The listed redactions of `sequences` (ascending). Pages through the route only over the
/// ranges that hold an unserved sequence: from just before the first, and after each page on
/// to just before the next unserved sequence beyond it, so every request moves forward.
async fn listed(
    remote: &Remote,
    sequences: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, Redaction>, ClientError> {
    let mut found = BTreeMap::new();
    let Some(&first) = sequences.first() else {
        return Ok(found);
    };
    let mut after = first as i64 - 1;
    loop {
        let page = remote.redactions_after(after).await?;
        let reached = page.last_sequence;
        let empty = page.redactions.is_empty();
        for redaction in page.redactions {
            if sequences.contains(&redaction.sequence) {
                found.insert(redaction.sequence, redaction);
            }
        }
        // A server that does not move forward must not keep the monitor in a loop.
        if empty || reached <= after {
            break;
        }
        match sequences.range((reached + 1) as u64..).next() {
            Some(&next) => after = reached.max(next as i64 - 1),
            None => break,
        }
    }
    Ok(found)
}

/// Same instant to the millisecond: the route answers in milliseconds, the monitor saw µs.
fn same_millisecond(a: i64, b: i64) -> bool {
    a.div_euclid(1000) == b.div_euclid(1000)
}

pub async fn explain(
    remote: &Remote,
    unserved: &BTreeMap<u64, Expected>,
) -> Result<Explained, ClientError> {
    let mut explained = Explained::default();
    let sequences: BTreeSet<u64> = unserved.keys().copied().collect();
    let listed = listed(remote, &sequences).await?;
    if !listed.is_empty() {
        explained.retention_days = remote.retention_days().await?;
    }
    // Retention redacts what occurred before (now − period); the monitor's now is later than
    // the sweeper's, so an honest redaction is always before this cutoff.
    let cutoff = explained
        .retention_days
        .map(|days| to_micros(chrono::Utc::now()) - days * DAY_MICROS);
    for (&sequence, expected) in unserved {
        let Some(redaction) = listed.get(&sequence) else {
            explained.gaps.push(sequence);
            continue;
        };
        let seen_at = (expected.occurred_at != UNKNOWN_TIME).then_some(expected.occurred_at);
        if redaction.leaf != Some(expected.leaf) {
            explained.other_leaf.push(sequence);
        } else if seen_at.is_some_and(|seen| {
            !redaction
                .occurred_at
                .is_some_and(|at| same_millisecond(at, seen))
        }) {
            explained.other_time.push(sequence);
        } else if cutoff.is_some_and(|cutoff| redaction.occurred_at.is_none_or(|at| at >= cutoff)) {
            explained.early.push(sequence);
        } else {
            explained.retention.push(sequence);
            let at = seen_at.or(redaction.occurred_at).unwrap_or(UNKNOWN_TIME);
            explained.occurred_at.insert(sequence, at);
        }
    }
    Ok(explained)
}

impl Explained {
    /// Findings for what retention does not explain; a passed check for what it does.
    pub fn report(&self, size: u64, report: &mut Report, summary: &mut EventsSummary) {
        let mut find = |kind: FindingKind, sequences: &[u64], message: String| {
            if !sequences.is_empty() {
                report.find(kind, message).sequences = sequences.to_vec();
            }
        };
        find(
            FindingKind::Gap,
            &self.gaps,
            format!(
                "the server neither serves nor lists as removed by retention the event(s) of \
                 sequence(s) {} below the checkpoint's size {size}: deleted (their leaves were \
                 taken from the log)",
                ranges(&self.gaps)
            ),
        );
        find(
            FindingKind::Rewrite,
            &self.other_leaf,
            format!(
                "the event(s) of sequence(s) {} are listed as removed by retention with a leaf \
                 hash that is not the log's",
                ranges(&self.other_leaf)
            ),
        );
        find(
            FindingKind::Rewrite,
            &self.other_time,
            format!(
                "the event(s) of sequence(s) {} are listed as removed by retention with another \
                 occurred_at than this monitor saw before: their time was changed",
                ranges(&self.other_time)
            ),
        );
        let days = self.retention_days.unwrap_or_default();
        find(
            FindingKind::EarlyRedaction,
            &self.early,
            format!(
                "the event(s) of sequence(s) {} are listed as removed by retention but occurred \
                 within the organization's retention period of {days} days: retention does not \
                 explain their removal",
                ranges(&self.early)
            ),
        );
        if self.retention.is_empty() {
            return;
        }
        let age = match self.retention_days {
            Some(days) => format!("older than the retention period of {days} days"),
            None => "their age was not checked: this session cannot ask for the retention \
                     period"
                .to_string(),
        };
        report.pass(
            "retention",
            format!(
                "sequence(s) {} were removed by retention (listed by the server with the log's \
                 leaves; {age})",
                ranges(&self.retention)
            ),
        );
        summary.redacted = self.retention.clone();
    }
}
