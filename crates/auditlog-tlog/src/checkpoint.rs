//! Signed tree heads: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519.
//!
//! One Ed25519 key per deployment signs every organization's checkpoints and every export
//! manifest. Its published verifier key is `<deployment name>+<key id>+<base64(0x01 ‖ public
//! key)>`, key id = first 4 bytes (big-endian) of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), as
//! the signed-note spec recommends. Each organization's log has its own origin
//! (`<deployment name>/<organization id>`, see [`checkpoint_origin`]), and because
//! tlog-checkpoint says the log's key name SHOULD match the origin, a checkpoint is signed under
//! the key name = its origin (same key, so a key id computed for that name). A standard verifier
//! (Go's `note.NewVerifier`) accepts it with [`CheckpointSigner::verifier_key_for`]`(origin)`;
//! [`open_checkpoint`] also accepts the deployment verifier key and rebinds its public key to
//! the note's origin.
//!
//! Signature domains cannot collide: note texts end with a newline, while the manifest's
//! canonical JSON (the only other thing this key signs) is one line ending in `}`.

use crate::Hash;
use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{SigningKey, VerifyingKey};
use signed_note::{
    is_key_name_valid, key_id, new_ed25519_verifier_key, Note, Signer, StandardSigner,
    StandardVerifier, Verifier, VerifierList,
};

const ALG_ED25519: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("invalid key name {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidKeyName(String),
    #[error("invalid origin {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidOrigin(String),
    #[error("invalid verifier key: {0}")]
    InvalidVerifierKey(String),
    #[error("invalid signer key: {0}")]
    InvalidSignerKey(String),
    #[error("malformed signed note: {0}")]
    MalformedNote(String),
    #[error("not signed by the trusted key: {0}")]
    Signature(String),
    #[error("malformed checkpoint body")]
    MalformedCheckpoint,
}

/// The origin of one organization's log.
pub fn checkpoint_origin(deployment: &str, organization_id: &str) -> String {
    format!("{deployment}/{organization_id}")
}

/// A verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    #[serde(with = "crate::hex32")]
    pub root: Hash,
}

/// The deployment's signing key.
#[derive(Clone)]
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({})", self.verifier_key())
    }
}

impl CheckpointSigner {
    /// The key from a 32-byte Ed25519 seed; `name` is the deployment name (e.g. its host).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, CheckpointError> {
        if !is_key_name_valid(name) {
            return Err(CheckpointError::InvalidKeyName(name.into()));
        }
        Ok(CheckpointSigner {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A fresh key from the operating system's randomness (via `rand`'s CSPRNG).
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        Self::from_seed(name, rand::random())
    }

    /// Parses a C2SP signer key `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`.
    pub fn from_signer_key(skey: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::InvalidSignerKey(why.into());
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("it must start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (name, id, key) = match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(id), Some(key)) => (name, id, key),
            _ => return Err(bad("expected PRIVATE+KEY+<name>+<id>+<key>")),
        };
        let bytes = BASE64_STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let seed: [u8; 32] = match bytes.split_first() {
            Some((&ALG_ED25519, seed)) => seed.try_into().map_err(|_| bad("not 32 bytes"))?,
            _ => return Err(bad("not an Ed25519 key")),
        };
        let signer = Self::from_seed(name, seed)?;
        if format!("{:08x}", signer.key_id()) != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(signer)
    }

    /// The C2SP signer key string (secret), to store in configuration.
    pub fn signer_key(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id(),
            BASE64_STANDARD.encode(bytes)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The signed-note key id of the deployment key under its name.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &encoded_public_key(&self.key.verifying_key()))
    }

    /// The deployment verifier key `<name>+<hex key id>+<base64 key>`, to publish.
    pub fn verifier_key(&self) -> String {
        new_ed25519_verifier_key(&self.name, &self.key.verifying_key())
    }

    /// The verifier key of one log: the same public key under the key name `origin`.
    pub fn verifier_key_for(&self, origin: &str) -> Result<String, CheckpointError> {
        if !is_key_name_valid(origin) {
            return Err(CheckpointError::InvalidOrigin(origin.into()));
        }
        Ok(new_ed25519_verifier_key(origin, &self.key.verifying_key()))
    }

    /// The full signed note of the checkpoint (origin, size, root), signed under the key name
    /// `origin`.
    pub fn sign_checkpoint(
        &self,
        origin: &str,
        size: u64,
        root: Hash,
    ) -> Result<String, CheckpointError> {
        if !is_key_name_valid(origin) {
            return Err(CheckpointError::InvalidOrigin(origin.into()));
        }
        let body = tlog_tiles::Checkpoint::new(origin, size, tlog_tiles::Hash(root), "")
            .map_err(|_| CheckpointError::InvalidOrigin(origin.into()))?
            .to_bytes();
        let signer = self.note_signer(origin)?;
        let mut note =
            Note::new(&body, &[]).map_err(|e| CheckpointError::MalformedNote(e.to_string()))?;
        note.add_sigs(&[&signer])
            .map_err(|e| CheckpointError::Signature(e.to_string()))?;
        String::from_utf8(note.to_bytes())
            .map_err(|e| CheckpointError::MalformedNote(e.to_string()))
    }

    fn note_signer(&self, name: &str) -> Result<StandardSigner, CheckpointError> {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        let id = key_id(name, &encoded_public_key(&self.key.verifying_key()));
        let skey = format!(
            "PRIVATE+KEY+{name}+{id:08x}+{}",
            BASE64_STANDARD.encode(bytes)
        );
        StandardSigner::new(&skey).map_err(|e| CheckpointError::InvalidSignerKey(e.to_string()))
    }

    /// The same signature as [`Self::sign_raw`] of the message that `feed` writes, without the
    /// message in memory: Ed25519 hashes the message twice, so `feed` is called twice and must
    /// write the same bytes both times. Export manifests of a million rows are ~100 MB.
    pub fn sign_streamed(
        &self,
        feed: impl Fn(&mut sha2::Sha512),
    ) -> Result<[u8; 64], CheckpointError> {
        use ed25519_dalek::hazmat::{raw_sign_byupdate, ExpandedSecretKey};
        let expanded = ExpandedSecretKey::from(&self.key.to_bytes());
        let signature = raw_sign_byupdate::<sha2::Sha512, _>(
            &expanded,
            |digest| {
                feed(digest);
                Ok(())
            },
            &self.key.verifying_key(),
        )
        .map_err(|e| CheckpointError::Signature(e.to_string()))?;
        Ok(signature.to_bytes())
    }

    /// A raw Ed25519 signature (for export manifests only: see the module documentation).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Result<[u8; 64], CheckpointError> {
        let signature = self
            .note_signer(&self.name)?
            .sign(message)
            .map_err(|e| CheckpointError::Signature(e.to_string()))?;
        signature
            .try_into()
            .map_err(|_| CheckpointError::Signature("not 64 bytes".into()))
    }
}

