//! Witness cosignatures (C2SP tlog-cosignature, Ed25519 `cosignature/v1`) and the body of a
//! C2SP tlog-witness `add-checkpoint` request.
//!
//! A cosignature is a note signature line `— <witness name> base64(key id ‖ timestamp ‖
//! signature)`, key id = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4], timestamp = POSIX
//! seconds (u64, big-endian), and the signature is Ed25519 over
//! `cosignature/v1\ntime <timestamp>\n<checkpoint body>`. A witness's verifier key is
//! `<name>+<hex key id>+base64(0x04 ‖ public key)`.
//!
//! A log publishes a [`WitnessPolicy`]: its witnesses' verifier keys and how many of them must
//! cosign a checkpoint. [`check_cosignatures`] says which did.

use crate::{Checkpoint, Hash};
use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{Signature as Ed25519Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use signed_note::{is_key_name_valid, key_id, Note, Verifier, VerifierList};

/// The signature type byte of an Ed25519 cosigner key.
const ALG_COSIGNATURE_V1: u8 = 4;
/// The most consistency proof lines a witness accepts (C2SP tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("invalid witness name {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidName(String),
    #[error("invalid witness verifier key: {0}")]
    InvalidVerifierKey(String),
    #[error("malformed checkpoint note: {0}")]
    MalformedNote(String),
    #[error("malformed add-checkpoint request: {0}")]
    MalformedRequest(String),
}

fn encoded_public_key(key: &VerifyingKey) -> Vec<u8> {
    let mut bytes = vec![ALG_COSIGNATURE_V1];
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

/// The message a `cosignature/v1` signs: header, time line, then the note body (the
/// checkpoint's text, ending in a newline).
pub fn cosigned_message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

/// A witness's key: it cosigns checkpoints it has checked.
#[derive(Clone)]
pub struct WitnessSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WitnessSigner({})", self.verifier_key())
    }
}

impl WitnessSigner {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, CosignatureError> {
        if !is_key_name_valid(name) {
            return Err(CosignatureError::InvalidName(name.into()));
        }
        Ok(WitnessSigner {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &encoded_public_key(&self.key.verifying_key()))
    }

    /// `<name>+<hex key id>+base64(0x04 ‖ public key)`, to publish and to configure logs with.
    pub fn verifier_key(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            BASE64_STANDARD.encode(encoded_public_key(&self.key.verifying_key()))
        )
    }

    /// The cosignature line (ending in a newline) of a checkpoint whose note body is `body`.
    pub fn cosign(&self, body: &[u8], timestamp: u64) -> String {
        let signature = self.key.sign(&cosigned_message(timestamp, body));
        let mut bytes = self.key_id().to_be_bytes().to_vec();
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        format!("— {} {}\n", self.name, BASE64_STANDARD.encode(bytes))
    }
}

/// Checks `cosignature/v1` signatures of one witness; plugs into [`signed_note`]'s note
/// verification, which matches signature lines to it by name and key id.
#[derive(Debug, Clone)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// From a witness verifier key `<name>+<hex key id>+base64(0x04 ‖ public key)`.
    pub fn new(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = |why: &str| CosignatureError::InvalidVerifierKey(format!("{vkey:?}: {why}"));
        let mut parts = vkey.trim().splitn(3, '+');
        let (name, id, key) = match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(id), Some(key)) => (name, id, key),
            _ => return Err(bad("expected <name>+<key id>+<key>")),
        };
        if !is_key_name_valid(name) {
            return Err(bad("the name is empty or has spaces or '+'"));
        }
        let encoded = BASE64_STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let public: [u8; 32] = match encoded.split_first() {
            Some((&ALG_COSIGNATURE_V1, public)) => public
                .try_into()
                .map_err(|_| bad("the key is not 32 bytes"))?,
            _ => return Err(bad("not a cosignature/v1 (type 0x04) key")),
        };
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 key"))?;
        let expected = key_id(name, &encoded);
        if u32::from_str_radix(id, 16).ok() != Some(expected) || id.len() != 8 {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(CosignatureVerifier {
            name: name.into(),
            id: expected,
            key,
        })
    }

    /// The witness's name.
    pub fn witness_name(&self) -> &str {
        &self.name
    }

    /// The witness's verifier key, as it would be published.
    pub fn verifier_key(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64_STANDARD.encode(encoded_public_key(&self.key))
        )
    }

    /// The timestamp of a cosignature (the bytes after the key id), if it has the right size.
    fn timestamp_of(sig: &[u8]) -> Option<u64> {
        (sig.len() == 8 + 64).then(|| u64::from_be_bytes(sig[..8].try_into().unwrap_or_default()))
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some(timestamp) = Self::timestamp_of(sig) else {
            return false;
        };
        // C2SP: the timestamp must fit in 63 bits.
        if timestamp > i64::MAX as u64 {
            return false;
        }
        let Ok(signature) = Ed25519Signature::from_slice(&sig[8..]) else {
            return false;
        };
        self.key
            .verify_strict(&cosigned_message(timestamp, msg), &signature)
            .is_ok()
    }
}

