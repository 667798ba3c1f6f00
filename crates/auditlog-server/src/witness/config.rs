//! The witness's command line: `auditlog witness serve` and `auditlog witness key`, each flag
//! also read from an `AUDITLOG_WITNESS_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum WitnessCommand {
    /// Serve C2SP tlog-witness `add-checkpoint` on `--listen`, cosigning the checkpoints of the
    /// logs given with `--log`. Example:
    /// `auditlog witness serve --data-dir ./witness --name witness.example.com
    /// --log auditlog.example.com+1a2b3c4d+AQ…`
    Serve(WitnessConfig),
    /// Print the witness's verifier key (creating its key in `--data-dir` if needed), to
    /// configure logs with before the witness first starts.
    Key(WitnessKeyArgs),
}

/// How a witness runs.
#[derive(clap::Args, Debug, Clone)]
pub struct WitnessConfig {
    /// Address to serve on.
    #[arg(
        long,
        env = "AUDITLOG_WITNESS_LISTEN",
        default_value = "127.0.0.1:7380"
    )]
    pub listen: SocketAddr,
    /// Directory of the witness's key (`witness.key`, `witness.pub`) and database
    /// (`witness.db`); created (mode 0700) if missing.
    #[arg(long, env = "AUDITLOG_WITNESS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The witness's name: the key name of its cosignatures (e.g. its host name).
    #[arg(long, env = "AUDITLOG_WITNESS_NAME")]
    pub name: String,
    /// A trusted log's verifier key `<name>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>`,
    /// repeatable (or comma-separated in the variable). The key accepts checkpoints of origin
    /// `<name>` and `<name>/<anything>` signed under key name = origin: one auditlog
    /// deployment key covers every organization of that deployment.
    #[arg(
        long = "log",
        env = "AUDITLOG_WITNESS_LOGS",
        value_delimiter = ',',
        required = true
    )]
    pub logs: Vec<String>,
}

impl WitnessConfig {
    /// A configuration for tests and embedding: `listen` is ignored by [`super::run`], which is
    /// given its listener.
    pub fn new(data_dir: PathBuf, name: &str, logs: Vec<String>) -> WitnessConfig {
        WitnessConfig {
            listen: "127.0.0.1:0".parse().expect("static address parses"),
            data_dir,
            name: name.into(),
            logs,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct WitnessKeyArgs {
    /// The witness's data directory (as for `witness serve`).
    #[arg(long, env = "AUDITLOG_WITNESS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The witness's name (as for `witness serve`): the verifier key depends on it.
    #[arg(long, env = "AUDITLOG_WITNESS_NAME")]
    pub name: String,
}
