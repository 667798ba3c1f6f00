//! `auditlog export`: creates an export, waits while it is pending, downloads the CSV, and
//! verifies it against its signed bundle and the deployment's key (unless `--no-verify`).
//! Progress goes to stderr: bars on a terminal, plain lines otherwise (CI logs, pipes).

use super::{Client, ClientError, Connection};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  auditlog export --org org_01EHZNVPK3SFK441A1RGBFSHRT -o trail.csv
  auditlog export --org org_01EHZNVPK3SFK441A1RGBFSHRT --from 2026-01-01T00:00:00Z \\
      --to 2026-04-01T00:00:00Z --action user.signed_in -o q1-sign-ins.csv")]
pub struct ExportArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The organization whose events to export.
    #[arg(long)]
    pub org: String,
    /// Inclusive start of the range (RFC 3339); default: the beginning.
    #[arg(long, default_value = "1970-01-01T00:00:00Z")]
    pub from: String,
    /// Exclusive end of the range (RFC 3339); default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// Only these actions (repeatable).
    #[arg(long = "action")]
    pub actions: Vec<String>,
    /// Only these actor ids (repeatable).
    #[arg(long = "actor-id")]
    pub actor_ids: Vec<String>,
    /// Only these actor names (repeatable).
    #[arg(long = "actor-name")]
    pub actor_names: Vec<String>,
    /// Only events with a target of these types (repeatable).
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Where to write the CSV.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Skip checking the file against its signed bundle.
    #[arg(long)]
    pub no_verify: bool,
}

/// Progress on stderr: a bar or spinner on a terminal, else one line per step.
struct Progress {
    terminal: bool,
}

impl Progress {
    fn line(&self, text: &str) {
        if !self.terminal {
            eprintln!("{text}");
        }
    }

    fn spinner(&self, text: &str) -> ProgressBar {
        if !self.terminal {
            eprintln!("{text}");
            return ProgressBar::hidden();
        }
        let spinner = ProgressBar::new_spinner().with_message(text.to_string());
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner
    }

    fn bar(&self, length: Option<u64>) -> ProgressBar {
        if !self.terminal {
            return ProgressBar::hidden();
        }
        match length {
            Some(length) => ProgressBar::new(length).with_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
                    .expect("a valid template"),
            ),
            None => ProgressBar::new_spinner(),
        }
    }
}

pub async fn run(args: &ExportArgs) -> Result<(), ClientError> {
    let progress = Progress {
        terminal: std::io::stderr().is_terminal(),
    };
    let client = Client::new(&args.connection);
    let to = args
        .to
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut body = json!({"organization_id": args.org, "range_start": args.from, "range_end": to});
    for (name, values) in [
        ("actions", &args.actions),
        ("actor_ids", &args.actor_ids),
        ("actor_names", &args.actor_names),
        ("targets", &args.targets),
    ] {
        if !values.is_empty() {
            body[name] = json!(values);
        }
    }
    let created = client.post("/audit_logs/exports", &body).await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/audit_logs/exports/{id}");
    let waiting = progress.spinner(&format!("export {id} created; waiting while it is pending"));
    let started = Instant::now();
    let export = loop {
        let export = client.get(&path, &[]).await?;
        match export["state"].as_str() {
            Some("ready") => break export,
            Some("pending") => tokio::time::sleep(Duration::from_millis(250)).await,
            other => {
                waiting.finish_and_clear();
                return Err(ClientError::Refused(
                    409,
                    format!(
                        "export {id} ended {}",
                        other.unwrap_or("in an unknown state")
                    ),
                ));
            }
        }
    };
    waiting.finish_and_clear();
    progress.line(&format!(
        "export {id} ready after {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let url = export["url"].as_str().unwrap_or_default();
    let bytes = download(&client, url, &args.output, &progress).await?;
    progress.line(&format!(
        "downloaded {bytes} bytes to {}",
        args.output.display()
    ));
    if args.no_verify {
        return Ok(());
    }
    verify(&client, &path, &args.output).await?;
    progress.line("verified: the file matches its signed bundle");
    Ok(())
}

async fn download(
    client: &Client,
    url: &str,
    output: &Path,
    progress: &Progress,
) -> Result<u64, ClientError> {
    // The link authenticates itself; no API key goes to it (it may be a bucket's).
    let response = client
        .http
        .get(url)
        .send()
        .await
        .map_err(|error| ClientError::Unreachable(error.to_string()))?;
    if !response.status().is_success() {
        return Err(ClientError::Refused(
            response.status().as_u16(),
            "the download link was refused".into(),
        ));
    }
    let bar = progress.bar(response.content_length());
    let mut file = std::fs::File::create(output)
        .map_err(|error| ClientError::Local(format!("{}: {error}", output.display())))?;
    let mut response = response;
    let mut written = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| ClientError::Unreachable(error.to_string()))?
    {
        file.write_all(&chunk)
            .map_err(|error| ClientError::Local(format!("{}: {error}", output.display())))?;
        written += chunk.len() as u64;
        bar.set_position(written);
    }
    bar.finish_and_clear();
    Ok(written)
}

async fn verify(client: &Client, export_path: &str, csv: &Path) -> Result<(), ClientError> {
    let bundle: Value = client.get(&format!("{export_path}/bundle"), &[]).await?;
    let key = client.get_text("/.well-known/auditlog/log-key").await?;
    let directory = tempfile::tempdir().map_err(|error| ClientError::Local(error.to_string()))?;
    let bundle_path = directory.path().join("bundle.json");
    std::fs::write(&bundle_path, bundle.to_string())
        .map_err(|error| ClientError::Local(error.to_string()))?;
    let report = crate::verify::verify_bundle_files(&bundle_path, csv, key.trim())
        .map_err(ClientError::Unverified)?;
    if report.verified {
        Ok(())
    } else {
        Err(ClientError::Unverified(report.to_string()))
    }
}