/// One witness a log asks for cosignatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyWitness {
    /// The witness's name (its verifier key's name).
    pub name: String,
    /// `<name>+<hex key id>+base64(0x04 ‖ public key)`.
    pub verifier_key: String,
}

/// Which witnesses a log's checkpoints should carry cosignatures from, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WitnessPolicy {
    /// Cosignatures required of `witnesses` (0 when the log has no witnesses).
    pub quorum: usize,
    pub witnesses: Vec<PolicyWitness>,
}

/// What one witness's cosignature on a checkpoint says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CosignatureStatus {
    /// Valid, made at this POSIX time.
    Valid { timestamp: u64 },
    /// The note carries no signature line of this witness.
    Missing,
    /// A line with the witness's name and key id whose signature does not verify.
    Invalid,
}

/// How a checkpoint note meets a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    pub quorum: usize,
    /// Per witness of the policy, in its order: (name, status).
    pub witnesses: Vec<(String, CosignatureStatus)>,
}

impl PolicyReport {
    pub fn valid_count(&self) -> usize {
        self.witnesses
            .iter()
            .filter(|(_, status)| matches!(status, CosignatureStatus::Valid { .. }))
            .count()
    }

    /// Whether at least `quorum` witnesses cosigned validly.
    pub fn satisfied(&self) -> bool {
        self.valid_count() >= self.quorum
    }
}

/// Checks every witness of `policy` against the cosignatures on `note_text` (the log's own
/// signature is not checked here: see [`crate::open_checkpoint`]).
pub fn check_cosignatures(
    note_text: &str,
    policy: &WitnessPolicy,
) -> Result<PolicyReport, CosignatureError> {
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| CosignatureError::MalformedNote(e.to_string()))?;
    let mut witnesses = Vec::with_capacity(policy.witnesses.len());
    for witness in &policy.witnesses {
        let verifier = CosignatureVerifier::new(&witness.verifier_key)?;
        let timestamp = signature_lines(note_text).find_map(|sig| {
            (sig.name() == verifier.name && sig.id() == verifier.id)
                .then(|| CosignatureVerifier::timestamp_of(sig.signature()))
                .flatten()
        });
        let known = VerifierList::new(vec![Box::new(verifier) as Box<dyn Verifier>]);
        let status = match (note.verify(&known), timestamp) {
            (Ok(_), Some(timestamp)) => CosignatureStatus::Valid { timestamp },
            (Err(signed_note::NoteError::UnverifiedNote), _) => CosignatureStatus::Missing,
            _ => CosignatureStatus::Invalid,
        };
        witnesses.push((witness.name.clone(), status));
    }
    Ok(PolicyReport {
        quorum: policy.quorum,
        witnesses,
    })
}

/// The parsed signature lines of a note (after its blank line); unparsable ones skipped.
fn signature_lines(note_text: &str) -> impl Iterator<Item = signed_note::Signature> + '_ {
    let signatures = note_text.split_once("\n\n").map_or("", |(_, sigs)| sigs);
    signatures
        .lines()
        .filter_map(|line| signed_note::Signature::from_bytes(line.as_bytes()).ok())
}

/// Adds signature lines (each `— …\n`) to a signed note, skipping any it already carries.
pub fn add_signature_lines(note_text: &str, lines: &str) -> String {
    let mut note = note_text.to_string();
    for line in lines.lines().filter(|line| line.starts_with("— ")) {
        if !note.lines().any(|existing| existing == line) {
            note.push_str(line);
            note.push('\n');
        }
    }
    note
}

/// The signature lines of a note that are not the log's own (by key name).
pub fn cosignature_lines(note_text: &str, log_key_name: &str) -> Vec<String> {
    let prefix = format!("— {log_key_name} ");
    note_text
        .lines()
        .filter(|line| line.starts_with("— ") && !line.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// A checkpoint note as a witness reads it before checking any signature: the parsed body, to
/// find the trusted log by origin, and the exact note text that a cosignature signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The note text (the checkpoint body, ending in a newline), as signed-note parsing splits
    /// it from the signatures.
    pub body: String,
}

/// Parses a checkpoint note without trusting it (it is verified afterwards with
/// [`crate::open_checkpoint`] against the key trusted for its origin).
pub fn read_checkpoint_note(note_text: &str) -> Result<UnverifiedCheckpoint, CosignatureError> {
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| CosignatureError::MalformedNote(e.to_string()))?;
    let parsed = tlog_tiles::Checkpoint::from_bytes(note.text())
        .map_err(|e| CosignatureError::MalformedNote(format!("not a checkpoint: {e}")))?;
    let body = String::from_utf8(note.text().to_vec())
        .map_err(|e| CosignatureError::MalformedNote(e.to_string()))?;
    Ok(UnverifiedCheckpoint {
        checkpoint: Checkpoint {
            origin: parsed.origin().to_string(),
            size: parsed.size(),
            root: parsed.hash().0,
        },
        body,
    })
}

