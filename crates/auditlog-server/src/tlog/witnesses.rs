//! Asking witnesses (C2SP tlog-witness) to cosign each organization's newest checkpoint, and
//! publishing the policy (which witnesses, how many must cosign).
//!
//! Cosigning runs after a checkpoint is signed and stored, from the background builder (never
//! on the ingest path): each witness gets an `add-checkpoint` request with a consistency proof
//! from the size it last cosigned. Its cosignature lines are checked against its key and added
//! to the stored note, which the checkpoint routes serve. A witness that is down only leaves
//! the checkpoint with fewer cosignatures (policy checks say so) and is asked again with the
//! next round; a witness that refuses because the checkpoint does not extend what it cosigned
//! before (409 with a larger size or another root, 422) is evidence of a fork: reported as an
//! integrity failure, and remembered so that the signer refuses to sign past it.
//!
//! Witness URLs come from the operator, and calls to them are fenced like log streams' (HTTPS
//! unless allowed, no internal addresses unless allow-listed, no redirects, bounded).

use super::hashes::prefetch;
use super::{parse_note, LogError};
use crate::config::LogConfig;
use crate::outbound::{bounded_text, OutboundPolicy};
use auditlog_store::{Store, StoredCheckpoint};
use auditlog_tlog::cosignature::{
    add_signature_lines, check_cosignatures, AddCheckpoint, CosignatureStatus, CosignatureVerifier,
    PolicyWitness, WitnessPolicy,
};
use auditlog_tlog::{consistency_proof, Hash};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How many times one witness is asked again after it names another old size (409).
const MAX_SIZE_RETRIES: usize = 2;

struct Endpoint {
    witness: PolicyWitness,
    url: String,
}

/// The configured witnesses, the policy published for them, and what this node learned from
/// them (kept in memory: the database is what an attacker may control).
pub struct Witnesses {
    endpoints: Vec<Endpoint>,
    policy: WitnessPolicy,
    fence: OutboundPolicy,
    http: reqwest::Client,
    /// Per (witness name, origin): the size it last cosigned.
    cosigned_sizes: Mutex<HashMap<(String, String), u64>>,
    /// Per origin: the largest (size, root) any witness is known to hold.
    known: Mutex<HashMap<String, (u64, Hash)>>,
}

/// What asking the witnesses for one checkpoint gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignOutcome {
    /// Witnesses that cosigned.
    pub cosigned: Vec<String>,
    /// Witnesses that could not be asked or did not answer usefully, with why.
    pub unavailable: Vec<(String, String)>,
    /// Witnesses that refused because the checkpoint does not extend what they cosigned.
    pub refused: Vec<(String, String)>,
}

/// One witness's answer.
enum Answer {
    Cosigned(String),
    Unavailable(String),
    Refused(String),
}

impl Witnesses {
    pub fn from_config(config: &LogConfig) -> anyhow::Result<Witnesses> {
        let fence = OutboundPolicy {
            allow_plaintext: config.witness_allow_plaintext,
            allow_networks: config.witness_allow_networks.clone(),
        };
        let mut endpoints = Vec::new();
        for endpoint in &config.witnesses {
            let verifier = CosignatureVerifier::new(&endpoint.verifier_key)?;
            fence
                .check_url(&endpoint.url)
                .map_err(|e| anyhow::anyhow!("--witness {}: {e}", endpoint.url))?;
            let name = verifier.witness_name().to_string();
            if endpoints.iter().any(|e: &Endpoint| e.witness.name == name) {
                anyhow::bail!("--witness: two witnesses are named {name}");
            }
            endpoints.push(Endpoint {
                witness: PolicyWitness {
                    name,
                    verifier_key: verifier.verifier_key(),
                },
                url: endpoint.url.clone(),
            });
        }
        let quorum = match (config.witness_quorum, endpoints.len()) {
            (Some(quorum), n) if quorum > n => {
                anyhow::bail!("--witness-quorum {quorum} is more than the {n} configured witnesses")
            }
            (Some(quorum), _) => quorum,
            (None, 0) => 0,
            (None, _) => 1,
        };
        let policy = WitnessPolicy {
            quorum,
            witnesses: endpoints.iter().map(|e| e.witness.clone()).collect(),
        };
        let http = fence.http_client(Duration::from_secs(config.witness_timeout_secs.max(1)));
        Ok(Witnesses {
            endpoints,
            policy,
            fence,
            http,
            cosigned_sizes: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        })
    }

