//! Server configuration: every flag has an `AUDITLOG_*` environment variable. Defaults live in
//! [`defaults`] and nowhere else: the flags and the `Default` impls (tests, embedding) both read
//! them. Secret values are [`Secret`]s: `--help` never prints them (`hide_env_values`) and
//! `Debug` shows `[redacted]`.

use clap::Args;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// Every default value of the configuration.
pub mod defaults {
    pub const LISTEN: &str = "127.0.0.1:8080";
    /// 9464 is the port Prometheus exporters of this kind conventionally take.
    pub const METRICS_LISTEN: &str = "127.0.0.1:9464";
    pub const DATA_DIR: &str = "./data";
    pub const MAX_BODY_BYTES: usize = 1024 * 1024;
    /// `POST /audit_logs/events/bulk`: up to [`MAX_BULK_EVENTS`] events of up to a few KiB.
    pub const MAX_BULK_BODY_BYTES: usize = 16 * 1024 * 1024;
    /// Most events in one bulk request.
    pub const MAX_BULK_EVENTS: usize = 1000;
    /// Bulk requests parsed, validated and written at once; more wait their turn.
    pub const BULK_CONCURRENCY: usize = 4;
    pub const MAX_CONNECTIONS: usize = 1024;
    pub const HEADER_TIMEOUT_SECS: u64 = 10;
    pub const BODY_TIMEOUT_SECS: u64 = 30;
    pub const IDLE_TIMEOUT_SECS: u64 = 60;
    pub const INGEST_QUEUE: usize = 10_000;
    pub const INGEST_BATCH: usize = 512;
    pub const SCHEMA_CACHE_MB: u64 = 64;
    pub const DOWNLOAD_LINK_TTL_SECS: i64 = 600;
    pub const EXPORT_FILE_TTL_SECS: i64 = 7 * 24 * 3600;
    pub const EXPORT_CONCURRENCY: usize = 2;
    pub const EXPORT_PAGE_ROWS: i64 = 5000;
    pub const CSV_FORMULA_PROTECTION: bool = true;
    pub const MAINTENANCE_INTERVAL_SECS: u64 = 60;
    pub const JOB_LEASE_SECS: i64 = 30;
    pub const RETENTION_SWEEP_INTERVAL_SECS: u64 = 3600;
    pub const RETENTION_BATCH: i64 = 1000;
    pub const DEFAULT_RETENTION_DAYS: i64 = 365;
    pub const META_AUDIT: bool = true;
    pub const DEPLOYMENT_NAME: &str = "auditlog";
    pub const LOG_INTERVAL_SECS: u64 = 5;
    pub const WITNESS_ALLOW_PLAINTEXT: bool = false;
    pub const WITNESS_TIMEOUT_SECS: u64 = 10;
    pub const PUBLISH_TILES: bool = false;
    pub const STREAM_ALLOW_PLAINTEXT: bool = false;
    pub const STREAM_BATCH_EVENTS: usize = 500;
    pub const STREAM_BATCH_BYTES: usize = 1024 * 1024;
    pub const STREAM_INTERVAL_MS: u64 = 250;
    pub const STREAM_TIMEOUT_SECS: u64 = 10;
    pub const STREAM_MAX_BACKOFF_SECS: u64 = 60;
    pub const STREAM_CONCURRENCY: usize = 8;
    pub const STREAM_LEASE_SECS: i64 = 30;
    /// WorkOS's Admin Portal links expire five minutes after they are generated.
    pub const PORTAL_LINK_TTL_SECS: i64 = 300;
    pub const PORTAL_SESSION_IDLE_SECS: i64 = 30 * 60;
    pub const PORTAL_SESSION_MAX_SECS: i64 = 8 * 3600;
}

