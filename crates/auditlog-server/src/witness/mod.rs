//! Witness mode: `auditlog witness serve` runs a C2SP tlog-witness
//! (<https://c2sp.org/tlog-witness>) that cosigns checkpoints with C2SP tlog-cosignature
//! `cosignature/v1` signatures, for auditlog logs or any log that signs C2SP checkpoints with
//! Ed25519.
//!
//! - Trusted logs (`--log`, [`trusted_logs`]): a verifier key named `N` accepts checkpoints of
//!   origin `N` and `N/<anything>`, signed by its public key under key name = the origin. That
//!   is how auditlog signs (one deployment key, each organization's checkpoint under its
//!   origin `<deployment name>/<organization id>`), so one `--log` with the deployment verifier
//!   key covers every organization of a deployment.
//! - The witness key ([`key`]): `witness.key` in the data dir, created on first start (0600).
//! - What was cosigned and what was refused ([`store`]): `witness.db` in the data dir.
//! - The protocol ([`add_checkpoint`]) and its HTTP API ([`handler`]).
//!
//! See docs/witness.md.

mod add_checkpoint;
mod config;
mod handler;
mod key;
pub mod store;
mod trusted_logs;

#[cfg(test)]
mod fuzz_tests;

pub use add_checkpoint::{AddError, Witness};
pub use config::{WitnessCommand, WitnessConfig, WitnessKeyArgs};
pub use handler::{router, MAX_BODY_BYTES};
pub use key::{KEY_FILE, PUBLIC_KEY_FILE};
pub use store::{LatestCheckpoint, Refusal, WitnessStore, DATABASE_FILE};
pub use trusted_logs::TrustedLogs;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The listener's limits: a witness gets a few small requests per log and checkpoint.
const LIMITS: crate::listen::Limits = crate::listen::Limits {
    max_connections: 1024,
    header_timeout: Duration::from_secs(10),
    body_timeout: Duration::from_secs(10),
    idle_timeout: Duration::from_secs(60),
};

/// Runs a `witness` subcommand; `shutdown` ends `witness serve`.
pub async fn run_command(
    command: WitnessCommand,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match command {
        WitnessCommand::Serve(config) => {
            let listener = TcpListener::bind(config.listen).await?;
            run(config, listener, shutdown).await
        }
        WitnessCommand::Key(args) => {
            println!("{}", verifier_key(&args.data_dir, &args.name)?);
            Ok(())
        }
    }
}

/// The witness's verifier key `<name>+<hex key id>+base64(0x04 ‖ public key)`, creating its key
/// in `data_dir` if there is none yet.
pub fn verifier_key(data_dir: &Path, name: &str) -> anyhow::Result<String> {
    Ok(key::load_or_create(data_dir, name)?.verifier_key())
}

/// Runs the witness on `listener` until `shutdown` resolves, then drains in-flight requests.
/// Fails before serving if a `--log` key is malformed or the witness key is unusable.
pub async fn run(
    config: WitnessConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let logs = TrustedLogs::parse(&config.logs)?;
    let signer = key::load_or_create(&config.data_dir, &config.name)?;
    tracing::info!(verifier_key = %signer.verifier_key(), "witness key");
    let store = WitnessStore::open(&config.data_dir).await?;
    let witness = Arc::new(Witness {
        signer,
        logs,
        store: store.clone(),
    });
    let address = listener.local_addr()?;
    tracing::info!(address = %address, "witness listening");
    crate::listen::serve(listener, router(witness), LIMITS, shutdown).await?;
    store.close().await;
    tracing::info!("witness stopped");
    Ok(())
}