/// A C2SP tlog-witness `add-checkpoint` request body: the size the witness last cosigned, a
/// consistency proof from it, and the checkpoint (a signed note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: String,
}

impl AddCheckpoint {
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&BASE64_STANDARD.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    /// Parses a request body exactly as the spec writes it (decimal without leading zeros,
    /// at most 63 proof lines, every line ending in a newline).
    pub fn parse(body: &str) -> Result<AddCheckpoint, CosignatureError> {
        let bad = |why: &str| CosignatureError::MalformedRequest(why.into());
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|line| line.strip_prefix("old "))
            .ok_or_else(|| bad("the first line must be `old <size>`"))?;
        if old.is_empty() || (old.len() > 1 && old.starts_with('0')) {
            return Err(bad("the old size must be decimal without leading zeros"));
        }
        let old_size: u64 = old
            .parse()
            .map_err(|_| bad("the old size is not a decimal number"))?;
        let mut proof = Vec::new();
        for line in lines {
            let hash: Hash = BASE64_STANDARD
                .decode(line)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| bad("a consistency proof line is not a base64 SHA-256 hash"))?;
            proof.push(hash);
        }
        if proof.len() > MAX_PROOF_LINES {
            return Err(bad("more than 63 consistency proof lines"));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckpointSigner;

    fn note() -> String {
        CheckpointSigner::from_seed("log.example", [1; 32])
            .unwrap()
            .sign_checkpoint("log.example/org_1", 5, [7; 32])
            .unwrap()
    }

    fn body(note: &str) -> &str {
        &note[..note.find("\n\n").unwrap() + 1]
    }

    fn policy(witnesses: &[&WitnessSigner], quorum: usize) -> WitnessPolicy {
        WitnessPolicy {
            quorum,
            witnesses: witnesses
                .iter()
                .map(|w| PolicyWitness {
                    name: w.name().into(),
                    verifier_key: w.verifier_key(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_signed_message_is_the_specs() {
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            String::from_utf8(cosigned_message(1679315147, body.as_bytes())).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n\
             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosignature_verifies_by_hand_and_through_the_note() {
        let witness = WitnessSigner::from_seed("witness.example/w1", [2; 32]).unwrap();
        let note = note();
        let line = witness.cosign(body(&note).as_bytes(), 1_700_000_000);
        // By hand, from the spec: key id ‖ big-endian time ‖ Ed25519 over the message.
        let encoded = line.trim_end().rsplit(' ').next().unwrap();
        let bytes = BASE64_STANDARD.decode(encoded).unwrap();
        assert_eq!(bytes.len(), 4 + 8 + 64);
        let public = SigningKey::from_bytes(&[2; 32]).verifying_key();
        let mut id_input = b"witness.example/w1\n\x04".to_vec();
        id_input.extend_from_slice(public.as_bytes());
        let id = <sha2::Sha256 as sha2::Digest>::digest(&id_input);
        assert_eq!(&bytes[..4], &id[..4]);
        assert_eq!(
            u64::from_be_bytes(bytes[4..12].try_into().unwrap()),
            1_700_000_000
        );
        let signature = Ed25519Signature::from_slice(&bytes[12..]).unwrap();
        public
            .verify_strict(
                &cosigned_message(1_700_000_000, body(&note).as_bytes()),
                &signature,
            )
            .unwrap();

        let cosigned = add_signature_lines(&note, &line);
        let report = check_cosignatures(&cosigned, &policy(&[&witness], 1)).unwrap();
        assert_eq!(
            report.witnesses,
            vec![(
                "witness.example/w1".into(),
                CosignatureStatus::Valid {
                    timestamp: 1_700_000_000
                }
            )]
        );
        assert!(report.satisfied());
        // The log's own signature still verifies with the extra line.
        crate::open_checkpoint(
            &cosigned,
            &CheckpointSigner::from_seed("log.example", [1; 32])
                .unwrap()
                .verifier_key(),
        )
        .unwrap();
    }

    #[test]
    fn policies_count_missing_and_forged_cosignatures() {
        let w1 = WitnessSigner::from_seed("w1.example", [3; 32]).unwrap();
        let w2 = WitnessSigner::from_seed("w2.example", [4; 32]).unwrap();
        let note = note();
        let other = CheckpointSigner::from_seed("log.example", [1; 32])
            .unwrap()
            .sign_checkpoint("log.example/org_1", 5, [8; 32])
            .unwrap();
        // w2's line is for another checkpoint: it does not verify on this one.
        let lines = w1.cosign(body(&note).as_bytes(), 10) + &w2.cosign(body(&other).as_bytes(), 10);
        let report =
            check_cosignatures(&add_signature_lines(&note, &lines), &policy(&[&w1, &w2], 2))
                .unwrap();
        assert_eq!(
            report.witnesses[0].1,
            CosignatureStatus::Valid { timestamp: 10 }
        );
        assert_eq!(report.witnesses[1].1, CosignatureStatus::Invalid);
        assert!(!report.satisfied());
        let only_w1 = add_signature_lines(&note, &w1.cosign(body(&note).as_bytes(), 10));
        let report = check_cosignatures(&only_w1, &policy(&[&w1, &w2], 2)).unwrap();
        assert_eq!(report.witnesses[1].1, CosignatureStatus::Missing);
        assert_eq!(report.valid_count(), 1);
        assert!(check_cosignatures(&only_w1, &policy(&[&w1, &w2], 1))
            .unwrap()
            .satisfied());
    }

    #[test]
    fn verifier_keys_round_trip_and_refuse_other_types() {
        let witness = WitnessSigner::from_seed("w.example", [5; 32]).unwrap();
        let vkey = witness.verifier_key();
        assert_eq!(
            CosignatureVerifier::new(&vkey).unwrap().verifier_key(),
            vkey
        );
        // A log (type 0x01) key is not a cosigner key.
        let log_key = CheckpointSigner::from_seed("w.example", [5; 32])
            .unwrap()
            .verifier_key();
        assert!(CosignatureVerifier::new(&log_key).is_err());
        let wrong_id = vkey.replacen('+', "+0", 1);
        assert!(CosignatureVerifier::new(&wrong_id).is_err());
        assert!(CosignatureVerifier::new("w.example").is_err());
    }

    #[test]
    fn add_checkpoint_bodies_round_trip_and_refuse_what_the_spec_forbids() {
        let request = AddCheckpoint {
            old_size: 3,
            proof: vec![[1; 32], [2; 32]],
            checkpoint: note(),
        };
        let body = request.to_body();
        assert!(body.starts_with("old 3\nAQEB"));
        assert_eq!(AddCheckpoint::parse(&body).unwrap(), request);
        let empty = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: note(),
        };
        assert!(empty.to_body().starts_with("old 0\n\n"));
        assert_eq!(AddCheckpoint::parse(&empty.to_body()).unwrap(), empty);
        for bad in [
            format!("old 03\n\n{}", note()),
            format!("old -1\n\n{}", note()),
            format!("old\n\n{}", note()),
            format!("new 3\n\n{}", note()),
            format!("old 3\nnot-base64\n\n{}", note()),
            format!("old 3\n{}\n\n{}", BASE64_STANDARD.encode([1; 31]), note()),
            format!(
                "old 3\n{}\n{}",
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n".repeat(64),
                note()
            ),
            "old 3\n".to_string(),
        ] {
            assert!(AddCheckpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checkpoint_notes_are_read_before_they_are_trusted() {
        let witness = WitnessSigner::from_seed("w.example", [6; 32]).unwrap();
        let note = note();
        let cosigned = add_signature_lines(&note, &witness.cosign(body(&note).as_bytes(), 1));
        let read = read_checkpoint_note(&cosigned).unwrap();
        assert_eq!(read.body, body(&note));
        assert_eq!(read.checkpoint.origin, "log.example/org_1");
        assert_eq!((read.checkpoint.size, read.checkpoint.root), (5, [7; 32]));
        for bad in ["", "log.example\n\n", "not\na\ncheckpoint\n\n— x AAAA\n"] {
            assert!(read_checkpoint_note(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cosignature_lines_leave_out_the_logs_own() {
        let witness = WitnessSigner::from_seed("w.example", [6; 32]).unwrap();
        let note = note();
        let cosigned = add_signature_lines(&note, &witness.cosign(body(&note).as_bytes(), 1));
        let lines = cosignature_lines(&cosigned, "log.example/org_1");
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("— w.example "));
        // Adding the same line again changes nothing.
        assert_eq!(add_signature_lines(&cosigned, &lines[0]), cosigned);
    }
}