/// A configured secret (a database URL with its password, a key, a signing seed).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(value.to_string()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenConfig,
    #[command(flatten)]
    pub storage: StorageConfig,
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub exports: ExportsConfig,
    #[command(flatten)]
    pub jobs: JobsConfig,
    #[command(flatten)]
    pub log: LogConfig,
    #[command(flatten)]
    pub streams: StreamsConfig,
    #[command(flatten)]
    pub portal: PortalConfig,
    /// Comma-separated `sk_…` keys to accept for the default environment.
    #[arg(
        long,
        env = "AUDITLOG_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<Secret>,
    /// Reject events whose action has no schema, as WorkOS does (default: accept them).
    #[arg(long, env = "AUDITLOG_REQUIRE_SCHEMAS")]
    pub require_schemas: bool,
    /// Record reads of events, export creations and downloads in a meta-audit trail.
    #[arg(long, env = "AUDITLOG_META_AUDIT", default_value_t = defaults::META_AUDIT, action = clap::ArgAction::Set)]
    pub meta_audit: bool,
}

/// Where the server listens and how it names itself in links.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Listening")]
pub struct ListenConfig {
    /// Address to listen on.
    #[arg(long, env = "AUDITLOG_LISTEN", default_value = defaults::LISTEN)]
    pub listen: SocketAddr,
    /// Public base URL of this server, used in download links (default: http://LISTEN).
    #[arg(long, env = "AUDITLOG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address of the Prometheus metrics listener (`GET /metrics`), apart from the API so that
    /// it need not be exposed with it; `off` serves no metrics.
    #[arg(long, env = "AUDITLOG_METRICS_LISTEN", default_value = defaults::METRICS_LISTEN)]
    pub metrics_listen: MetricsListen,
}

/// Where metrics are served: an address, or nowhere (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsListen(pub Option<SocketAddr>);

impl std::str::FromStr for MetricsListen {
    type Err = std::net::AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("off") {
            Ok(MetricsListen(None))
        } else {
            text.parse().map(|address| MetricsListen(Some(address)))
        }
    }
}

/// Where data lives: what `keys` and `seed` need as well as `serve`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Storage")]
pub struct StorageConfig {
    /// Directory for the embedded database and local export files.
    #[arg(long, env = "AUDITLOG_DATA_DIR", default_value = defaults::DATA_DIR)]
    pub data_dir: PathBuf,
    /// Database URL; unset means SQLite in the data dir (`sqlite://PATH` names another file).
    #[arg(long, env = "AUDITLOG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
    /// Blob store URL for export files; unset means files under the data dir.
    #[arg(long, env = "AUDITLOG_BLOB_URL")]
    pub blob_url: Option<String>,
}

/// What one client or one burst can take.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "AUDITLOG_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Largest accepted body of `POST /audit_logs/events/bulk`, in bytes.
    #[arg(long, env = "AUDITLOG_MAX_BULK_BODY_BYTES", default_value_t = defaults::MAX_BULK_BODY_BYTES)]
    pub max_bulk_body_bytes: usize,
    /// Most client connections served at once; beyond them a small reserve answers only
    /// `GET /health` (others get 503 + Retry-After) and further connections are closed.
    #[arg(long, env = "AUDITLOG_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's line and headers; a keep-alive connection
    /// waiting for its next request is closed after the same time.
    #[arg(long, env = "AUDITLOG_HEADER_TIMEOUT_SECS", default_value_t = defaults::HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a whole request body after its headers (JSON 408 after).
    #[arg(long, env = "AUDITLOG_BODY_TIMEOUT_SECS", default_value_t = defaults::BODY_TIMEOUT_SECS)]
    pub body_timeout_secs: u64,
    /// Seconds without a byte moving either way after which a connection is closed.
    #[arg(long, env = "AUDITLOG_IDLE_TIMEOUT_SECS", default_value_t = defaults::IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: u64,
    /// Events waiting for the writer before ingest answers 503 with Retry-After.
    #[arg(long, env = "AUDITLOG_INGEST_QUEUE", default_value_t = defaults::INGEST_QUEUE)]
    pub ingest_queue: usize,
    /// Most events written in one group commit.
    #[arg(long, env = "AUDITLOG_INGEST_BATCH", default_value_t = defaults::INGEST_BATCH)]
    pub ingest_batch: usize,
    /// Bulk requests (`POST /audit_logs/events/bulk`) handled at once; further ones wait before
    /// their body is read. Each holds up to `--max-bulk-body-bytes` and its parsed events.
    #[arg(long, env = "AUDITLOG_BULK_CONCURRENCY", default_value_t = defaults::BULK_CONCURRENCY)]
    pub bulk_concurrency: usize,
    /// Memory for compiled action schemas, in MiB (an estimate: least recently used leave first).
    #[arg(long, env = "AUDITLOG_SCHEMA_CACHE_MB", default_value_t = defaults::SCHEMA_CACHE_MB)]
    pub schema_cache_mb: u64,
}

