//! Server configuration: every flag has an `AUDITLOG_*` environment variable.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "AUDITLOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the embedded database and local export files.
    #[arg(long, env = "AUDITLOG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL; unset means SQLite in the data dir (`sqlite://PATH` names another file).
    #[arg(long, env = "AUDITLOG_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Blob store URL for export files; unset means files under the data dir.
    #[arg(long, env = "AUDITLOG_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Public base URL of this server, used in download links (default: http://LISTEN).
    #[arg(long, env = "AUDITLOG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated `sk_…` keys to accept for the default environment.
    #[arg(
        long,
        env = "AUDITLOG_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "AUDITLOG_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Events waiting for the writer before ingest answers 503 with Retry-After.
    #[arg(long, env = "AUDITLOG_INGEST_QUEUE", default_value_t = 10_000)]
    pub ingest_queue: usize,
    /// Most events written in one group commit.
    #[arg(long, env = "AUDITLOG_INGEST_BATCH", default_value_t = 512)]
    pub ingest_batch: usize,
    /// Reject events whose action has no schema, as WorkOS does (default: accept them).
    #[arg(long, env = "AUDITLOG_REQUIRE_SCHEMAS")]
    pub require_schemas: bool,
    /// Retention reported for organizations that have none set, in days.
    #[arg(long, env = "AUDITLOG_DEFAULT_RETENTION_DAYS", default_value_t = 365)]
    pub default_retention_days: i64,
}

impl Config {
    /// A configuration with every default, for tests and embedding.
    pub fn with_data_dir(data_dir: PathBuf) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("static address parses"),
            data_dir,
            database_url: None,
            blob_url: None,
            public_url: None,
            api_keys: Vec::new(),
            max_body_bytes: 1024 * 1024,
            ingest_queue: 10_000,
            ingest_batch: 512,
            default_retention_days: 365,
            require_schemas: false,
        }
    }
}
