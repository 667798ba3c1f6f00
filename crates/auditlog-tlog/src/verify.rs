//! Offline verification of an export bundle and its CSV: every check runs and is reported by
//! name, pass or fail, with a message; none stops the others. A check that passes with a
//! warning names something the bundle does not prove (completeness not claimed or not
//! proven, omitted events redacted by retention) without failing verification.

use crate::bundle::{
    csv_sha256_hex, manifest_bytes, BundleLeaf, Completeness, ExportBundle, BUNDLE_FORMAT,
    BUNDLE_FORMAT_V1,
};
use crate::checkpoint::{open_checkpoint, parse_unverified, verify_raw};
use crate::completeness::check_completeness;
use crate::csv_leaf::{CsvLayout, CsvLeafError};
use crate::Hash;
use base64::prelude::{Engine, BASE64_STANDARD};
use csv::StringRecord;
use serde::Serialize;
use std::cell::OnceCell;
use std::collections::HashSet;
use std::fmt;

/// The checks [`verify_bundle`] runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Format,
    ManifestSignature,
    CsvSha256,
    CheckpointSignature,
    CheckpointOrigin,
    RowCount,
    RowLeaves,
    Sequences,
    Inclusion,
    Completeness,
    SpanCoverage,
    OmittedLeaves,
    OmittedFilters,
    RedactedOmissions,
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckName::Format => "bundle format",
            CheckName::ManifestSignature => "manifest signature",
            CheckName::CsvSha256 => "CSV SHA-256",
            CheckName::CheckpointSignature => "checkpoint signature",
            CheckName::CheckpointOrigin => "checkpoint origin",
            CheckName::RowCount => "row count",
            CheckName::RowLeaves => "row leaf hashes",
            CheckName::Sequences => "sequence numbers",
            CheckName::Inclusion => "inclusion in checkpoint",
            CheckName::Completeness => "completeness",
            CheckName::SpanCoverage => "span coverage",
            CheckName::OmittedLeaves => "omitted event leaves",
            CheckName::OmittedFilters => "omitted events outside the filters",
            CheckName::RedactedOmissions => "redacted omitted events",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: CheckName,
    pub passed: bool,
    /// Passed, but names something the bundle does not prove.
    pub warning: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub checks: Vec<Check>,
}

impl BundleReport {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    pub fn failed(&self) -> Vec<CheckName> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect()
    }

    pub(crate) fn push(&mut self, name: CheckName, result: Result<String, String>) {
        let (passed, message) = match result {
            Ok(message) => (true, message),
            Err(message) => (false, message),
        };
        self.checks.push(Check {
            name,
            passed,
            warning: false,
            message,
        });
    }

    /// A check that passes but says what stays unproven.
    pub(crate) fn warn(&mut self, name: CheckName, message: String) {
        self.checks.push(Check {
            name,
            passed: true,
            warning: true,
            message,
        });
    }

    pub fn warnings(&self) -> Vec<CheckName> {
        self.checks
            .iter()
            .filter(|c| c.warning)
            .map(|c| c.name)
            .collect()
    }
}

impl fmt::Display for BundleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            let verdict = match (check.passed, check.warning) {
                (false, _) => "FAIL",
                (true, true) => "WARN",
                (true, false) => "PASS",
            };
            writeln!(f, "{verdict}  {}: {}", check.name, check.message)?;
        }
        let failed = self.failed().len();
        let warnings = match self.warnings().len() {
            0 => String::new(),
            n => format!(" ({n} with a warning)"),
        };
        match failed {
            0 => write!(
                f,
                "VERIFIED: all {} checks passed{warnings}",
                self.checks.len()
            ),
            n => write!(f, "FAILED: {n} of {} checks failed", self.checks.len()),
        }
    }
}

pub(crate) fn short(hash: &Hash) -> String {
    hex::encode(&hash[..8])
}