/// Export files and their download links.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Exports")]
pub struct ExportsConfig {
    /// Secret for signing download links of local export files (default: a random secret
    /// generated once and kept in the data dir). Give the same value to every node.
    #[arg(long, env = "AUDITLOG_DOWNLOAD_SECRET", hide_env_values = true)]
    pub download_secret: Option<Secret>,
    /// How long a download link stays valid after the GET that issued it, in seconds.
    #[arg(long, env = "AUDITLOG_DOWNLOAD_LINK_TTL_SECS", default_value_t = defaults::DOWNLOAD_LINK_TTL_SECS)]
    pub download_link_ttl_secs: i64,
    /// How long export files are kept before they are deleted and the export is `expired`.
    #[arg(long, env = "AUDITLOG_EXPORT_FILE_TTL_SECS", default_value_t = defaults::EXPORT_FILE_TTL_SECS)]
    pub export_file_ttl_secs: i64,
    /// Exports produced at the same time on this node.
    #[arg(long, env = "AUDITLOG_EXPORT_CONCURRENCY", default_value_t = defaults::EXPORT_CONCURRENCY)]
    pub export_concurrency: usize,
    /// Events read per page while writing an export.
    #[arg(long, env = "AUDITLOG_EXPORT_PAGE_ROWS", default_value_t = defaults::EXPORT_PAGE_ROWS)]
    pub export_page_rows: i64,
    /// Prefix spreadsheet-formula-looking CSV cells with `'` (see docs/api.md, Exports).
    #[arg(long, env = "AUDITLOG_CSV_FORMULA_PROTECTION", default_value_t = defaults::CSV_FORMULA_PROTECTION, action = clap::ArgAction::Set)]
    pub csv_formula_protection: bool,
}

/// Background jobs: maintenance, leases, retention.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Background jobs")]
pub struct JobsConfig {
    /// How often background maintenance (file expiry, key purges) runs, in seconds.
    #[arg(long, env = "AUDITLOG_MAINTENANCE_INTERVAL_SECS", default_value_t = defaults::MAINTENANCE_INTERVAL_SECS)]
    pub maintenance_interval_secs: u64,
    /// How long a node holds a job before it must renew its lease, in seconds.
    #[arg(long, env = "AUDITLOG_JOB_LEASE_SECS", default_value_t = defaults::JOB_LEASE_SECS)]
    pub job_lease_secs: i64,
    /// How often the retention sweeper runs, in seconds (its first run is one interval after start).
    #[arg(
        long,
        env = "AUDITLOG_RETENTION_SWEEP_INTERVAL_SECS",
        default_value_t = defaults::RETENTION_SWEEP_INTERVAL_SECS
    )]
    pub retention_sweep_interval_secs: u64,
    /// Events redacted per sweeper transaction (small batches keep ingest flowing).
    #[arg(long, env = "AUDITLOG_RETENTION_BATCH", default_value_t = defaults::RETENTION_BATCH)]
    pub retention_batch: i64,
    /// Retention of organizations that have none set, in days.
    #[arg(long, env = "AUDITLOG_DEFAULT_RETENTION_DAYS", default_value_t = defaults::DEFAULT_RETENTION_DAYS)]
    pub default_retention_days: i64,
}

