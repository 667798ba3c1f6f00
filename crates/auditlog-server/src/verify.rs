//! `auditlog verify`: offline checks, no server needed.
//!
//! - `--bundle B.json --csv F.csv --key VKEY`: an export bundle and its CSV (manifest signature,
//!   CSV SHA-256, checkpoint signature and origin, row count, every row's leaf recomputed from
//!   the CSV, sequence numbers, inclusion of every leaf in the checkpoint's tree) and, for a v2
//!   bundle, completeness (every sequence of the rows' span exported or omitted once, omitted
//!   events' leaves, no omitted event selected by the export's filters, redacted omissions).
//! - `--old-checkpoint OLD --new-checkpoint NEW --consistency-proof P.json --key VKEY`: that a
//!   newer checkpoint extends one saved earlier (both signatures, same log, sizes, the RFC 9162
//!   consistency proof).
//!
//! Every check runs and is reported by name, pass or fail; a passing check may carry a warning
//! (WARN: something the bundle does not prove, such as completeness of a v1 bundle, or omitted
//! events redacted by retention), which does not fail verification. `--json` prints the same.
//! Exit status: 0 when every check passed, 1 when one failed, 2 when the input is unusable.

use auditlog_tlog::cosignature::{check_cosignatures, CosignatureStatus, WitnessPolicy};
use auditlog_tlog::{
    open_checkpoint, verify_bundle_csv, verify_consistency, BundleReport, Checkpoint, ExportBundle,
    Hash,
};
use base64::prelude::{Engine, BASE64_STANDARD};
use clap::{ArgGroup, Args};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["bundle", "old_checkpoint"])))]
pub struct VerifyArgs {
    /// An export bundle (`GET /audit_logs/exports/{id}/bundle`).
    #[arg(long, requires = "csv")]
    pub bundle: Option<PathBuf>,
    /// The export's CSV file, as downloaded.
    #[arg(long, requires = "bundle")]
    pub csv: Option<PathBuf>,
    /// A checkpoint saved earlier (the note text, or the JSON of `GET …/checkpoint`).
    #[arg(long, requires_all = ["new_checkpoint", "consistency_proof"])]
    pub old_checkpoint: Option<PathBuf>,
    /// A newer checkpoint of the same log.
    #[arg(long, requires = "old_checkpoint")]
    pub new_checkpoint: Option<PathBuf>,
    /// The JSON of `GET /audit_logs/log/{organization_id}/consistency_proof?first=OLD&second=NEW`.
    #[arg(long, requires = "old_checkpoint")]
    pub consistency_proof: Option<PathBuf>,
    /// The deployment's verifier key (`GET /.well-known/auditlog/log-key`): a file holding it,
    /// or the key itself.
    #[arg(long)]
    pub key: String,
    /// A witness policy (JSON, as `GET /.well-known/auditlog/witnesses` publishes it, or one of
    /// your own): the checkpoint (the bundle's, or the new one) must carry at least `quorum`
    /// valid cosignatures of its witnesses.
    #[arg(long)]
    pub witness_policy: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One named check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable, machine-readable (`snake_case`).
    pub name: String,
    /// For people.
    pub title: String,
    pub passed: bool,
    /// Passed, but names something that stays unproven.
    pub warning: bool,
    pub message: String,
}

/// What `auditlog verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verified: bool,
    pub checks: Vec<Check>,
}