fn parse_csv(csv_bytes: &[u8]) -> Result<(StringRecord, Vec<StringRecord>), String> {
    let mut reader = csv::Reader::from_reader(csv_bytes);
    let header = reader
        .headers()
        .map_err(|e| format!("unreadable CSV header: {e}"))?
        .clone();
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("unreadable CSV: {e}"))?;
    Ok((header, rows))
}

/// Verifies `bundle` and its CSV offline against the deployment's verifier key. `rebuild_leaf`
/// recomputes the leaf hash of one CSV row (row, header). Every check runs; none stops the
/// others.
pub fn verify_bundle<E: fmt::Display>(
    csv_bytes: &[u8],
    bundle: &ExportBundle,
    trusted_vkey: &str,
    rebuild_leaf: impl Fn(&StringRecord, &StringRecord) -> Result<Hash, E>,
) -> BundleReport {
    let manifest = &bundle.manifest;
    let mut report = BundleReport { checks: Vec::new() };
    report.push(
        CheckName::Format,
        match (manifest.format.as_str(), &manifest.completeness) {
            (BUNDLE_FORMAT, Some(_)) | (BUNDLE_FORMAT_V1, None) => Ok(manifest.format.clone()),
            (BUNDLE_FORMAT, None) => Err(format!("a {BUNDLE_FORMAT} manifest has no completeness")),
            (BUNDLE_FORMAT_V1, Some(_)) => Err(format!(
                "a {BUNDLE_FORMAT_V1} manifest has a completeness section"
            )),
            (other, _) => Err(format!("unknown format {other:?}")),
        },
    );
    let signed = manifest_bytes(manifest).ok().is_some_and(|bytes| {
        BASE64_STANDARD
            .decode(&bundle.manifest_signature)
            .is_ok_and(|sig| verify_raw(trusted_vkey, &bytes, &sig))
    });
    report.push(
        CheckName::ManifestSignature,
        match signed {
            true => Ok(format!("signed by {trusted_vkey}")),
            false => Err("the manifest is not signed by the trusted key".into()),
        },
    );
    let actual = csv_sha256_hex(csv_bytes);
    report.push(
        CheckName::CsvSha256,
        match actual == manifest.csv_sha256 {
            true => Ok(actual),
            false => Err(format!(
                "the CSV hashes to {actual}; the manifest lists {}",
                manifest.csv_sha256
            )),
        },
    );
    let checkpoint = open_checkpoint(&manifest.checkpoint, trusted_vkey);
    report.push(
        CheckName::CheckpointSignature,
        match &checkpoint {
            Ok(c) => Ok(format!("{} at size {}", c.origin, c.size)),
            Err(e) => Err(e.to_string()),
        },
    );
    let origin = checkpoint
        .as_ref()
        .ok()
        .map(|c| c.origin.clone())
        .or_else(|| parse_unverified(&manifest.checkpoint).map(|c| c.origin));
    report.push(
        CheckName::CheckpointOrigin,
        match origin {
            Some(o) if o.rsplit('/').next() == Some(manifest.organization_id.as_str()) => {
                Ok(format!("{o} is the log of {}", manifest.organization_id))
            }
            Some(o) => Err(format!(
                "{o} is not the log of {}",
                manifest.organization_id
            )),
            None => Err("the checkpoint cannot be parsed".into()),
        },
    );
    let parsed = parse_csv(csv_bytes);
    let rows = parsed.as_ref().map(|(_, rows)| rows.len());
    report.push(
        CheckName::RowCount,
        match rows {
            Ok(n) if n as u64 == manifest.row_count && n == manifest.leaves.len() => {
                Ok(format!("{n} rows"))
            }
            Ok(n) => Err(format!(
                "the CSV has {n} rows; the manifest says {} and lists {} leaves",
                manifest.row_count,
                manifest.leaves.len()
            )),
            Err(e) => Err(e.clone()),
        },
    );
    report.push(
        CheckName::RowLeaves,
        match &parsed {
            Ok((header, rows)) => check_rows(header, rows, &manifest.leaves, rebuild_leaf),
            Err(e) => Err(e.clone()),
        },
    );
    let mut seen = HashSet::with_capacity(manifest.leaves.len());
    let duplicate = manifest.leaves.iter().find(|l| !seen.insert(l.sequence));
    report.push(
        CheckName::Sequences,
        match duplicate {
            None => Ok(format!("{} distinct sequence numbers", seen.len())),
            Some(l) => Err(format!("sequence {} is listed twice", l.sequence)),
        },
    );
    report.push(
        CheckName::Inclusion,
        match &checkpoint {
            Ok(head) if head.size != manifest.proof.tree_size => Err(format!(
                "the proof is for size {}; the checkpoint is at size {}",
                manifest.proof.tree_size, head.size
            )),
            Ok(head) => {
                let mut pairs: Vec<(u64, Hash)> = manifest
                    .leaves
                    .iter()
                    .map(|l| (l.sequence, l.leaf_hash))
                    .collect();
                let omitted = manifest
                    .completeness
                    .iter()
                    .flat_map(Completeness::omitted_leaves);
                pairs.extend(omitted);
                let omitted = pairs.len() - manifest.leaves.len();
                match manifest.proof.root(&pairs) {
                    Ok(root) if root == head.root => Ok(format!(
                        "{} row leaves and {omitted} omitted events' leaves proven by {} proof \
                         nodes",
                        manifest.leaves.len(),
                        manifest.proof.nodes.len()
                    )),
                    Ok(root) => Err(format!(
                        "the leaves and proof lead to root {}…, not the checkpoint root {}…",
                        short(&root),
                        short(&head.root)
                    )),
                    Err(e) => Err(e),
                }
            }
            Err(_) => Err("not established: the checkpoint does not verify".into()),
        },
    );
    check_completeness(manifest, &mut report);
    report
}

