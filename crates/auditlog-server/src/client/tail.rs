//! `auditlog tail`: an organization's events in sequence order, from a position, and with
//! `--follow` as they arrive. The read API's tail mode (`after_sequence`) is gap-free: each
//! event is printed once, in order, whatever commits meanwhile.

use super::{Client, ClientError, Connection, Format};
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  auditlog tail --org org_01EHZNVPK3SFK441A1RGBFSHRT
  auditlog tail --org org_01EHZNVPK3SFK441A1RGBFSHRT --follow --format json | jq .action
  auditlog tail --org org_01EHZNVPK3SFK441A1RGBFSHRT --from 1000")]
pub struct TailArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The organization whose events to print.
    #[arg(long)]
    pub org: String,
    /// Start after this sequence number (`-1`, the default: from the first event).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub from: i64,
    /// Keep waiting for new events (until interrupted).
    #[arg(long)]
    pub follow: bool,
    /// Seconds between polls while following.
    #[arg(long, default_value_t = 1.0)]
    pub poll_secs: f64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// One event as a table row: sequence, time, action, actor, target types.
fn row(event: &Value) -> String {
    let actor = &event["actor"];
    let actor = match actor["name"].as_str() {
        Some(name) => format!("{} ({name})", actor["id"].as_str().unwrap_or("")),
        None => actor["id"].as_str().unwrap_or("").to_string(),
    };
    let targets: Vec<&str> = event["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|target| target["type"].as_str())
        .collect();
    format!(
        "{:>8}  {}  {:<28}  {:<30}  {}",
        event["sequence"].as_i64().unwrap_or(-1),
        event["occurred_at"].as_str().unwrap_or(""),
        event["action"].as_str().unwrap_or(""),
        actor,
        targets.join(",")
    )
}

pub async fn run(args: &TailArgs) -> Result<(), ClientError> {
    let client = Client::new(&args.connection);
    let mut after = args.from;
    let stdout = std::io::stdout();
    if matches!(args.format, Format::Table) {
        println!(
            "{:>8}  {:<24}  {:<28}  {:<30}  TARGETS",
            "SEQUENCE", "OCCURRED_AT", "ACTION", "ACTOR"
        );
    }
    loop {
        let query = [
            ("organization_id", args.org.clone()),
            ("after_sequence", after.to_string()),
            ("limit", "100".to_string()),
        ];
        let page = client.get("/audit_logs/events", &query).await?;
        let events = page["data"].as_array().cloned().unwrap_or_default();
        let mut out = stdout.lock();
        for event in &events {
            let line = match args.format {
                Format::Json => event.to_string(),
                Format::Table => row(event),
            };
            // A closed pipe (`| head`) ends the command quietly.
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
        }
        let _ = out.flush();
        after = page["list_metadata"]["last_sequence"]
            .as_i64()
            .unwrap_or(after);
        if events.is_empty() {
            if !args.follow {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs_f64(args.poll_secs.max(0.05))).await;
        }
    }
}
