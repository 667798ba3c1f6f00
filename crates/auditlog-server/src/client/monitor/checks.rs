//! One round's checks of the log itself: whom to trust (the pinned key and witness policy),
//! then the newest checkpoint — its signature and origin, its cosignatures, and whether it
//! extends every checkpoint accepted before.

use super::super::ClientError;
use super::remote::Remote;
use super::report::{CheckpointSummary, FindingKind, Report};
use super::state::StateDir;
use auditlog_tlog::cosignature::{check_cosignatures, CosignatureStatus, WitnessPolicy};
use auditlog_tlog::{checkpoint_origin, open_checkpoint, verify_consistency, Checkpoint};
use base64::prelude::{Engine, BASE64_STANDARD};

/// What a round trusts.
pub struct Trust {
    /// The deployment's verifier key.
    pub key: String,
    /// Quorum 0: no witness check.
    pub policy: WitnessPolicy,
}

/// The trusted key: pinned in the state directory, else `--key`, else (trust on first use)
/// the one the server publishes; pinned on first use. A server that publishes another key now,
/// or a `--key` that is not the pinned one, is a finding.
pub async fn trusted_key(
    remote: &Remote,
    state: &StateDir,
    given: Option<&str>,
    report: &mut Report,
) -> Result<String, ClientError> {
    let published = remote.log_key().await?;
    let pinned = state.pinned_key()?;
    let trusted = match (&pinned, given) {
        (Some(pinned), _) => pinned.clone(),
        (None, Some(given)) => given.to_string(),
        (None, None) => published.clone(),
    };
    if pinned.is_none() {
        state.pin_key(&trusted)?;
        let how = if given.is_some() {
            "given with --key"
        } else {
            "trust on first use"
        };
        report.pass("log_key", format!("pinned {trusted} ({how})"));
    }
    if let (Some(pinned), Some(given)) = (&pinned, given) {
        if pinned != given {
            report.find(
                FindingKind::KeyChanged,
                format!(
                    "--key {given} is not the key pinned in the state directory ({pinned}); \
                     remove its log-key file to trust another key"
                ),
            );
        }
    }
    if published == trusted {
        if pinned.is_some() {
            report.pass("log_key", "the server's key is the pinned one");
        }
    } else {
        report.find(
            FindingKind::KeyChanged,
            format!("the server publishes the key {published}, not the trusted {trusted}"),
        );
    }
    Ok(trusted)
}

/// The witness policy: `--witness-policy`, else the published one pinned on first use. A
/// published policy that is not the pinned one is a finding; the pinned one still applies.
pub async fn witness_policy(
    remote: &Remote,
    state: &StateDir,
    from_file: Option<&WitnessPolicy>,
    report: &mut Report,
) -> Result<WitnessPolicy, ClientError> {
    if let Some(policy) = from_file {
        report.pass("witness_policy", "from --witness-policy");
        return Ok(policy.clone());
    }
    let published = remote.witness_policy().await?;
    match (state.pinned_policy()?, published) {
        (None, None) => {
            report.pass(
                "witness_policy",
                "the server publishes no witness policy: cosignatures are not checked",
            );
            Ok(no_witnesses())
        }
        (None, Some(published)) => {
            state.pin_policy(&published)?;
            report.pass("witness_policy", "pinned the published policy (first use)");
            Ok(published)
        }
        (Some(pinned), published) => {
            if published.as_ref() == Some(&pinned) {
                report.pass("witness_policy", "the published policy is the pinned one");
            } else {
                let now = match published {
                    Some(policy) => serde_json::to_string(&policy).unwrap_or_default(),
                    None => "none".into(),
                };
                report.find(
                    FindingKind::PolicyChanged,
                    format!(
                        "the server publishes another witness policy ({now}); the pinned one \
                         still applies (remove witness-policy.json to accept the new one)"
                    ),
                );
            }
            Ok(pinned)
        }
    }
}

fn no_witnesses() -> WitnessPolicy {
    WitnessPolicy {
        quorum: 0,
        witnesses: Vec::new(),
    }
}