fn check_rows<E: fmt::Display>(
    header: &StringRecord,
    rows: &[StringRecord],
    leaves: &[BundleLeaf],
    rebuild_leaf: impl Fn(&StringRecord, &StringRecord) -> Result<Hash, E>,
) -> Result<String, String> {
    const SHOWN: usize = 5;
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let problem = match (rebuild_leaf(row, header), leaves.get(i)) {
            (Err(e), _) => format!("row {}: {e}", i + 1),
            (Ok(_), None) => format!("row {}: no leaf is listed for it", i + 1),
            (Ok(leaf), Some(listed)) if leaf != listed.leaf_hash => format!(
                "row {}: its leaf {}… is not the listed leaf {}… (sequence {})",
                i + 1,
                short(&leaf),
                short(&listed.leaf_hash),
                listed.sequence
            ),
            (Ok(_), Some(_)) => continue,
        };
        problems.push(problem);
    }
    if leaves.len() > rows.len() {
        problems.push(format!(
            "{} listed leaves have no row",
            leaves.len() - rows.len()
        ));
    }
    if problems.is_empty() {
        return Ok(format!("{} rows match their listed leaves", rows.len()));
    }
    let more = problems.len().saturating_sub(SHOWN);
    problems.truncate(SHOWN);
    let mut message = problems.join("; ");
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    Err(message)
}

/// [`verify_bundle`] with auditlog's own row rebuild ([`CsvLayout`]), using the manifest's
/// organization id and formula-protection flag (both covered by the manifest signature).
pub fn verify_bundle_csv(
    csv_bytes: &[u8],
    bundle: &ExportBundle,
    trusted_vkey: &str,
) -> BundleReport {
    let layout: OnceCell<Result<CsvLayout, CsvLeafError>> = OnceCell::new();
    let manifest = &bundle.manifest;
    verify_bundle(csv_bytes, bundle, trusted_vkey, |row, header| match layout
        .get_or_init(|| CsvLayout::from_header(header))
    {
        Ok(layout) => layout.leaf(
            row,
            &manifest.organization_id,
            manifest.csv_formula_protection,
        ),
        Err(e) => Err(e.clone()),
    })
}