/// The tamper-evidence log.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Tamper-evidence log")]
pub struct LogConfig {
    /// Name of this deployment: the signed-note key name of its verifier key, and the first part
    /// of every organization log's origin (`NAME/org_…`). No spaces or `+`.
    #[arg(long, env = "AUDITLOG_DEPLOYMENT_NAME", default_value = defaults::DEPLOYMENT_NAME)]
    pub deployment_name: String,
    /// Ed25519 seed (64 hex digits) that signs checkpoints and export manifests. Default: the
    /// key file `log-signing.key` in the data dir (created 0600 on first start), or with an S3
    /// blob store the object `keys/log-signing.key` in the bucket; never in the database.
    #[arg(long, env = "AUDITLOG_LOG_SIGNING_KEY", hide_env_values = true)]
    pub log_signing_key: Option<Secret>,
    /// A file holding the signing seed (64 hex digits; mode 0600 or stricter): how every node of
    /// a cluster shares one key, e.g. from a secret manager.
    #[arg(
        long,
        env = "AUDITLOG_LOG_SIGNING_KEY_FILE",
        conflicts_with = "log_signing_key"
    )]
    pub log_signing_key_file: Option<PathBuf>,
    /// A C2SP tlog-witness to ask for cosignatures of every checkpoint:
    /// `<witness verifier key>=<URL prefix of its add-checkpoint>`; repeat the flag (or
    /// comma-separate) for several.
    #[arg(long = "witness", env = "AUDITLOG_WITNESSES", value_delimiter = ',')]
    pub witnesses: Vec<WitnessEndpoint>,
    /// How many witnesses' cosignatures a checkpoint needs to meet the published policy
    /// (default: 1 when witnesses are configured).
    #[arg(long, env = "AUDITLOG_WITNESS_QUORUM")]
    pub witness_quorum: Option<usize>,
    /// Allow witnesses over plain `http://` (default: HTTPS only).
    #[arg(long, env = "AUDITLOG_WITNESS_ALLOW_PLAINTEXT", default_value_t = defaults::WITNESS_ALLOW_PLAINTEXT, action = clap::ArgAction::Set)]
    pub witness_allow_plaintext: bool,
    /// Comma-separated networks (CIDR) witnesses may be in although they are internal
    /// (loopback, private, link-local). Default: none.
    #[arg(long, env = "AUDITLOG_WITNESS_ALLOW_NETWORKS", value_delimiter = ',')]
    pub witness_allow_networks: Vec<ipnet::IpNet>,
    /// Also write each organization's log as static C2SP tlog-tiles (checkpoint and hash tiles)
    /// to the blob store, under `tlog/<organization id>/tiles/`, for a static host or CDN.
    #[arg(long, env = "AUDITLOG_PUBLISH_TILES", default_value_t = defaults::PUBLISH_TILES, action = clap::ArgAction::Set)]
    pub publish_tiles: bool,
    /// How long a witness has to answer one request, in seconds.
    #[arg(long, env = "AUDITLOG_WITNESS_TIMEOUT_SECS", default_value_t = defaults::WITNESS_TIMEOUT_SECS)]
    pub witness_timeout_secs: u64,
    /// How often the tamper-evidence log builder appends new events and signs a checkpoint;
    /// 0 turns background building off on this node (trees then grow on demand only).
    #[arg(long, env = "AUDITLOG_LOG_INTERVAL_SECS", default_value_t = defaults::LOG_INTERVAL_SECS)]
    pub log_interval_secs: u64,
}

