//! The command line as a client of a running server (`export`, `import`, `tail`, `orgs`,
//! `schemas`, `health`): the
//! server's URL and an API key come from `AUDITLOG_URL` and `AUDITLOG_API_KEY` (or flags).
//!
//! Exit codes: 0 done; 1 the server refused the request (its message is printed); 2 the
//! command line was wrong (clap); 3 the server could not be reached; 4 a downloaded export
//! failed verification; 5 a local file could not be written; 6 `monitor` found that the log
//! misbehaved.

pub mod export;
pub mod health;
pub mod import;
pub mod monitor;
pub mod orgs;
pub mod schemas;
pub mod tail;
mod workos_csv;

use serde_json::Value;
use std::time::Duration;

/// Where the server is and the key to use.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The server's base URL.
    #[arg(long, env = "AUDITLOG_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API key of the environment to read or write.
    #[arg(long, env = "AUDITLOG_API_KEY", hide_env_values = true)]
    pub api_key: crate::config::Secret,
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum ClientError {
    /// The server answered with an error (status, its JSON message).
    Refused(u16, String),
    /// The server could not be reached or answered something that is not JSON.
    Unreachable(String),
    /// A downloaded export does not match its signed bundle.
    Unverified(String),
    /// A local file could not be read or written.
    Local(String),
    /// `monitor` found misbehaviour of the log (its report says what).
    Misbehaved(String),
}

impl ClientError {
    /// The process exit status that says what failed.
    pub fn exit_code_number(&self) -> u8 {
        match self {
            ClientError::Refused(..) => 1,
            ClientError::Unreachable(_) => 3,
            ClientError::Unverified(_) => 4,
            ClientError::Local(_) => 5,
            ClientError::Misbehaved(_) => 6,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Refused(status, message) => {
                write!(f, "the server refused the request ({status}): {message}")
            }
            ClientError::Unreachable(message) => write!(f, "cannot reach the server: {message}"),
            ClientError::Unverified(report) => {
                write!(f, "the export failed verification:\n{report}")
            }
            ClientError::Local(message) => write!(f, "local file: {message}"),
            ClientError::Misbehaved(summary) => write!(f, "the log misbehaved: {summary}"),
        }
    }
}

/// A JSON client of one server with one key.
pub struct Client {
    pub(crate) http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    pub fn new(connection: &Connection) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a default HTTP client builds");
        Client {
            http,
            base: connection.url.trim_end_matches('/').to_string(),
            key: connection.api_key.expose().to_string(),
        }
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ClientError> {
        let request = self.http.get(format!("{}{path}", self.base)).query(query);
        self.send(request).await
    }

    /// Every item of a WorkOS list endpoint, page by page (`after` cursors), handed to `each`
    /// as it arrives.
    pub async fn each_item(
        &self,
        path: &str,
        mut each: impl FnMut(&Value),
    ) -> Result<(), ClientError> {
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_string())];
            if let Some(cursor) = &after {
                query.push(("after", cursor.clone()));
            }
            let page = self.get(path, &query).await?;
            page["data"]
                .as_array()
                .into_iter()
                .flatten()
                .for_each(&mut each);
            match page["list_metadata"]["after"].as_str() {
                Some(cursor) => after = Some(cursor.to_string()),
                None => return Ok(()),
            }
        }
    }

    /// POSTs with an `Idempotency-Key`; `Ok(true)` when the answer is a replay of an earlier
    /// request with the same key.
    pub async fn post_keyed(
        &self,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Result<bool, ClientError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .map_err(|error| ClientError::Unreachable(error.to_string()))?;
        let replayed = response.headers().contains_key("idempotent-replayed");
        let status = response.status();
        if status.is_success() {
            return Ok(replayed);
        }
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let message = answer["message"]
            .as_str()
            .unwrap_or("no message")
            .to_string();
        Err(ClientError::Refused(status.as_u16(), message))
    }

    /// A plain-text answer (the log key).
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|error| ClientError::Unreachable(error.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| ClientError::Unreachable(error.to_string()))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(ClientError::Refused(status.as_u16(), text))
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|error| ClientError::Unreachable(error.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| ClientError::Unreachable(format!("not a JSON answer: {error}")))?;
        if status.is_success() {
            Ok(body)
        } else {
            let message = body["message"].as_str().unwrap_or("no message").to_string();
            Err(ClientError::Refused(status.as_u16(), message))
        }
    }
}

/// Output formats of the listing commands.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON object per line, as the API returns it.
    Json,
}
