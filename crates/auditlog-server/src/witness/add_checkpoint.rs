//! `add-checkpoint` as C2SP tlog-witness specifies it, without HTTP: parse the body, find the
//! trusted log by the checkpoint's origin (404), check its signature (403), then against the
//! latest checkpoint cosigned for that origin: old size ≤ new size (400), old size = latest
//! size (409 with the latest size), same root at the same size (409), consistency proof
//! (422); on success persist the new checkpoint by compare-and-set, then cosign.

use super::store::{LatestCheckpoint, WitnessStore};
use super::trusted_logs::TrustedLogs;
use auditlog_tlog::cosignature::{read_checkpoint_note, AddCheckpoint, WitnessSigner};
use auditlog_tlog::{open_checkpoint, verify_consistency, Checkpoint, Hash, EMPTY_ROOT};

/// Why an add-checkpoint request was not cosigned.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    #[error("no signature of a key trusted for {0:?} verifies")]
    Untrusted(String),
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldSizeTooLarge { old: u64, size: u64 },
    #[error("old size {old} is not the latest cosigned size {latest}")]
    Stale { old: u64, latest: u64 },
    #[error("size {size} was cosigned with another root hash")]
    RootMismatch { size: u64 },
    #[error("invalid consistency proof: {0}")]
    InvalidProof(String),
    #[error("witness store: {0:#}")]
    Store(anyhow::Error),
}

impl AddError {
    /// The HTTP status the spec gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            AddError::Malformed(_) | AddError::OldSizeTooLarge { .. } => 400,
            AddError::Untrusted(_) => 403,
            AddError::UnknownOrigin(_) => 404,
            AddError::Stale { .. } | AddError::RootMismatch { .. } => 409,
            AddError::InvalidProof(_) => 422,
            AddError::Store(_) => 500,
        }
    }
}

/// The witness: its key, the logs it trusts and what it cosigned.
pub struct Witness {
    pub signer: WitnessSigner,
    pub logs: TrustedLogs,
    pub store: WitnessStore,
}

/// The current POSIX time in seconds (the cosignature timestamp).
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Checks a verified checkpoint and the request's old size and proof against the latest
/// cosigned checkpoint of its origin (`None`: never cosigned, which counts as size 0).
fn check_against_latest(
    request: &AddCheckpoint,
    new: &Checkpoint,
    latest: Option<(u64, Hash)>,
) -> Result<(), AddError> {
    let old = request.old_size;
    if old > new.size {
        return Err(AddError::OldSizeTooLarge {
            old,
            size: new.size,
        });
    }
    // The store keeps sizes as SQLite integers; no real log reaches 2^63 leaves.
    if i64::try_from(new.size).is_err() {
        return Err(AddError::Malformed(
            "the checkpoint size exceeds 2^63".into(),
        ));
    }
    let (latest_size, latest_root) = latest.unwrap_or((0, EMPTY_ROOT));
    if old != latest_size {
        return Err(AddError::Stale {
            old,
            latest: latest_size,
        });
    }
    if old == new.size {
        if new.root != latest_root {
            return Err(AddError::RootMismatch { size: new.size });
        }
        // RFC 9162: the consistency proof between a tree and itself is empty.
        if !request.proof.is_empty() {
            return Err(AddError::InvalidProof(
                "a proof between equal sizes must be empty".into(),
            ));
        }
        return Ok(());
    }
    if old == 0 && !request.proof.is_empty() {
        return Err(AddError::InvalidProof(
            "the proof from size 0 must be empty".into(),
        ));
    }
    if !verify_consistency(old, new.size, latest_root, new.root, &request.proof) {
        return Err(AddError::InvalidProof(format!(
            "the proof does not show size {old} is a prefix of size {}",
            new.size
        )));
    }
    Ok(())
}

