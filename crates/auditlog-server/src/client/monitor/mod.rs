//! `auditlog monitor`: a customer's or auditor's own check, from their machine, that the server
//! keeps one append-only log of an organization's events. Each round fetches the newest signed
//! checkpoint and holds it to what earlier rounds accepted (kept in `--state-dir`); with
//! `--events` it also re-hashes every event and rebuilds the checkpoint's root. See
//! `docs/monitor.md`.
//!
//! Exit codes: 0 everything checked out; 6 the log misbehaved (a finding); and the client's
//! others: 1 refused, 2 bad command line, 3 unreachable, 5 a local file.

mod checks;
mod events;
mod redactions;
mod remote;
mod report;
mod state;

use super::ClientError;
use auditlog_tlog::cosignature::WitnessPolicy;
use remote::Remote;
use report::Report;
use state::StateDir;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  auditlog monitor --organization org_01EHZNVPK3SFK441A1RGBFSHRT --state-dir ./monitor
  auditlog monitor --organization org_01EHZNVPK3SFK441A1RGBFSHRT --state-dir ./monitor --events --json
  auditlog monitor --organization org_01EHZNVPK3SFK441A1RGBFSHRT --state-dir ./monitor \\
      --portal-link 'https://audit.example.com/portal/launch?secret=…' --follow --interval-secs 300

Exit status: 0 everything checked out, 6 the log misbehaved (fork, rollback, gap, rewrite, \
early redaction, \
key or policy change, missing or invalid cosignatures), 1 the server refused a request, \
3 the server could not be reached, 5 a local file could not be read or written.")]
pub struct MonitorArgs {
    /// The server's base URL (with --portal-link: the link's own).
    #[arg(long, env = "AUDITLOG_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API key of the organization's environment; not needed with --portal-link.
    #[arg(
        long,
        env = "AUDITLOG_API_KEY",
        hide_env_values = true,
        required_unless_present = "portal_link"
    )]
    pub api_key: Option<crate::config::Secret>,
    /// Read through an Admin Portal session instead of an API key: a launch link of
    /// `POST /portal/generate_link` with intent `audit_logs` (it works once, for a few minutes).
    #[arg(long)]
    pub portal_link: Option<String>,
    /// The organization whose log to monitor.
    #[arg(long)]
    pub organization: String,
    /// Where the pinned key and policy, the accepted checkpoints, the evidence of conflicts and
    /// the verified leaves are kept between runs.
    #[arg(long)]
    pub state_dir: PathBuf,
    /// The deployment's verifier key, or a file holding it; default: the server's, pinned on
    /// first use.
    #[arg(long)]
    pub key: Option<String>,
    /// The witness policy (JSON, as `GET /.well-known/auditlog/witnesses` answers); default: the
    /// server's published one, pinned on first use.
    #[arg(long)]
    pub witness_policy: Option<PathBuf>,
    /// Also download every event, re-hash it and rebuild the checkpoint's root (incremental).
    #[arg(long)]
    pub events: bool,
    /// With --events: download every event again, not only the new ones, and hold each to the
    /// leaf verified before.
    #[arg(long, requires = "events")]
    pub full: bool,
    /// Repeat every --interval-secs until interrupted.
    #[arg(long)]
    pub follow: bool,
    #[arg(long, default_value_t = 60, requires = "follow")]
    pub interval_secs: u64,
    /// One JSON report per round (one line each) on stdout.
    #[arg(long)]
    pub json: bool,
}

fn read_policy(path: &Path) -> Result<WitnessPolicy, ClientError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| ClientError::Local(format!("{} is not a witness policy: {e}", path.display())))
}

async fn connect(args: &MonitorArgs) -> Result<Remote, ClientError> {
    match (&args.portal_link, &args.api_key) {
        (Some(link), _) => Remote::with_portal_link(link, &args.organization).await,
        (None, Some(key)) => Ok(Remote::with_api_key(
            &args.url,
            &args.organization,
            key.expose(),
        )),
        (None, None) => Err(ClientError::Local(
            "give --api-key (or AUDITLOG_API_KEY) or --portal-link".into(),
        )),
    }
}

struct Setup<'a> {
    args: &'a MonitorArgs,
    remote: Remote,
    state: StateDir,
    key: Option<String>,
    policy: Option<WitnessPolicy>,
}

async fn round(setup: &Setup<'_>) -> Result<Report, ClientError> {
    let (args, remote, state) = (setup.args, &setup.remote, &setup.state);
    let mut report = Report::new(&args.organization);
    let key = checks::trusted_key(remote, state, setup.key.as_deref(), &mut report).await?;
    let policy = checks::witness_policy(remote, state, setup.policy.as_ref(), &mut report).await?;
    let trust = checks::Trust { key, policy };
    let accepted =
        checks::checkpoint(remote, state, &trust, &args.organization, &mut report).await?;
    if args.events {
        match accepted {
            Some(checkpoint) => {
                let progress = events::Progress {
                    enabled: !args.json || std::io::stderr().is_terminal(),
                };
                events::verify(
                    remote,
                    state,
                    &checkpoint,
                    args.full,
                    &progress,
                    &mut report,
                )
                .await?;
            }
            None => {
                let ok = report.ok;
                report.check(
                    "events",
                    ok,
                    "not checked: no checkpoint accepted this round",
                );
            }
        }
    }
    Ok(report)
}

fn print(report: &Report, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(report).expect("a report serializes")
        );
    } else {
        print!("{}", report.human());
    }
}

pub async fn run(args: &MonitorArgs) -> Result<(), ClientError> {
    let key = match &args.key {
        Some(key) => Some(crate::verify::verifier_key(key).map_err(ClientError::Local)?),
        None => None,
    };
    let policy = args
        .witness_policy
        .as_deref()
        .map(read_policy)
        .transpose()?;
    let setup = Setup {
        args,
        remote: connect(args).await?,
        state: StateDir::open(&args.state_dir)?,
        key,
        policy,
    };
    let mut failed_rounds = 0u64;
    // Following, whether the last round could not run: then nothing was checked lately, and
    // the exit status says why rather than 0.
    let mut last_error = None;
    // One listener for the whole run: a Ctrl-C that arrives between two waits (while a report
    // is printed) is kept for the next wait, where a fresh `ctrl_c()` would miss it and the
    // signal, no longer fatal once tokio handles it, would be lost.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| ClientError::Local(format!("listening for Ctrl-C: {e}")))?;
    loop {
        let outcome = tokio::select! {
            outcome = round(&setup) => Some(outcome),
            _ = interrupt.recv() => None,
        };
        match outcome {
            None => break,
            Some(Ok(report)) => {
                print(&report, args.json);
                failed_rounds += u64::from(!report.ok);
                last_error = None;
            }
            // Following, a server that is down for a while is reported and tried again.
            Some(Err(error @ (ClientError::Unreachable(_) | ClientError::Refused(..))))
                if args.follow =>
            {
                eprintln!(
                    "auditlog monitor: {error}; trying again in {}s",
                    args.interval_secs
                );
                last_error = Some(error);
            }
            Some(Err(error)) => return Err(error),
        }
        if !args.follow {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(args.interval_secs)) => {}
            _ = interrupt.recv() => break,
        }
    }
    if failed_rounds > 0 {
        return Err(ClientError::Misbehaved(format!(
            "{failed_rounds} round(s) found misbehaviour (see the report)"
        )));
    }
    last_error.map_or(Ok(()), Err)
}