/// Log streams: delivery batching and timing, and the fence around their outbound calls.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Log streams")]
pub struct StreamsConfig {
    /// Allow stream receivers without TLS: plain `http://` URLs and syslog over plain TCP
    /// (default: HTTPS and syslog over TLS only).
    #[arg(long, env = "AUDITLOG_STREAM_ALLOW_PLAINTEXT", default_value_t = defaults::STREAM_ALLOW_PLAINTEXT, action = clap::ArgAction::Set)]
    pub stream_allow_plaintext: bool,
    /// Comma-separated networks (CIDR) stream receivers may be in although they are internal
    /// (loopback, private, link-local, shared, reserved); e.g. `10.20.0.0/16` for a SIEM on the
    /// private network. Default: none.
    #[arg(long, env = "AUDITLOG_STREAM_ALLOW_NETWORKS", value_delimiter = ',')]
    pub stream_allow_networks: Vec<ipnet::IpNet>,
    /// Most events in one delivery (a destination may lower it to its intake's limit).
    #[arg(long, env = "AUDITLOG_STREAM_BATCH_EVENTS", default_value_t = defaults::STREAM_BATCH_EVENTS)]
    pub stream_batch_events: usize,
    /// Most bytes of events in one delivery (a destination may lower it to its intake's limit).
    #[arg(long, env = "AUDITLOG_STREAM_BATCH_BYTES", default_value_t = defaults::STREAM_BATCH_BYTES)]
    pub stream_batch_bytes: usize,
    /// How often a node looks for streams with new events, in milliseconds: the longest an
    /// event waits before its batch leaves.
    #[arg(long, env = "AUDITLOG_STREAM_INTERVAL_MS", default_value_t = defaults::STREAM_INTERVAL_MS)]
    pub stream_interval_ms: u64,
    /// How long a receiver has to answer one delivery, in seconds.
    #[arg(long, env = "AUDITLOG_STREAM_TIMEOUT_SECS", default_value_t = defaults::STREAM_TIMEOUT_SECS)]
    pub stream_timeout_secs: u64,
    /// The longest wait between two attempts at a failing receiver, in seconds (backoff is
    /// exponential with jitter up to it; a receiver's `Retry-After` is honoured up to 10 times it).
    #[arg(long, env = "AUDITLOG_STREAM_MAX_BACKOFF_SECS", default_value_t = defaults::STREAM_MAX_BACKOFF_SECS)]
    pub stream_max_backoff_secs: u64,
    /// Streams one node delivers at once.
    #[arg(long, env = "AUDITLOG_STREAM_CONCURRENCY", default_value_t = defaults::STREAM_CONCURRENCY)]
    pub stream_concurrency: usize,
    /// How long a node's hold on a stream lasts without renewal, in seconds: after a node dies,
    /// another takes its streams over this much later.
    #[arg(long, env = "AUDITLOG_STREAM_LEASE_SECS", default_value_t = defaults::STREAM_LEASE_SECS)]
    pub stream_lease_secs: i64,
}

/// The Admin Portal: how long its links and sessions last, and who may frame it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Admin Portal")]
pub struct PortalConfig {
    /// How long a link from `POST /portal/generate_link` can be opened, in seconds.
    #[arg(long, env = "AUDITLOG_PORTAL_LINK_TTL_SECS", default_value_t = defaults::PORTAL_LINK_TTL_SECS)]
    pub portal_link_ttl_secs: i64,
    /// A portal session ends after this many seconds without a request.
    #[arg(long, env = "AUDITLOG_PORTAL_SESSION_IDLE_SECS", default_value_t = defaults::PORTAL_SESSION_IDLE_SECS)]
    pub portal_session_idle_secs: i64,
    /// A portal session ends this many seconds after its link was opened, however active.
    #[arg(long, env = "AUDITLOG_PORTAL_SESSION_MAX_SECS", default_value_t = defaults::PORTAL_SESSION_MAX_SECS)]
    pub portal_session_max_secs: i64,
    /// Comma-separated origins allowed to show the portal in a frame (CSP `frame-ancestors`),
    /// e.g. `https://app.example.com`; `'self'` is allowed too. Default: none, the portal
    /// cannot be framed. Framing across sites needs the portal on HTTPS (its cookie is then
    /// `SameSite=None; Secure`).
    #[arg(long, env = "AUDITLOG_PORTAL_FRAME_ANCESTORS", value_delimiter = ',', value_parser = parse_frame_ancestor)]
    pub portal_frame_ancestors: Vec<String>,
}