    /// The published policy.
    pub fn policy(&self) -> &WitnessPolicy {
        &self.policy
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The largest checkpoint (size, root) of `origin` a witness is known to hold.
    pub fn known(&self, origin: &str) -> Option<(u64, Hash)> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(origin)
            .copied()
    }

    fn learn(&self, origin: &str, size: u64, root: Hash) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let entry = known.entry(origin.to_string()).or_insert((size, root));
        if size > entry.0 {
            *entry = (size, root);
        }
    }

    /// Asks every witness to cosign `checkpoint` (the organization's newest), adds the valid
    /// cosignature lines to the stored note, and says who cosigned.
    pub async fn cosign(
        &self,
        store: &dyn Store,
        checkpoint: &StoredCheckpoint,
    ) -> Result<CosignOutcome, LogError> {
        let mut outcome = CosignOutcome {
            cosigned: Vec::new(),
            unavailable: Vec::new(),
            refused: Vec::new(),
        };
        if self.endpoints.is_empty() {
            return Ok(outcome);
        }
        let (origin, size, root) = parse_note(&checkpoint.note).ok_or_else(|| {
            LogError::Integrity(format!(
                "the stored checkpoint at size {} does not parse",
                checkpoint.tree_size
            ))
        })?;
        // Only the log's own signature goes to witnesses: cosignatures already on the note are
        // theirs to give again.
        let log_signed = log_signed_note(&checkpoint.note, &origin);
        let answers = futures::future::join_all(self.endpoints.iter().map(|endpoint| {
            self.ask(
                store,
                &checkpoint.organization_id,
                endpoint,
                &origin,
                size,
                &log_signed,
            )
        }))
        .await;
        let mut lines = String::new();
        for (endpoint, answer) in self.endpoints.iter().zip(answers) {
            let name = endpoint.witness.name.clone();
            match answer {
                Answer::Cosigned(line) => {
                    lines.push_str(&line);
                    outcome.cosigned.push(name);
                }
                Answer::Unavailable(why) => outcome.unavailable.push((name, why)),
                Answer::Refused(why) => outcome.refused.push((name, why)),
            }
        }
        if !outcome.cosigned.is_empty() {
            self.learn(&origin, size, root);
            let note = add_signature_lines(&checkpoint.note, &lines);
            store
                .record_cosigned_note(&checkpoint.organization_id, checkpoint.tree_size, &note)
                .await?;
        }
        for (name, why) in &outcome.refused {
            tracing::error!(
                organization_id = %checkpoint.organization_id,
                witness = %name,
                size,
                "a witness refused the log's checkpoint (log_integrity_failure): {why}"
            );
        }
        Ok(outcome)
    }

    /// One witness: `add-checkpoint` from the size it last cosigned, again from the size it
    /// names if that was not it.
    async fn ask(
        &self,
        store: &dyn Store,
        organization_id: &str,
        endpoint: &Endpoint,
        origin: &str,
        size: u64,
        note: &str,
    ) -> Answer {
        let key = (endpoint.witness.name.clone(), origin.to_string());
        let mut old_size = self
            .cosigned_sizes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied()
            .unwrap_or(0);
        for _ in 0..=MAX_SIZE_RETRIES {
            if old_size > size {
                return Answer::Refused(format!(
                    "it has cosigned a checkpoint of size {old_size}, larger than this log's \
                     {size}: the log was rolled back or forked"
                ));
            }
            let proof = match proof_from(store, organization_id, old_size, size).await {
                Ok(proof) => proof,
                Err(error) => return Answer::Unavailable(format!("no consistency proof: {error}")),
            };
            let body = AddCheckpoint {
                old_size,
                proof,
                checkpoint: note.to_string(),
            }
            .to_body();
            let url = format!("{}/add-checkpoint", endpoint.url);
            if let Err(error) = self.fence.check_url(&url) {
                return Answer::Unavailable(error.to_string());
            }
            let response = match self.http.post(&url).body(body).send().await {
                Ok(response) => response,
                Err(error) => return Answer::Unavailable(format!("unreachable: {error}")),
            };
            let status = response.status().as_u16();
            let is_size = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/x.tlog.size"));
            let text = bounded_text(response).await;
            match status {
                200 => return self.accept(endpoint, &key, size, note, &text),
                409 if is_size => match text.trim_end_matches('\n').parse::<u64>() {
                    Ok(theirs) if theirs == old_size => {
                        return Answer::Refused(format!(
                            "it holds another tree head at size {old_size}: a fork"
                        ))
                    }
                    Ok(theirs) => old_size = theirs,
                    Err(_) => return Answer::Unavailable(format!("409 without a size: {text}")),
                },
                409 => return Answer::Refused(format!("409: {}", text.trim())),
                422 => {
                    return Answer::Refused(format!(
                        "the consistency proof from size {old_size} does not verify against \
                         what it cosigned (422): a fork"
                    ))
                }
                other => return Answer::Unavailable(format!("answered {other}: {}", text.trim())),
            }
        }
        Answer::Unavailable("it kept naming other sizes".into())
    }

    /// Checks a witness's 200 answer: one valid cosignature line of its key on this note.
    fn accept(
        &self,
        endpoint: &Endpoint,
        key: &(String, String),
        size: u64,
        note: &str,
        answer: &str,
    ) -> Answer {
        let policy = WitnessPolicy {
            quorum: 1,
            witnesses: vec![endpoint.witness.clone()],
        };
        let prefix = format!("— {} ", endpoint.witness.name);
        let line = answer
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .map(|line| format!("{line}\n"))
            .find(|line| {
                check_cosignatures(&add_signature_lines(note, line), &policy).is_ok_and(|report| {
                    matches!(report.witnesses[0].1, CosignatureStatus::Valid { .. })
                })
            });
        match line {
            Some(line) => {
                self.cosigned_sizes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key.clone(), size);
                Answer::Cosigned(line)
            }
            None => Answer::Unavailable("its answer holds no valid cosignature of its key".into()),
        }
    }
}

