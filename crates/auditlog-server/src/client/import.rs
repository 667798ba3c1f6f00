//! `auditlog import`: bulk-loads events into an organization from NDJSON or from an export CSV
//! (this server's or WorkOS's format), for teams moving their trail here.
//!
//! Each event is sent with an `Idempotency-Key` derived from the organization and the file's
//! content (the source event's id where the row has one, else the row's or line's bytes), so a
//! re-run within the server's 24-hour key window stores nothing twice and reports those events
//! as already imported. Rows
//! the file or the server refuses are listed with their line and reason; the others go on.

use super::workos_csv::WorkosCsv;
use super::{Client, ClientError, Connection};
use auditlog_tlog::CsvLayout;
use futures::stream::{self, StreamExt};
use indicatif::ProgressBar;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Requests in flight at once.
const CONCURRENCY: usize = 8;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportFormat {
    /// From the file name: `.csv` is CSV, anything else NDJSON.
    Auto,
    /// One JSON object per line: a create-event body (`{"event":{…}}`) or a bare event.
    Ndjson,
    /// An export CSV (header row, one event per row).
    Csv,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  auditlog import --org org_01EHZNVPK3SFK441A1RGBFSHRT workos-export.csv
  auditlog import --org org_01EHZNVPK3SFK441A1RGBFSHRT events.ndjson")]
pub struct ImportArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The organization the events go to.
    #[arg(long)]
    pub org: String,
    /// The file to load.
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = ImportFormat::Auto)]
    pub format: ImportFormat,
    /// The CSV's cells were not formula-protected (`--csv-formula-protection false` exports).
    #[arg(long)]
    pub unprotected_csv: bool,
}

/// One event to send, or why the file's row cannot be one.
struct Row {
    line: usize,
    body: Result<(Value, String), String>,
}

fn rows(args: &ImportArgs) -> Result<Vec<Row>, ClientError> {
    let local = |error: String| ClientError::Local(format!("{}: {error}", args.file.display()));
    let csv = match args.format {
        ImportFormat::Csv => true,
        ImportFormat::Ndjson => false,
        ImportFormat::Auto => args
            .file
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("csv")),
    };
    if csv {
        let mut reader = csv::Reader::from_path(&args.file).map_err(|e| local(e.to_string()))?;
        let header = reader.headers().map_err(|e| local(e.to_string()))?.clone();
        let records = reader.records().enumerate().map(|(index, record)| {
            // The header is line 1.
            (index + 2, record.map_err(|e| e.to_string()))
        });
        return match CsvLayout::from_header(&header) {
            Ok(layout) => Ok(records
                .map(|(line, record)| Row {
                    line,
                    body: record.and_then(|record| own_export_row(args, &layout, &record)),
                })
                .collect()),
            Err(_) => {
                let layout = WorkosCsv::from_header(&header).map_err(local)?;
                Ok(records
                    .map(|(line, record)| Row {
                        line,
                        body: record.and_then(|record| {
                            let source = match layout.source_id(&record) {
                                Some(id) => id.as_bytes().to_vec(),
                                None => record.iter().collect::<Vec<_>>().join("\u{1f}").into(),
                            };
                            let key = import_key(&args.org, &source);
                            layout
                                .event(&record)
                                .map(|event| (body(&args.org, event), key))
                        }),
                    })
                    .collect())
            }
        };
    }
    let text = std::fs::read_to_string(&args.file).map_err(|e| local(e.to_string()))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let key = import_key(&args.org, line.as_bytes());
            let body = serde_json::from_str::<Value>(line)
                .map_err(|e| format!("not JSON: {e}"))
                .map(|value| match value.get("event") {
                    Some(event) => (body(&args.org, event.clone()), key.clone()),
                    None => (body(&args.org, value), key.clone()),
                });
            Row {
                line: index + 1,
                body,
            }
        })
        .collect())
}

fn body(organization_id: &str, event: Value) -> Value {
    json!({"organization_id": organization_id, "event": event})
}

/// The idempotency key of one source event in one organization: the same file imported into
/// two organizations must store it in both, and re-imported into one, once. `source` is the
/// source event's id, or its bytes in the file when it has none.
fn import_key(organization_id: &str, source: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(organization_id.as_bytes());
    hash.update([0]);
    hash.update(source);
    format!("import-{}", hex::encode(&hash.finalize()[..16]))
}

/// A row of this server's own export: every canonical field, the source id among them.
fn own_export_row(
    args: &ImportArgs,
    layout: &CsvLayout,
    record: &csv::StringRecord,
) -> Result<(Value, String), String> {
    let mut event = layout
        .canonical_value(record, &args.org, !args.unprotected_csv)
        .map_err(|e| e.to_string())?;
    let source_id = event["id"].as_str().unwrap_or_default();
    let key = import_key(&args.org, source_id.as_bytes());
    if let Some(object) = event.as_object_mut() {
        for stored_only in ["v", "id", "organization_id"] {
            object.remove(stored_only);
        }
    }
    Ok((body(&args.org, event), key))
}

pub async fn run(args: &ImportArgs) -> Result<(), ClientError> {
    let rows = rows(args)?;
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        ProgressBar::new(rows.len() as u64)
    } else {
        eprintln!(
            "importing {} events from {}",
            rows.len(),
            args.file.display()
        );
        ProgressBar::hidden()
    };
    let client = Client::new(&args.connection);
    let outcomes: Vec<(usize, Result<bool, String>)> = stream::iter(rows)
        .map(|row| {
            let client = &client;
            let bar = &bar;
            async move {
                let outcome = match row.body {
                    Err(reason) => Err(reason),
                    Ok((body, key)) => client
                        .post_keyed("/audit_logs/events", &body, &key)
                        .await
                        .map_err(|error| error.to_string()),
                };
                bar.inc(1);
                (row.line, outcome)
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    bar.finish_and_clear();
    let imported = outcomes.iter().filter(|(_, o)| o == &Ok(false)).count();
    let already = outcomes.iter().filter(|(_, o)| o == &Ok(true)).count();
    let refused: Vec<_> = outcomes
        .iter()
        .filter_map(|(line, outcome)| outcome.as_ref().err().map(|reason| (line, reason)))
        .collect();
    println!(
        "imported {imported}, already imported {already}, refused {}",
        refused.len()
    );
    for (line, reason) in &refused {
        println!("  line {line}: {reason}");
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ClientError::Refused(
            422,
            format!("{} rows were refused (listed above)", refused.len()),
        ))
    }
}
