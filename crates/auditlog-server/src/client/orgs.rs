//! `auditlog orgs list|create`: the organizations of the key's environment.

use super::{Client, ClientError, Connection, Format};
use serde_json::{json, Value};

#[derive(Debug, clap::Subcommand)]
pub enum OrgsCommand {
    /// Every organization, newest first.
    #[command(after_help = "Example:\n  auditlog orgs list --format json")]
    List {
        #[command(flatten)]
        connection: Connection,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Create an organization and print its id.
    #[command(after_help = "Example:\n  auditlog orgs create --name \"Acme\" --external-id acme")]
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        name: String,
        /// Your own id for it (unique in the environment).
        #[arg(long)]
        external_id: Option<String>,
    },
}

pub async fn run(command: &OrgsCommand) -> Result<(), ClientError> {
    match command {
        OrgsCommand::List { connection, format } => {
            let client = Client::new(connection);
            if matches!(format, Format::Table) {
                println!(
                    "{:<32}  {:<24}  {:<24}  NAME",
                    "ID", "CREATED_AT", "EXTERNAL_ID"
                );
            }
            client
                .each_item("/organizations", |organization| match format {
                    Format::Json => println!("{organization}"),
                    Format::Table => println!("{}", row(organization)),
                })
                .await
        }
        OrgsCommand::Create {
            connection,
            name,
            external_id,
        } => {
            let client = Client::new(connection);
            let mut body = json!({"name": name});
            if let Some(external_id) = external_id {
                body["external_id"] = json!(external_id);
            }
            let created = client.post("/organizations", &body).await?;
            println!("{}", created["id"].as_str().unwrap_or_default());
            Ok(())
        }
    }
}

fn row(organization: &Value) -> String {
    format!(
        "{:<32}  {:<24}  {:<24}  {}",
        organization["id"].as_str().unwrap_or(""),
        organization["created_at"].as_str().unwrap_or(""),
        organization["external_id"].as_str().unwrap_or("-"),
        organization["name"].as_str().unwrap_or("")
    )
}
