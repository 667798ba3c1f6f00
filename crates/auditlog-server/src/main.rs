//! The `auditlog` command: `serve` runs the service, `keys create` mints an API key.

use auditlog_server::config::{defaults, Config, StorageConfig};
use auditlog_server::meta_audit::record_key_changes;
use auditlog_server::{clock, keys, open_store, run, DEFAULT_ENVIRONMENT};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// jemalloc instead of the system allocator: every request allocates and frees many small
/// buffers across the runtime's threads, and glibc's malloc spent about a fifth of the server's
/// CPU on them under ingest (BENCHMARKS.md, "jemalloc as the allocator"). jemalloc's thread
/// caches cut the server's CPU per event by a fifth; peak memory in the export, bundle and
/// sustained-ingest benchmarks stayed within 3–6 MiB or fell. MSVC targets keep the system
/// allocator: jemalloc does not build there.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "auditlog",
    version,
    about = "A self-hostable, WorkOS-compatible audit-log service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written (to stderr): `text` for people, `json` (one object per line,
    /// with the request's id, route, status, latency and environment) for log pipelines.
    /// `AUDITLOG_LOG` filters them (default `info`; `auditlog::access=off` drops the line per
    /// request).
    #[arg(long, global = true, env = "AUDITLOG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("AUDITLOG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // The request's fields live on its span: the current span is flattened into each line.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(Box<Config>),
    /// Bulk-load synthetic events into a new organization (for benchmarks); prints its id.
    #[command(hide = true)]
    Seed {
        /// How many events.
        #[arg(long)]
        events: u64,
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
        /// Events per transaction.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
        #[command(flatten)]
        storage: StorageConfig,
    },
    /// Verify an export bundle and its CSV, or that a newer checkpoint extends an older one,
    /// offline (exit status 0 only when every check passes).
    Verify(auditlog_server::verify::VerifyArgs),
    /// Copy the embedded deployment (SQLite database, local export files, link key) into one
    /// archive while the server runs. Example:
    /// `auditlog backup --data-dir ./data --to auditlog-2026-12-05.tar`
    Backup(auditlog_server::backup::BackupArgs),
    /// Restore an archive of `auditlog backup` into an empty data directory. Example:
    /// `auditlog restore --from auditlog-2026-12-05.tar --data-dir ./restored`
    Restore(auditlog_server::backup::RestoreArgs),
    /// Print an organization's events in sequence order; `--follow` waits for new ones.
    /// Talks to a running server (`AUDITLOG_URL`, `AUDITLOG_API_KEY`).
    Tail(auditlog_server::client::tail::TailArgs),
    /// Export an organization's events to a CSV file, and verify it against its signed bundle.
    /// Talks to a running server (`AUDITLOG_URL`, `AUDITLOG_API_KEY`).
    Export(auditlog_server::client::export::ExportArgs),
    /// Bulk-load events into an organization from NDJSON or an export CSV (WorkOS or ours);
    /// safe to re-run. Talks to a running server (`AUDITLOG_URL`, `AUDITLOG_API_KEY`).
    Import(auditlog_server::client::import::ImportArgs),
    /// List or create organizations on a running server (`AUDITLOG_URL`, `AUDITLOG_API_KEY`).
    Orgs {
        #[command(subcommand)]
        command: auditlog_server::client::orgs::OrgsCommand,
    },
    /// List or push event schemas on a running server (`AUDITLOG_URL`, `AUDITLOG_API_KEY`).
    Schemas {
        #[command(subcommand)]
        command: auditlog_server::client::schemas::SchemasCommand,
    },
    /// Check, from your own machine, that an organization's log stays append-only and holds
    /// every event (exit 6 when it misbehaved). See docs/monitor.md.
    Monitor(auditlog_server::client::monitor::MonitorArgs),
    /// Exit 0 when the server at `--url` answers `/health` (or `/ready` with `--ready`) with 200:
    /// the container image's health check.
    Health(auditlog_server::client::health::HealthArgs),
    /// Print a shell completion script. Example: `auditlog completions bash > /etc/bash_completion.d/auditlog`
    Completions { shell: clap_complete::Shell },
    /// Run a C2SP tlog-witness that cosigns log checkpoints, or print its key (docs/witness.md).
    Witness {
        #[command(subcommand)]
        command: auditlog_server::witness::WitnessCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// What the `keys` commands use: the store, and whether key changes go to the trail.
#[derive(clap::Args)]
struct KeysConfig {
    #[command(flatten)]
    storage: StorageConfig,
    /// Record key creations and revocations in the meta-audit trail.
    #[arg(long, env = "AUDITLOG_META_AUDIT", default_value_t = defaults::META_AUDIT, action = clap::ArgAction::Set)]
    meta_audit: bool,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a new API key and print it (it is stored only as a hash).
    Create {
        /// Environment the key belongs to; it sees only this environment's data.
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
        #[command(flatten)]
        config: KeysConfig,
    },
    /// List API keys: record id, environment, source, last four characters, created, revoked.
    List {
        #[command(flatten)]
        storage: StorageConfig,
    },
    /// Revoke an API key by its record id (`key_…`, from `keys list`); every node refuses it
    /// within 5 seconds.
    Revoke {
        /// The key's record id.
        id: String,
        #[command(flatten)]
        config: KeysConfig,
    },
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}

/// Records a key change made from the command line in the meta-audit trail.
async fn record_in_trail(
    store: &dyn auditlog_store::Store,
    change: keys::KeyChange,
) -> anyhow::Result<()> {
    record_key_changes(store, &[change], false)
        .await
        .map_err(|error| {
            anyhow::anyhow!("recording an API key change in the meta-audit trail: {error:?}")
        })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let command = cli.command;
    if let Command::Verify(args) = &command {
        // Offline, no runtime needed; the exit status carries the verdict.
        std::process::exit(auditlog_server::verify::run(args));
    }
    let client_result = match &command {
        Command::Tail(args) => Some(auditlog_server::client::tail::run(args).await),
        Command::Export(args) => Some(auditlog_server::client::export::run(args).await),
        Command::Import(args) => Some(auditlog_server::client::import::run(args).await),
        Command::Health(args) => Some(auditlog_server::client::health::run(args).await),
        Command::Monitor(args) => Some(auditlog_server::client::monitor::run(args).await),
        Command::Orgs { command } => Some(auditlog_server::client::orgs::run(command).await),
        Command::Schemas { command } => Some(auditlog_server::client::schemas::run(command).await),
        _ => None,
    };
    if let Some(Err(error)) = client_result {
        eprintln!("auditlog: {error}");
        std::process::exit(error.exit_code_number().into());
    }
    match command {
        Command::Verify(_)
        | Command::Tail(_)
        | Command::Export(_)
        | Command::Import(_)
        | Command::Health(_)
        | Command::Monitor(_)
        | Command::Orgs { .. }
        | Command::Schemas { .. } => Ok(()),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "auditlog",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Backup(args) => {
            let to = args.to.clone();
            let summary = auditlog_server::backup::backup(args).await?;
            let included = |present: bool| {
                if present {
                    "included"
                } else {
                    "not in the data dir"
                }
            };
            println!(
                "backup written to {to}: database {} bytes, {} export files, {} checkpoints, \
                 link key {}, log signing key {}",
                summary.database_bytes,
                summary.export_files,
                summary.checkpoint_files,
                included(summary.link_key),
                included(summary.log_key),
            );
            Ok(())
        }
        Command::Restore(args) => {
            let data_dir = args.data_dir.clone();
            auditlog_server::backup::restore(args).await?;
            println!("restored into {}", data_dir.display());
            Ok(())
        }
        Command::Witness { command } => {
            auditlog_server::witness::run_command(command, shutdown_signal()).await
        }
        Command::Serve(config) => {
            let listener = tokio::net::TcpListener::bind(config.listen.listen).await?;
            run(*config, listener, shutdown_signal()).await
        }
        Command::Seed {
            events,
            environment,
            batch,
            storage,
        } => {
            let store = open_store(&storage).await?;
            let organization =
                auditlog_server::seed::seed(store.as_ref(), &environment, events, batch.max(1))
                    .await?;
            println!("{organization}");
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Create {
                    environment,
                    config,
                },
        } => {
            anyhow::ensure!(
                !environment.trim().is_empty(),
                "--environment must not be empty"
            );
            let store = open_store(&config.storage).await?;
            let key = keys::generate_key();
            let created = keys::register_key(
                store.as_ref(),
                environment.trim(),
                &key,
                auditlog_store::KEY_SOURCE_CREATED,
                clock::now_micros(),
            )
            .await?;
            if let (Some(record), true) = (created, config.meta_audit) {
                record_in_trail(store.as_ref(), keys::KeyChange::created(&record, "cli")).await?;
            }
            println!("{key}");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::List { storage },
        } => {
            let store = open_store(&storage).await?;
            println!("ID\tENVIRONMENT\tSOURCE\tLAST4\tCREATED\tREVOKED");
            for key in store.list_api_keys().await? {
                let at = |micros: i64| {
                    auditlog_domain::timestamp::format_millis(
                        auditlog_domain::timestamp::from_micros(micros),
                    )
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.environment,
                    key.source,
                    if key.hint.is_empty() {
                        "-"
                    } else {
                        key.hint.as_str()
                    },
                    at(key.created_at),
                    key.revoked_at.map(at).unwrap_or_else(|| "-".into()),
                );
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Revoke { id, config },
        } => {
            let store = open_store(&config.storage).await?;
            let record = store
                .list_api_keys()
                .await?
                .into_iter()
                .find(|key| key.id == id && key.revoked_at.is_none());
            let Some(record) = record else {
                anyhow::bail!("no unrevoked API key with the id {id} (see `auditlog keys list`)");
            };
            if store.revoke_api_key(&id, clock::now_micros()).await? && config.meta_audit {
                record_in_trail(store.as_ref(), keys::KeyChange::revoked(&record, "cli")).await?;
            }
            println!("revoked {id}");
            Ok(())
        }
    }
}
