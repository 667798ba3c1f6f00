//! `auditlog schemas list|push`: the event schemas of the key's environment.

use super::{Client, ClientError, Connection, Format};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum SchemasCommand {
    /// Every action with its latest schema version.
    #[command(after_help = "Example:\n  auditlog schemas list")]
    List {
        #[command(flatten)]
        connection: Connection,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Push a schema (a JSON file: `{"targets":[…],"actor":…,"metadata":…}`) as the action's next
    /// version; an identical schema creates nothing. Prints the version.
    #[command(
        after_help = "Example:\n  auditlog schemas push --action user.signed_in schema.json"
    )]
    Push {
        #[command(flatten)]
        connection: Connection,
        /// The action the schema is for.
        #[arg(long)]
        action: String,
        /// The schema file.
        file: PathBuf,
    },
}

pub async fn run(command: &SchemasCommand) -> Result<(), ClientError> {
    match command {
        SchemasCommand::List { connection, format } => {
            let client = Client::new(connection);
            if matches!(format, Format::Table) {
                println!("{:<40}  {:>7}  UPDATED_AT", "ACTION", "VERSION");
            }
            client
                .each_item("/audit_logs/actions", |action| match format {
                    Format::Json => println!("{action}"),
                    Format::Table => println!(
                        "{:<40}  {:>7}  {}",
                        action["name"].as_str().unwrap_or(""),
                        action["schema"]["version"].as_i64().unwrap_or(0),
                        action["updated_at"].as_str().unwrap_or("")
                    ),
                })
                .await
        }
        SchemasCommand::Push {
            connection,
            action,
            file,
        } => {
            let text = std::fs::read_to_string(file)
                .map_err(|error| ClientError::Local(format!("{}: {error}", file.display())))?;
            let schema: Value = serde_json::from_str(&text).map_err(|error| {
                ClientError::Local(format!("{} is not JSON: {error}", file.display()))
            })?;
            let client = Client::new(connection);
            let path = format!("/audit_logs/actions/{}/schemas", encode_segment(action));
            let created = client.post(&path, &schema).await?;
            println!(
                "{action} version {}",
                created["version"].as_i64().unwrap_or(0)
            );
            Ok(())
        }
    }
}

/// An action name as one path segment.
fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
