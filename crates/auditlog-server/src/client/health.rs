//! `auditlog health`: asks a running server whether it is alive (`/health`) or ready
//! (`/ready`), for container health checks and scripts; the exit status is the answer.

use super::ClientError;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  auditlog health                       # liveness of the server at AUDITLOG_URL
  auditlog health --ready --url http://127.0.0.1:8080")]
pub struct HealthArgs {
    /// The server's base URL.
    #[arg(long, env = "AUDITLOG_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Ask `/ready` (the store and blob store answer) instead of `/health` (the process answers).
    #[arg(long)]
    pub ready: bool,
    /// How long to wait for the answer, in seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

pub async fn run(args: &HealthArgs) -> Result<(), ClientError> {
    let path = if args.ready { "ready" } else { "health" };
    let url = format!("{}/{path}", args.url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(args.timeout))
        .send()
        .await
        .map_err(|error| ClientError::Unreachable(error.to_string()))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        println!("{body}");
        Ok(())
    } else {
        Err(ClientError::Refused(status.as_u16(), body))
    }
}