/// One CSP `frame-ancestors` source: `'self'`, or a scheme and host (`https://app.example`,
/// `https://*.example.com:8443`). Anything that could end the directive or add another is
/// refused, so the configured value cannot weaken the rest of the policy.
pub fn parse_frame_ancestor(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == "'self'" {
        return Ok(text.to_string());
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("{text:?}: a frame ancestor is 'self' or an http(s) origin"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | ':');
    if rest.is_empty() || !rest.chars().all(allowed) {
        return Err(format!(
            "{text:?}: an origin is a scheme and a host (and port), with no path"
        ));
    }
    Ok(text.to_string())
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            portal_link_ttl_secs: defaults::PORTAL_LINK_TTL_SECS,
            portal_session_idle_secs: defaults::PORTAL_SESSION_IDLE_SECS,
            portal_session_max_secs: defaults::PORTAL_SESSION_MAX_SECS,
            portal_frame_ancestors: Vec::new(),
        }
    }
}

impl StreamsConfig {
    pub fn outbound_policy(&self) -> crate::outbound::OutboundPolicy {
        crate::outbound::OutboundPolicy {
            allow_plaintext: self.stream_allow_plaintext,
            allow_networks: self.stream_allow_networks.clone(),
        }
    }
}

impl Default for StreamsConfig {
    fn default() -> Self {
        StreamsConfig {
            stream_allow_plaintext: defaults::STREAM_ALLOW_PLAINTEXT,
            stream_allow_networks: Vec::new(),
            stream_batch_events: defaults::STREAM_BATCH_EVENTS,
            stream_batch_bytes: defaults::STREAM_BATCH_BYTES,
            stream_interval_ms: defaults::STREAM_INTERVAL_MS,
            stream_timeout_secs: defaults::STREAM_TIMEOUT_SECS,
            stream_max_backoff_secs: defaults::STREAM_MAX_BACKOFF_SECS,
            stream_concurrency: defaults::STREAM_CONCURRENCY,
            stream_lease_secs: defaults::STREAM_LEASE_SECS,
        }
    }
}

impl Config {
    /// The connection limits of the listener.
    pub fn connection_limits(&self) -> crate::listen::Limits {
        use std::time::Duration;
        let limits = &self.limits;
        crate::listen::Limits {
            max_connections: limits.max_connections.max(1),
            header_timeout: Duration::from_secs(limits.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(limits.body_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(limits.idle_timeout_secs.max(1)),
        }
    }

    /// A configuration with every default, on an ephemeral port, for tests and embedding.
    pub fn with_data_dir(data_dir: PathBuf) -> Config {
        Config {
            listen: ListenConfig {
                listen: "127.0.0.1:0".parse().expect("static address parses"),
                public_url: None,
                metrics_listen: MetricsListen(Some(
                    "127.0.0.1:0".parse().expect("static address parses"),
                )),
            },
            storage: StorageConfig::with_data_dir(data_dir),
            limits: LimitsConfig::default(),
            exports: ExportsConfig::default(),
            jobs: JobsConfig::default(),
            log: LogConfig::default(),
            streams: StreamsConfig::default(),
            portal: PortalConfig::default(),
            api_keys: Vec::new(),
            require_schemas: false,
            meta_audit: defaults::META_AUDIT,
        }
    }
}

impl StorageConfig {
    pub fn with_data_dir(data_dir: PathBuf) -> StorageConfig {
        StorageConfig {
            data_dir,
            database_url: None,
            blob_url: None,
        }
    }

    /// The database URL, if one is configured.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_ref().map(Secret::expose)
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_bulk_body_bytes: defaults::MAX_BULK_BODY_BYTES,
            max_connections: defaults::MAX_CONNECTIONS,
            header_timeout_secs: defaults::HEADER_TIMEOUT_SECS,
            body_timeout_secs: defaults::BODY_TIMEOUT_SECS,
            idle_timeout_secs: defaults::IDLE_TIMEOUT_SECS,
            ingest_queue: defaults::INGEST_QUEUE,
            ingest_batch: defaults::INGEST_BATCH,
            bulk_concurrency: defaults::BULK_CONCURRENCY,
            schema_cache_mb: defaults::SCHEMA_CACHE_MB,
        }
    }
}

