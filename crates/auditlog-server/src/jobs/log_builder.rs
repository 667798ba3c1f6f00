//! The tamper-evidence log builder as a background job: every interval (or when woken), each
//! organization whose log lags is appended to and gets a signed checkpoint, under a lease so
//! that one node at a time builds a given log.

use crate::clock::now_micros;
use crate::state::AppState;
use crate::tlog::builder::{
    build_to, sign_checkpoint, Background, BACKLOG_LIMIT, BUILDER_LEASE_MICROS,
};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One round of the background builder over every organization whose log lags.
pub async fn build_once(state: &AppState, shutdown: &CancellationToken) {
    let store = state.store.as_ref();
    let backlog = match store.log_backlog(BACKLOG_LIMIT).await {
        Ok(backlog) => backlog,
        Err(error) => {
            crate::failure::report("listing logs to build failed", &error);
            return;
        }
    };
    let waiting: i64 = backlog
        .iter()
        .map(|item| item.leaf_count - item.checkpoint_size.unwrap_or(0))
        .sum();
    metrics::gauge!(crate::metrics::LOG_UNSIGNED_EVENTS).set(waiting as f64);
    for item in backlog {
        if shutdown.is_cancelled() {
            return;
        }
        let organization_id = item.organization_id.as_str();
        let owner = state.node_id.as_ref();
        let now = now_micros();
        match store
            .claim_log_builder(organization_id, owner, now, now + BUILDER_LEASE_MICROS)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue, // another node builds it
            Err(error) => {
                crate::failure::report("claiming a log builder lease failed", &error);
                continue;
            }
        }
        let background = Background {
            lease_owner: owner,
            shutdown,
        };
        let built = build_to(store, organization_id, item.leaf_count, Some(&background)).await;
        let signed = match built {
            Ok(_) => sign_checkpoint(store, &state.tlog, organization_id, false).await,
            Err(error) => Err(error),
        };
        match signed {
            Ok(Some(checkpoint)) if Some(checkpoint.tree_size) != item.checkpoint_size => {
                metrics::counter!(crate::metrics::LOG_CHECKPOINTS_SIGNED).increment(1);
                tracing::debug!(organization_id, size = checkpoint.tree_size, "checkpoint");
            }
            Ok(_) => {}
            Err(error) => {
                crate::failure::report("building an organization's log failed", &error);
            }
        }
        if let Err(error) = store.release_log_builder(organization_id, owner).await {
            crate::failure::report("releasing a log builder lease failed", &error);
        }
    }
    after_signing(state, shutdown).await;
}

/// Organizations whose new checkpoint is cosigned and published per round at most.
const AFTER_SIGNING_LIMIT: usize = 100;

/// For each organization with a checkpoint signed on this node since the last round: asks the
/// witnesses to cosign it, then publishes its tiles; notes it again when a witness was
/// unavailable or publishing failed, so that the next round tries again.
async fn after_signing(state: &AppState, shutdown: &CancellationToken) {
    let tlog = &state.tlog;
    for organization_id in tlog.take_signed(AFTER_SIGNING_LIMIT) {
        if shutdown.is_cancelled() {
            tlog.mark_signed(&organization_id);
            return;
        }
        let mut again = false;
        if !tlog.witnesses.is_empty() {
            again |= !cosign(state, &organization_id).await;
        }
        if tlog.publish_tiles {
            let published =
                crate::tlog::static_tiles::publish(state.store.as_ref(), tlog, &organization_id)
                    .await;
            if let Err(error) = published {
                crate::failure::report("publishing an organization's tiles failed", &error);
                again = true;
            }
        }
        if again {
            tlog.mark_signed(&organization_id);
        }
    }
}

/// Asks the witnesses to cosign the organization's newest checkpoint; false when one was
/// unavailable (to ask again).
async fn cosign(state: &AppState, organization_id: &str) -> bool {
    let latest = match state.store.latest_checkpoint(organization_id).await {
        Ok(Some(latest)) => latest,
        Ok(None) => return true,
        Err(error) => {
            crate::failure::report("reading a checkpoint to cosign failed", &error);
            return false;
        }
    };
    match state
        .tlog
        .witnesses
        .cosign(state.store.as_ref(), &latest)
        .await
    {
        Ok(outcome) => {
            metrics::counter!(crate::metrics::LOG_COSIGNATURES)
                .increment(outcome.cosigned.len() as u64);
            for (witness, why) in &outcome.unavailable {
                tracing::warn!(%organization_id, %witness, "witness unavailable: {why}");
            }
            outcome.unavailable.is_empty()
        }
        Err(error) => {
            crate::failure::report("asking witnesses to cosign failed", &error);
            false
        }
    }
}

/// Starts the background builder: a round at once, then every interval or when woken. An
/// interval of 0 turns background building off on this node (e.g. ingest-only nodes of a
/// cluster while another node builds); trees then grow only on demand (`POST …/checkpoint`,
/// proofs and bundles that need a newer tree).
pub fn start(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        if state.config.log.log_interval_secs == 0 {
            tracing::info!("background log building is off (--log-interval-secs 0)");
            // Checkpoints signed here on demand are still cosigned and published.
            let period = Duration::from_secs(crate::config::defaults::LOG_INTERVAL_SECS);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(period) => after_signing(&state, &shutdown).await,
                    _ = shutdown.cancelled() => return,
                }
            }
        }
        let period = Duration::from_secs(state.config.log.log_interval_secs);
        loop {
            build_once(&state, &shutdown).await;
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = state.tlog.wakeup.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    })
}