impl Witness {
    /// Handles one request body; returns the cosignature line(s) to answer with.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<String, AddError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| AddError::Malformed("the body is not UTF-8".into()))?;
        let request = AddCheckpoint::parse(text).map_err(|e| AddError::Malformed(e.to_string()))?;
        let unverified = read_checkpoint_note(&request.checkpoint)
            .map_err(|e| AddError::Malformed(e.to_string()))?;
        let origin = unverified.checkpoint.origin.clone();
        let keys = self.logs.keys_for(&origin);
        if keys.is_empty() {
            return Err(AddError::UnknownOrigin(origin));
        }
        let verified = keys
            .iter()
            .find_map(|key| open_checkpoint(&request.checkpoint, key).ok())
            .ok_or_else(|| AddError::Untrusted(origin.clone()))?;
        let result = self
            .check_and_store(&request, &verified, &unverified.body)
            .await;
        if let Err(refusal) = &result {
            if refusal.status() < 500 {
                self.record(&origin, refusal, &unverified.body, &request.checkpoint)
                    .await;
            }
        }
        result
    }

    async fn check_and_store(
        &self,
        request: &AddCheckpoint,
        new: &Checkpoint,
        body: &str,
    ) -> Result<String, AddError> {
        // Each lost compare-and-set means the stored size grew past the request's old size
        // (sizes only grow), so the next pass answers 409: this loop runs at most twice.
        loop {
            let latest = self
                .store
                .latest(&new.origin)
                .await
                .map_err(AddError::Store)?
                .map(|latest| (latest.size, latest.root));
            check_against_latest(request, new, latest)?;
            let timestamp = now_secs();
            let cosignature = self.signer.cosign(body.as_bytes(), timestamp);
            let stored = LatestCheckpoint {
                origin: new.origin.clone(),
                size: new.size,
                root: new.root,
                note: request.checkpoint.clone(),
                cosignature: cosignature.clone(),
                updated_at: i64::try_from(timestamp).unwrap_or(i64::MAX),
            };
            if self
                .store
                .advance(latest, &stored)
                .await
                .map_err(AddError::Store)?
            {
                return Ok(cosignature);
            }
        }
    }

    /// Keeps a refusal of a signed checkpoint as possible evidence of a fork. Failing to
    /// record it does not change the answer (the refusal stands): it is logged instead.
    async fn record(&self, origin: &str, refusal: &AddError, body: &str, note: &str) {
        let at = i64::try_from(now_secs()).unwrap_or(i64::MAX);
        let reason = refusal.to_string();
        if matches!(
            refusal,
            AddError::RootMismatch { .. } | AddError::InvalidProof(_)
        ) {
            tracing::warn!(origin, %reason, "refused a signed checkpoint: possible fork");
        }
        if let Err(error) = self
            .store
            .record_refusal(origin, refusal.status(), &reason, body, note, at)
            .await
        {
            tracing::error!(origin, error = %format!("{error:#}"), "could not record a refusal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(size: u64, root: u8) -> Checkpoint {
        Checkpoint {
            origin: "o".into(),
            size,
            root: [root; 32],
        }
    }

    fn request(old_size: u64, proof: Vec<Hash>) -> AddCheckpoint {
        AddCheckpoint {
            old_size,
            proof,
            checkpoint: String::new(),
        }
    }

    #[test]
    fn the_checks_follow_the_spec_in_order() {
        let status = |request: AddCheckpoint, new: Checkpoint, latest: Option<(u64, Hash)>| {
            check_against_latest(&request, &new, latest).map_or_else(|e| e.status(), |()| 200)
        };
        assert_eq!(status(request(0, vec![]), checkpoint(5, 1), None), 200);
        assert_eq!(status(request(6, vec![]), checkpoint(5, 1), None), 400);
        assert_eq!(
            status(request(6, vec![]), checkpoint(5, 1), Some((6, [1; 32]))),
            400
        );
        assert_eq!(
            status(request(0, vec![[0; 32]]), checkpoint(5, 1), None),
            422
        );
        assert_eq!(status(request(2, vec![]), checkpoint(5, 1), None), 409);
        assert_eq!(
            status(request(0, vec![]), checkpoint(5, 1), Some((3, [1; 32]))),
            409
        );
        assert_eq!(
            status(request(5, vec![]), checkpoint(5, 1), Some((5, [1; 32]))),
            200
        );
        assert_eq!(
            status(request(5, vec![]), checkpoint(5, 2), Some((5, [1; 32]))),
            409
        );
        assert_eq!(
            status(
                request(5, vec![[0; 32]]),
                checkpoint(5, 1),
                Some((5, [1; 32]))
            ),
            422
        );
        assert_eq!(
            status(
                request(3, vec![[0; 32]]),
                checkpoint(5, 1),
                Some((3, [1; 32]))
            ),
            422
        );
        // The empty tree has one root.
        assert_eq!(status(request(0, vec![]), checkpoint(0, 1), None), 409);
        let empty = Checkpoint {
            root: EMPTY_ROOT,
            ..checkpoint(0, 0)
        };
        assert_eq!(status(request(0, vec![]), empty, None), 200);
        assert_eq!(
            status(request(0, vec![]), checkpoint(u64::MAX, 1), None),
            400
        );
    }
}
