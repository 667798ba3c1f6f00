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
    /// Most client connections served at once; beyond them a small reserve answers only
    /// `GET /health` (others get 503 + Retry-After) and further connections are closed.
    #[arg(long, env = "AUDITLOG_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's line and headers; a keep-alive connection
    /// waiting for its next request is closed after the same time.
    #[arg(long, env = "AUDITLOG_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a whole request body after its headers (JSON 408 after).
    #[arg(long, env = "AUDITLOG_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS)]
    pub body_timeout_secs: u64,
    /// Seconds without a byte moving either way after which a connection is closed.
    #[arg(long, env = "AUDITLOG_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: u64,
    /// Events waiting for the writer before ingest answers 503 with Retry-After.
    #[arg(long, env = "AUDITLOG_INGEST_QUEUE", default_value_t = 10_000)]
    pub ingest_queue: usize,
    /// Most events written in one group commit.
    #[arg(long, env = "AUDITLOG_INGEST_BATCH", default_value_t = 512)]
    pub ingest_batch: usize,
    /// Memory for compiled action schemas, in MiB (an estimate: least recently used leave first).
    #[arg(long, env = "AUDITLOG_SCHEMA_CACHE_MB", default_value_t = DEFAULT_SCHEMA_CACHE_MB)]
    pub schema_cache_mb: u64,
    /// Reject events whose action has no schema, as WorkOS does (default: accept them).
    #[arg(long, env = "AUDITLOG_REQUIRE_SCHEMAS")]
    pub require_schemas: bool,
    /// Secret for signing download links of local export files (default: a random secret
    /// generated once and kept in the data dir). Give the same value to every node.
    #[arg(long, env = "AUDITLOG_DOWNLOAD_SECRET", hide_env_values = true)]
    pub download_secret: Option<String>,
    /// How long a download link stays valid after the GET that issued it, in seconds.
    #[arg(long, env = "AUDITLOG_DOWNLOAD_LINK_TTL_SECS", default_value_t = 600)]
    pub download_link_ttl_secs: i64,
    /// How long export files are kept before they are deleted and the export is `expired`.
    #[arg(long, env = "AUDITLOG_EXPORT_FILE_TTL_SECS", default_value_t = 7 * 24 * 3600)]
    pub export_file_ttl_secs: i64,
    /// Exports produced at the same time on this node.
    #[arg(long, env = "AUDITLOG_EXPORT_CONCURRENCY", default_value_t = 2)]
    pub export_concurrency: usize,
    /// Events read per page while writing an export.
    #[arg(long, env = "AUDITLOG_EXPORT_PAGE_ROWS", default_value_t = 5000)]
    pub export_page_rows: i64,
    /// Prefix spreadsheet-formula-looking CSV cells with `'` (see README).
    #[arg(long, env = "AUDITLOG_CSV_FORMULA_PROTECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub csv_formula_protection: bool,
    /// How often background maintenance (file expiry, key purges) runs, in seconds.
    #[arg(long, env = "AUDITLOG_MAINTENANCE_INTERVAL_SECS", default_value_t = 60)]
    pub maintenance_interval_secs: u64,
    /// How long a node holds a job before it must renew its lease, in seconds.
    #[arg(long, env = "AUDITLOG_JOB_LEASE_SECS", default_value_t = 30)]
    pub job_lease_secs: i64,
    /// How often the retention sweeper runs, in seconds (its first run is one interval after start).
    #[arg(
        long,
        env = "AUDITLOG_RETENTION_SWEEP_INTERVAL_SECS",
        default_value_t = 3600
    )]
    pub retention_sweep_interval_secs: u64,
    /// Events redacted per sweeper transaction (small batches keep ingest flowing).
    #[arg(long, env = "AUDITLOG_RETENTION_BATCH", default_value_t = 1000)]
    pub retention_batch: i64,
    /// Record reads of events, export creations and downloads in a meta-audit trail.
    #[arg(long, env = "AUDITLOG_META_AUDIT", default_value_t = true, action = clap::ArgAction::Set)]
    pub meta_audit: bool,
    /// Name of this deployment: the signed-note key name of its verifier key, and the first part
    /// of every organization log's origin (`NAME/org_…`). No spaces or `+`.
    #[arg(long, env = "AUDITLOG_DEPLOYMENT_NAME", default_value = "auditlog")]
    pub deployment_name: String,
    /// Ed25519 seed (64 hex digits) that signs checkpoints and export manifests (default: one
    /// generated once and kept in the database, shared by every node).
    #[arg(long, env = "AUDITLOG_LOG_SIGNING_KEY", hide_env_values = true)]
    pub log_signing_key: Option<String>,
    /// How often the tamper-evidence log builder appends new events and signs a checkpoint;
    /// 0 turns background building off on this node (trees then grow on demand only).
    #[arg(long, env = "AUDITLOG_LOG_INTERVAL_SECS", default_value_t = 5)]
    pub log_interval_secs: u64,
    /// Retention of organizations that have none set, in days.
    #[arg(long, env = "AUDITLOG_DEFAULT_RETENTION_DAYS", default_value_t = 365)]
    pub default_retention_days: i64,
}

pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_SCHEMA_CACHE_MB: u64 = 64;
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;

impl Config {
    /// The connection limits of the listener.
    pub fn connection_limits(&self) -> crate::listen::Limits {
        use std::time::Duration;
        crate::listen::Limits {
            max_connections: self.max_connections.max(1),
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
        }
    }

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
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            ingest_queue: 10_000,
            ingest_batch: 512,
            default_retention_days: 365,
            require_schemas: false,
            schema_cache_mb: DEFAULT_SCHEMA_CACHE_MB,
            download_secret: None,
            download_link_ttl_secs: 600,
            export_file_ttl_secs: 7 * 24 * 3600,
            export_concurrency: 2,
            export_page_rows: 5000,
            csv_formula_protection: true,
            maintenance_interval_secs: 60,
            job_lease_secs: 30,
            retention_sweep_interval_secs: 3600,
            retention_batch: 1000,
            deployment_name: "auditlog".into(),
            log_signing_key: None,
            log_interval_secs: 5,
            meta_audit: true,
        }
    }
}