/// The note with only the log's own signature line (key name = origin).
fn log_signed_note(note: &str, origin: &str) -> String {
    let Some((body, signatures)) = note.split_once("\n\n") else {
        return note.to_string();
    };
    let own = format!("— {origin} ");
    let mut text = format!("{body}\n\n");
    for line in signatures.lines().filter(|line| line.starts_with(&own)) {
        text.push_str(line);
        text.push('\n');
    }
    text
}

async fn proof_from(
    store: &dyn Store,
    organization_id: &str,
    old_size: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    // Between equal sizes the proof is empty (the witness compares the roots).
    if old_size == size {
        return Ok(Vec::new());
    }
    let hashes = prefetch(store, organization_id, |dry| {
        let _ = consistency_proof(old_size, size, dry);
    })
    .await?;
    Ok(consistency_proof(old_size, size, &hashes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witnesses_get_the_log_signature_only() {
        let note = "o/1\n5\nAAAA\n\n— o/1 LOGSIG\n— w.example COSIG\n";
        assert_eq!(
            log_signed_note(note, "o/1"),
            "o/1\n5\nAAAA\n\n— o/1 LOGSIG\n"
        );
    }

    #[test]
    fn quorums_default_to_one_and_cannot_exceed_the_witnesses() {
        let signer =
            auditlog_tlog::cosignature::WitnessSigner::from_seed("w.example", [1; 32]).unwrap();
        let mut config = LogConfig::default();
        assert_eq!(Witnesses::from_config(&config).unwrap().policy().quorum, 0);
        config.witnesses = vec![format!("{}=https://w.example/", signer.verifier_key())
            .parse()
            .unwrap()];
        let witnesses = Witnesses::from_config(&config).unwrap();
        assert_eq!(witnesses.policy().quorum, 1);
        assert_eq!(witnesses.policy().witnesses[0].name, "w.example");
        config.witness_quorum = Some(2);
        assert!(Witnesses::from_config(&config).is_err());
        config.witness_quorum = None;
        config.witnesses = vec![format!("{}=http://w.example", signer.verifier_key())
            .parse()
            .unwrap()];
        assert!(
            Witnesses::from_config(&config).is_err(),
            "http needs allowing"
        );
    }
}