impl Report {
    fn new(checks: Vec<Check>) -> Report {
        Report {
            verified: checks.iter().all(|c| c.passed),
            checks,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            let verdict = match (check.passed, check.warning) {
                (false, _) => "FAIL",
                (true, true) => "WARN",
                (true, false) => "PASS",
            };
            writeln!(f, "{verdict}  {}: {}", check.title, check.message)?;
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        let warnings = match self.checks.iter().filter(|c| c.warning).count() {
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

fn check(name: &str, title: &str, result: Result<String, String>) -> Check {
    let (passed, message) = match result {
        Ok(message) => (true, message),
        Err(message) => (false, message),
    };
    Check {
        name: name.into(),
        title: title.into(),
        passed,
        warning: false,
        message,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    String::from_utf8(read(path)?).map_err(|_| format!("{} is not UTF-8", path.display()))
}

/// The verifier key: the content of the file `key` names, or `key` itself.
pub(crate) fn verifier_key(key: &str) -> Result<String, String> {
    let path = Path::new(key);
    let text = match path.is_file() {
        true => read_text(path)?,
        false => key.to_string(),
    };
    Ok(text.trim().to_string())
}

/// A checkpoint note from a file: the note itself, or a JSON object with a `checkpoint` note.
fn checkpoint_note(path: &Path) -> Result<String, String> {
    let text = read_text(path)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => value["checkpoint"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{} has no \"checkpoint\" note", path.display())),
        Err(_) => Ok(text),
    }
}

/// Checks a bundle and its CSV.
pub fn verify_bundle_files(bundle: &Path, csv: &Path, key: &str) -> Result<Report, String> {
    let vkey = verifier_key(key)?;
    let bundle = ExportBundle::from_json(&read(bundle)?)
        .map_err(|e| format!("{} is not an export bundle: {e}", bundle.display()))?;
    let csv = read(csv)?;
    Ok(from_bundle_report(verify_bundle_csv(&csv, &bundle, &vkey)))
}

fn from_bundle_report(report: BundleReport) -> Report {
    let checks = report
        .checks
        .into_iter()
        .map(|c| Check {
            name: serde_json::to_value(c.name)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            title: c.name.to_string(),
            passed: c.passed,
            warning: c.warning,
            message: c.message,
        })
        .collect();
    Report::new(checks)
}

fn describe(checkpoint: &Checkpoint) -> String {
    format!("{} at size {}", checkpoint.origin, checkpoint.size)
}

/// The proof of a consistency-proof JSON: (first size, second size, hashes).
fn parse_proof(value: &Value) -> Result<(u64, u64, Vec<Hash>), String> {
    let size = |name: &str| {
        value[name]
            .as_u64()
            .ok_or_else(|| format!("the proof has no {name}"))
    };
    let hashes = value["proof"]
        .as_array()
        .ok_or("the proof has no \"proof\" list")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|h| BASE64_STANDARD.decode(h).ok())
                .and_then(|h| Hash::try_from(h).ok())
                .ok_or_else(|| "a proof hash is not 32 bytes of base64".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((size("first_tree_size")?, size("second_tree_size")?, hashes))
}

/// Checks that `new` extends `old`.
pub fn verify_consistency_files(
    old: &Path,
    new: &Path,
    proof: &Path,
    key: &str,
) -> Result<Report, String> {
    let vkey = verifier_key(key)?;
    let proof: Value = serde_json::from_slice(&read(proof)?)
        .map_err(|e| format!("{} is not JSON: {e}", proof.display()))?;
    let old = open_checkpoint(&checkpoint_note(old)?, &vkey).map_err(|e| e.to_string());
    let new = open_checkpoint(&checkpoint_note(new)?, &vkey).map_err(|e| e.to_string());
    let mut checks = vec![
        check(
            "old_checkpoint_signature",
            "old checkpoint signature",
            old.as_ref().map(describe).map_err(Clone::clone),
        ),
        check(
            "new_checkpoint_signature",
            "new checkpoint signature",
            new.as_ref().map(describe).map_err(Clone::clone),
        ),
    ];
    let (Ok(old), Ok(new)) = (old, new) else {
        checks.push(check(
            "consistency",
            "consistency",
            Err("not established: a checkpoint does not verify".into()),
        ));
        return Ok(Report::new(checks));
    };
    checks.push(check(
        "same_log",
        "same log",
        match old.origin == new.origin {
            true => Ok(old.origin.clone()),
            false => Err(format!(
                "{} and {} are different logs",
                old.origin, new.origin
            )),
        },
    ));
    let parsed = parse_proof(&proof);
    checks.push(check(
        "tree_sizes",
        "tree sizes",
        match &parsed {
            Ok((first, second, _)) if (*first, *second) != (old.size, new.size) => Err(format!(
                "the proof is for sizes {first} → {second}; the checkpoints are at {} → {}",
                old.size, new.size
            )),
            Ok(_) if old.size > new.size => Err(format!(
                "the new checkpoint ({}) is smaller than the old one ({})",
                new.size, old.size
            )),
            Ok(_) => Ok(format!("{} → {}", old.size, new.size)),
            Err(e) => Err(e.clone()),
        },
    ));
    checks.push(check(
        "consistency",
        "consistency",
        match &parsed {
            Ok((_, _, hashes)) => {
                match verify_consistency(old.size, new.size, old.root, new.root, hashes) {
                    true => Ok(format!(
                        "the tree of {} leaves is a prefix of the tree of {} ({} proof hashes)",
                        old.size,
                        new.size,
                        hashes.len()
                    )),
                    false => Err(format!(
                        "the new checkpoint does not extend the old one: the log at size {} is \
                         not a continuation of the log at size {}",
                        new.size, old.size
                    )),
                }
            }
            Err(e) => Err(format!("not established: {e}")),
        },
    ));
    Ok(Report::new(checks))
}

/// Adds the `witness_cosignatures` check of the checkpoint a verification rests on: the
/// bundle's, or the newer of two.
fn with_witness_check(report: Report, args: &VerifyArgs, policy: &Path) -> Result<Report, String> {
    let policy: WitnessPolicy = serde_json::from_slice(&read(policy)?)
        .map_err(|e| format!("{} is not a witness policy: {e}", policy.display()))?;
    let note = match (&args.bundle, &args.new_checkpoint) {
        (Some(bundle), _) => {
            ExportBundle::from_json(&read(bundle)?)
                .map_err(|e| format!("{} is not an export bundle: {e}", bundle.display()))?
                .manifest
                .checkpoint
        }
        (None, Some(new)) => checkpoint_note(new)?,
        (None, None) => return Ok(report),
    };
    let mut checks = report.checks;
    checks.push(check(
        "witness_cosignatures",
        "witness cosignatures",
        witness_result(&note, &policy),
    ));
    Ok(Report::new(checks))
}

fn witness_result(note: &str, policy: &WitnessPolicy) -> Result<String, String> {
    let report = check_cosignatures(note, policy).map_err(|e| e.to_string())?;
    let named = |wanted: fn(&CosignatureStatus) -> bool| {
        report
            .witnesses
            .iter()
            .filter(|(_, status)| wanted(status))
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = format!(
        "{} of {} witnesses cosigned (the policy needs {})",
        report.valid_count(),
        report.witnesses.len(),
        report.quorum
    );
    let invalid = named(|s| matches!(s, CosignatureStatus::Invalid));
    if !invalid.is_empty() {
        return Err(format!("{summary}; invalid cosignature from {invalid}"));
    }
    if !report.satisfied() {
        let missing = named(|s| matches!(s, CosignatureStatus::Missing));
        return Err(format!("{summary}; missing: {missing}"));
    }
    Ok(format!(
        "{summary}: {}",
        named(|s| matches!(s, CosignatureStatus::Valid { .. }))
    ))
}

/// Runs the command; returns the process exit status.
pub fn run(args: &VerifyArgs) -> i32 {
    let report = match (&args.bundle, &args.csv, &args.old_checkpoint) {
        (Some(bundle), Some(csv), _) => verify_bundle_files(bundle, csv, &args.key),
        (None, _, Some(old)) => match (&args.new_checkpoint, &args.consistency_proof) {
            (Some(new), Some(proof)) => verify_consistency_files(old, new, proof, &args.key),
            _ => Err("--old-checkpoint needs --new-checkpoint and --consistency-proof".into()),
        },
        _ => Err("give --bundle and --csv, or --old-checkpoint, --new-checkpoint and --consistency-proof".into()),
    };
    let report = report.and_then(|report| match &args.witness_policy {
        Some(policy) => with_witness_check(report, args, policy),
        None => Ok(report),
    });
    match report {
        Ok(report) => {
            if args.json {
                let text = serde_json::to_string_pretty(&report).unwrap_or_default();
                println!("{text}");
            } else {
                println!("{report}");
            }
            if report.verified {
                0
            } else {
                1
            }
        }
        Err(message) => {
            if args.json {
                println!("{}", json!({"verified": false, "error": message}));
            } else {
                eprintln!("auditlog verify: {message}");
            }
            2
        }
    }
}