fn encoded_public_key(key: &VerifyingKey) -> Vec<u8> {
    let mut bytes = vec![ALG_ED25519];
    bytes.extend_from_slice(&key.to_bytes());
    bytes
}

/// A verifier key, checked (key id matches name and key, Ed25519): (name, encoded key).
fn parse_verifier_key(vkey: &str) -> Result<(String, Vec<u8>), CheckpointError> {
    StandardVerifier::new(vkey).map_err(|e| CheckpointError::InvalidVerifierKey(e.to_string()))?;
    // StandardVerifier accepted it, so it has the three parts and valid base64.
    let mut parts = vkey.splitn(3, '+');
    let name = parts.next().unwrap_or_default().to_string();
    let key = BASE64_STANDARD
        .decode(parts.nth(1).unwrap_or_default())
        .map_err(|e| CheckpointError::InvalidVerifierKey(e.to_string()))?;
    Ok((name, key))
}

/// Checks a log verifier key `<name>+<hex key id>+<base64(0x01 ‖ public key)>` (Ed25519, key id
/// matching name and key) and returns its key name: the origin it signs, or the deployment
/// name whose `<name>/…` origins it signs (see [`open_checkpoint`]).
pub fn verifier_key_name(vkey: &str) -> Result<String, CheckpointError> {
    parse_verifier_key(vkey).map(|(name, _)| name)
}

/// The same public key under another key name.
fn rebind(key: &[u8], name: &str) -> Result<StandardVerifier, CheckpointError> {
    if !is_key_name_valid(name) {
        return Err(CheckpointError::InvalidOrigin(name.into()));
    }
    let vkey = format!(
        "{name}+{:08x}+{}",
        key_id(name, key),
        BASE64_STANDARD.encode(key)
    );
    StandardVerifier::new(&vkey).map_err(|e| CheckpointError::InvalidVerifierKey(e.to_string()))
}

/// Verifies a checkpoint note against a trusted verifier key and parses its body. `vkey` is
/// either the log's own verifier key (key name = origin) or the deployment verifier key (key
/// name = deployment name, covering the origins `<deployment name>/…`), whose public key is then
/// expected under the key name = the note's origin. Signatures by other keys
/// are ignored (C2SP: witnesses may cosign); at least one must be ours and valid.
pub fn open_checkpoint(note_text: &str, vkey: &str) -> Result<Checkpoint, CheckpointError> {
    let (name, key) = parse_verifier_key(vkey)?;
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| CheckpointError::MalformedNote(e.to_string()))?;
    let body = tlog_tiles::Checkpoint::from_bytes(note.text())
        .map_err(|_| CheckpointError::MalformedCheckpoint)?;
    let origin = body.origin();
    let covered = origin == name
        || origin
            .strip_prefix(name.as_str())
            .is_some_and(|rest| rest.starts_with('/'));
    if !covered {
        return Err(CheckpointError::Signature(format!(
            "the key {name:?} does not sign the log {origin:?}"
        )));
    }
    let verifier = rebind(&key, origin)?;
    let known = VerifierList::new(vec![Box::new(verifier) as Box<dyn Verifier>]);
    note.verify(&known)
        .map_err(|e| CheckpointError::Signature(e.to_string()))?;
    Ok(Checkpoint {
        origin: body.origin().to_string(),
        size: body.size(),
        root: body.hash().0,
    })
}

/// Parses a checkpoint note's body without checking any signature (to report on a bundle whose
/// checkpoint did not verify).
pub(crate) fn parse_unverified(note_text: &str) -> Option<Checkpoint> {
    let note = Note::from_bytes(note_text.as_bytes()).ok()?;
    let body = tlog_tiles::Checkpoint::from_bytes(note.text()).ok()?;
    Some(Checkpoint {
        origin: body.origin().to_string(),
        size: body.size(),
        root: body.hash().0,
    })
}

/// Whether `signature` is the deployment key's Ed25519 signature of `message`.
pub(crate) fn verify_raw(vkey: &str, message: &[u8], signature: &[u8]) -> bool {
    StandardVerifier::new(vkey).is_ok_and(|verifier| verifier.verify(message, signature))
}