impl Default for ExportsConfig {
    fn default() -> Self {
        ExportsConfig {
            download_secret: None,
            download_link_ttl_secs: defaults::DOWNLOAD_LINK_TTL_SECS,
            export_file_ttl_secs: defaults::EXPORT_FILE_TTL_SECS,
            export_concurrency: defaults::EXPORT_CONCURRENCY,
            export_page_rows: defaults::EXPORT_PAGE_ROWS,
            csv_formula_protection: defaults::CSV_FORMULA_PROTECTION,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            maintenance_interval_secs: defaults::MAINTENANCE_INTERVAL_SECS,
            job_lease_secs: defaults::JOB_LEASE_SECS,
            retention_sweep_interval_secs: defaults::RETENTION_SWEEP_INTERVAL_SECS,
            retention_batch: defaults::RETENTION_BATCH,
            default_retention_days: defaults::DEFAULT_RETENTION_DAYS,
        }
    }
}

/// A witness the log asks for cosignatures: its verifier key and URL prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessEndpoint {
    /// `<name>+<key id>+base64(0x04 ‖ public key)`.
    pub verifier_key: String,
    /// `add-checkpoint` is at `<url>/add-checkpoint`.
    pub url: String,
}

impl std::str::FromStr for WitnessEndpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // A verifier key has no `=` (its base64 is 44 characters of 33 bytes, without padding).
        let (verifier_key, url) = text
            .split_once('=')
            .ok_or("expected <witness verifier key>=<URL>")?;
        auditlog_tlog::cosignature::CosignatureVerifier::new(verifier_key)
            .map_err(|e| e.to_string())?;
        reqwest::Url::parse(url).map_err(|e| format!("witness URL {url:?}: {e}"))?;
        Ok(WitnessEndpoint {
            verifier_key: verifier_key.to_string(),
            url: url.trim_end_matches('/').to_string(),
        })
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            deployment_name: defaults::DEPLOYMENT_NAME.into(),
            log_signing_key: None,
            log_signing_key_file: None,
            witnesses: Vec::new(),
            witness_quorum: None,
            witness_allow_plaintext: defaults::WITNESS_ALLOW_PLAINTEXT,
            witness_allow_networks: Vec::new(),
            witness_timeout_secs: defaults::WITNESS_TIMEOUT_SECS,
            publish_tiles: defaults::PUBLISH_TILES,
            log_interval_secs: defaults::LOG_INTERVAL_SECS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let mut config = Config::with_data_dir("/tmp/x".into());
        config.storage.database_url = Some(Secret::new("postgres://u:hunter2@db/x"));
        config.api_keys = vec![Secret::new("sk_live_hunter2hunter2hunter2hunter2")];
        config.exports.download_secret = Some(Secret::new("hunter2"));
        config.log.log_signing_key = Some(Secret::new("hunter2"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn flag_defaults_are_the_default_impls() {
        let parsed = Cli::parse_from([
            "auditlog",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .config;
        let built = Config::with_data_dir(defaults::DATA_DIR.into());
        assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
    }
}
