//! What one monitoring round found: the checks it ran (each passed or not, with why), the
//! misbehaviour it found (findings), and the checkpoint it looked at. Printed for people, or as
//! one JSON object with `--json`.

use serde::Serialize;
use std::fmt::Write as _;

/// A kind of misbehaviour. Any finding makes the round fail (exit 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The server's verifier key is not the trusted (pinned or given) one.
    KeyChanged,
    /// The published witness policy is not the pinned one.
    PolicyChanged,
    /// The checkpoint does not verify under the trusted key.
    BadSignature,
    /// The checkpoint's origin is not this organization's log.
    WrongOrigin,
    /// Fewer valid cosignatures than the policy's quorum.
    PolicyNotMet,
    /// A cosignature line of a policy witness whose signature does not verify.
    InvalidCosignature,
    /// Two checkpoints that cannot both be of one append-only log (same size and another root,
    /// or a bigger one that does not extend the older).
    Fork,
    /// A checkpoint smaller than one the monitor already accepted.
    Rollback,
    /// Sequence numbers below the checkpoint's size whose events the server does not serve.
    Gap,
    /// Events whose content does not hash to the log's leaves (or to what the monitor saw).
    Rewrite,
    /// Events the server lists as removed by retention although they occurred within the
    /// organization's retention period: retention cannot explain their removal.
    EarlyRedaction,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub message: String,
    /// The sequence numbers concerned (gaps and rewrites), when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<u64>,
    /// Where the conflicting checkpoint was kept, in the state directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// The checkpoint a round examined.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointSummary {
    pub origin: String,
    pub tree_size: u64,
    /// Base64, as in the note.
    pub root_hash: String,
    /// The signed note, with any cosignatures.
    pub note: String,
}

/// What `--events` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventsSummary {
    /// Events downloaded this round.
    pub downloaded: u64,
    /// Leaves now verified against a signed root (the log's first `verified` leaves).
    pub verified: u64,
    /// Sequences whose events retention removed: their leaves are the log's, not recomputed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub organization_id: String,
    /// RFC 3339, when the round started.
    pub checked_at: String,
    /// False when any finding was made.
    pub ok: bool,
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub checkpoint: Option<CheckpointSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsSummary>,
}

impl Report {
    pub fn new(organization_id: &str) -> Report {
        Report {
            organization_id: organization_id.to_string(),
            checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ok: true,
            checks: Vec::new(),
            findings: Vec::new(),
            checkpoint: None,
            events: None,
        }
    }

    pub fn pass(&mut self, name: &'static str, message: impl Into<String>) {
        self.check(name, true, message);
    }

    pub fn check(&mut self, name: &'static str, passed: bool, message: impl Into<String>) {
        self.checks.push(Check {
            name,
            passed,
            message: message.into(),
        });
    }

    pub fn find(&mut self, kind: FindingKind, message: impl Into<String>) -> &mut Finding {
        self.ok = false;
        self.findings.push(Finding {
            kind,
            message: message.into(),
            sequences: Vec::new(),
            evidence: None,
        });
        self.findings.last_mut().expect("just pushed")
    }

    /// The report for people: one line per check, then the findings, then a verdict.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "auditlog monitor: {} at {}",
            self.organization_id, self.checked_at
        );
        if let Some(checkpoint) = &self.checkpoint {
            let _ = writeln!(
                out,
                "  checkpoint: {} size {} root {}",
                checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash
            );
        }
        for check in &self.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "  [{mark}] {}: {}", check.name, check.message);
        }
        for finding in &self.findings {
            let kind = serde_json::to_value(finding.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_uppercase))
                .unwrap_or_default();
            let _ = writeln!(out, "  {kind}: {}", finding.message);
            if let Some(evidence) = &finding.evidence {
                let _ = writeln!(out, "    evidence kept in {evidence}");
            }
        }
        let verdict = if self.ok {
            "everything checks out".to_string()
        } else {
            format!("{} finding(s): the log misbehaved", self.findings.len())
        };
        let _ = writeln!(out, "  => {verdict}");
        out
    }
}

/// Sequence numbers as short ranges for messages: `3, 7-9`.
pub fn ranges(sequences: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = sequences.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_collapse_runs() {
        assert_eq!(ranges(&[1, 3, 4, 5, 9]), "1, 3-5, 9");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn a_finding_fails_the_report() {
        let mut report = Report::new("org_1");
        report.pass("signature", "ok");
        assert!(report.ok);
        report
            .find(FindingKind::Gap, "sequence 3 is missing")
            .sequences = vec![3];
        assert!(!report.ok);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["findings"][0]["kind"], "gap");
        assert!(report.human().contains("GAP: sequence 3 is missing"));
    }
}