/// Checks the newest checkpoint; returns it when it is accepted (stored), which a checkpoint
/// below the witness quorum still is: the quorum is the witnesses' business, the log's history
/// is checked all the same.
pub async fn checkpoint(
    remote: &Remote,
    state: &StateDir,
    trust: &Trust,
    organization_id: &str,
    report: &mut Report,
) -> Result<Option<Checkpoint>, ClientError> {
    let accepted = state.checkpoint_sizes()?;
    let Some(note) = remote.latest_checkpoint().await? else {
        match accepted.last() {
            Some(size) => {
                report.find(
                    FindingKind::Rollback,
                    format!("the server has no checkpoint, after one of size {size} was accepted"),
                );
            }
            None => report.pass("checkpoint", "the log has no checkpoint yet"),
        }
        return Ok(None);
    };
    let opened = match open_checkpoint(&note, &trust.key) {
        Ok(opened) => opened,
        Err(error) => {
            let evidence = state.store_evidence("bad-signature", 0, &note)?;
            report.check("signature", false, error.to_string());
            report
                .find(
                    FindingKind::BadSignature,
                    format!("the newest checkpoint does not verify under the trusted key: {error}"),
                )
                .evidence = Some(evidence);
            return Ok(None);
        }
    };
    report.checkpoint = Some(CheckpointSummary {
        origin: opened.origin.clone(),
        tree_size: opened.size,
        root_hash: BASE64_STANDARD.encode(opened.root),
        note: note.clone(),
    });
    report.pass("signature", "signed by the trusted key");
    let key_name = trust.key.split('+').next().unwrap_or_default();
    let origin = checkpoint_origin(key_name, organization_id);
    if opened.origin != origin {
        let evidence = state.store_evidence("wrong-origin", opened.size, &note)?;
        report.check(
            "origin",
            false,
            format!("{} is not {origin}", opened.origin),
        );
        report
            .find(
                FindingKind::WrongOrigin,
                format!(
                    "the checkpoint is of the log {}, not {origin}",
                    opened.origin
                ),
            )
            .evidence = Some(evidence);
        return Ok(None);
    }
    report.pass("origin", origin);
    cosignatures(&note, &trust.policy, report)?;
    if history(remote, state, trust, &opened, &note, &accepted, report).await? {
        state.store_checkpoint(opened.size, &note)?;
        Ok(Some(opened))
    } else {
        Ok(None)
    }
}

/// `k of n valid (quorum q)`; below quorum and invalid cosignatures are findings.
fn cosignatures(
    note: &str,
    policy: &WitnessPolicy,
    report: &mut Report,
) -> Result<(), ClientError> {
    if policy.quorum == 0 {
        report.pass("cosignatures", "no witness policy (quorum 0)");
        return Ok(());
    }
    let checked = check_cosignatures(note, policy)
        .map_err(|e| ClientError::Local(format!("the witness policy: {e}")))?;
    let summary = format!(
        "{} of {} valid (quorum {})",
        checked.valid_count(),
        checked.witnesses.len(),
        checked.quorum
    );
    for (name, status) in &checked.witnesses {
        if *status == CosignatureStatus::Invalid {
            report.find(
                FindingKind::InvalidCosignature,
                format!("the cosignature of witness {name} does not verify"),
            );
        }
    }
    report.check("cosignatures", checked.satisfied(), summary.clone());
    if !checked.satisfied() {
        let missing: Vec<&str> = checked
            .witnesses
            .iter()
            .filter(|(_, status)| !matches!(status, CosignatureStatus::Valid { .. }))
            .map(|(name, _)| name.as_str())
            .collect();
        report.find(
            FindingKind::PolicyNotMet,
            format!("{summary}; not validly cosigned by {}", missing.join(", ")),
        );
    }
    Ok(())
}

/// Holds the checkpoint to every accepted one: the same size must have the same root; a bigger
/// one must extend the newest accepted (consistency proof); a smaller one is a rollback. True
/// when it may be accepted.
async fn history(
    remote: &Remote,
    state: &StateDir,
    trust: &Trust,
    new: &Checkpoint,
    note: &str,
    accepted: &[u64],
    report: &mut Report,
) -> Result<bool, ClientError> {
    let open_stored = |size: u64| -> Result<Checkpoint, ClientError> {
        let stored = state.checkpoint(size)?.unwrap_or_default();
        open_checkpoint(&stored, &trust.key)
            .map_err(|e| ClientError::Local(format!("the stored checkpoint of size {size}: {e}")))
    };
    if accepted.contains(&new.size) {
        let old = open_stored(new.size)?;
        if old.root == new.root {
            report.pass(
                "history",
                format!("the same checkpoint as before (size {})", new.size),
            );
            return Ok(true);
        }
        let evidence = state.store_evidence("fork", new.size, note)?;
        report.check("history", false, "same size, another root");
        report
            .find(
                FindingKind::Fork,
                format!(
                    "a checkpoint of size {} with another root than the one accepted before: \
                     the log shows different histories (split view)",
                    new.size
                ),
            )
            .evidence = Some(evidence);
        return Ok(false);
    }
    let Some(&newest) = accepted.last() else {
        report.pass("history", "the first checkpoint seen (trust on first use)");
        return Ok(true);
    };
    if new.size < newest {
        let evidence = state.store_evidence("rollback", new.size, note)?;
        report.check("history", false, format!("size {} < {newest}", new.size));
        report
            .find(
                FindingKind::Rollback,
                format!(
                    "the newest checkpoint has size {}, smaller than the accepted {newest}",
                    new.size
                ),
            )
            .evidence = Some(evidence);
        return Ok(false);
    }
    let old = open_stored(newest)?;
    let proof = remote.consistency_proof(newest, new.size).await?;
    if verify_consistency(old.size, new.size, old.root, new.root, &proof) {
        report.pass(
            "history",
            format!(
                "size {} extends the accepted size {newest} (consistency proof)",
                new.size
            ),
        );
        return Ok(true);
    }
    let evidence = state.store_evidence("fork", new.size, note)?;
    report.check("history", false, "the consistency proof does not verify");
    report
        .find(
            FindingKind::Fork,
            format!(
                "the checkpoint of size {} does not extend the accepted one of size {newest} \
                 (its consistency proof does not verify): the log was forked or rewritten",
                new.size
            ),
        )
        .evidence = Some(evidence);
    Ok(false)
}
