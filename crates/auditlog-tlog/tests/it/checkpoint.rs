//! Checkpoints: the C2SP formats, checked by hand with ed25519-dalek and sha2 (not through
//! signed_note), and every kind of forgery.

use auditlog_tlog::{checkpoint_origin, open_checkpoint, Checkpoint, CheckpointSigner};
use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

const DEPLOYMENT: &str = "auditlog.example";

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(DEPLOYMENT, [7u8; 32]).unwrap()
}

fn origin() -> String {
    checkpoint_origin(DEPLOYMENT, "org_01HXYZ")
}

fn root() -> [u8; 32] {
    Sha256::digest(b"some root").into()
}

fn hand_key_id(name: &str, public_key: &[u8; 32]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([0x01]);
    hasher.update(public_key);
    hex::encode(&hasher.finalize()[..4])
}

#[test]
fn verifier_key_follows_the_signed_note_spec() {
    let signer = signer();
    let public = signer.public_key();
    let vkey = signer.verifier_key();
    let mut encoded = vec![0x01];
    encoded.extend_from_slice(&public);
    assert_eq!(
        vkey,
        format!(
            "{DEPLOYMENT}+{}+{}",
            hand_key_id(DEPLOYMENT, &public),
            BASE64_STANDARD.encode(&encoded)
        )
    );
    assert_eq!(
        format!("{:08x}", signer.key_id()),
        hand_key_id(DEPLOYMENT, &public)
    );
    assert_eq!(
        signer.verifier_key_for(&origin()).unwrap(),
        format!(
            "{}+{}+{}",
            origin(),
            hand_key_id(&origin(), &public),
            BASE64_STANDARD.encode(&encoded)
        )
    );
    // The public key is Ed25519's for that seed (RFC 8032): same as ed25519-dalek derives.
    let expected = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    assert_eq!(public, expected.to_bytes());
}

#[test]
fn checkpoint_note_has_the_c2sp_shape_and_verifies_independently() {
    let signer = signer();
    let note = signer.sign_checkpoint(&origin(), 20852163, root()).unwrap();
    let body = format!(
        "{}\n20852163\n{}\n",
        origin(),
        BASE64_STANDARD.encode(root())
    );
    let (text, signatures) = note.split_once("\n\n").unwrap();
    assert_eq!(format!("{text}\n"), body);
    let lines: Vec<&str> = signatures.lines().collect();
    assert_eq!(lines.len(), 1);
    let line = lines[0].strip_prefix("— ").unwrap();
    let (name, b64) = line.split_once(' ').unwrap();
    assert_eq!(
        name,
        origin(),
        "the key name is the origin (tlog-checkpoint SHOULD)"
    );
    let bytes = BASE64_STANDARD.decode(b64).unwrap();
    assert_eq!(bytes.len(), 4 + 64);
    assert_eq!(
        hex::encode(&bytes[..4]),
        hand_key_id(&origin(), &signer.public_key())
    );
    let key = VerifyingKey::from_bytes(&signer.public_key()).unwrap();
    let signature = Signature::from_slice(&bytes[4..]).unwrap();
    key.verify(body.as_bytes(), &signature).unwrap();

    let expected = Checkpoint {
        origin: origin(),
        size: 20852163,
        root: root(),
    };
    assert_eq!(
        open_checkpoint(&note, &signer.verifier_key()).unwrap(),
        expected
    );
    let per_log = signer.verifier_key_for(&origin()).unwrap();
    assert_eq!(open_checkpoint(&note, &per_log).unwrap(), expected);
    // Same seed, same signature: Ed25519 is deterministic.
    assert_eq!(
        signer.sign_checkpoint(&origin(), 20852163, root()).unwrap(),
        note
    );
    let empty = signer
        .sign_checkpoint(&origin(), 0, auditlog_tlog::EMPTY_ROOT)
        .unwrap();
    assert_eq!(open_checkpoint(&empty, &per_log).unwrap().size, 0);
}

#[test]
fn forged_or_edited_checkpoints_fail() {
    let signer = signer();
    let vkey = signer.verifier_key();
    let note = signer.sign_checkpoint(&origin(), 10, root()).unwrap();

    // Another key under the same name: the key id differs, so no signature is ours.
    let impostor = CheckpointSigner::from_seed(DEPLOYMENT, [8u8; 32]).unwrap();
    let forged = impostor.sign_checkpoint(&origin(), 10, root()).unwrap();
    assert!(open_checkpoint(&forged, &vkey).is_err());
    assert!(
        open_checkpoint(&note, &impostor.verifier_key()).is_err(),
        "wrong key"
    );

    // A forged signature with our key id: the signature bytes are wrong.
    let (text, sig_line) = note.split_once("\n\n").unwrap();
    let (prefix, b64) = sig_line.trim_end().rsplit_once(' ').unwrap();
    let mut bytes = BASE64_STANDARD.decode(b64).unwrap();
    bytes[10] ^= 1;
    let bad_sig = format!("{text}\n\n{prefix} {}\n", BASE64_STANDARD.encode(&bytes));
    assert!(
        open_checkpoint(&bad_sig, &vkey).is_err(),
        "forged signature"
    );

    // Edited bodies: size, root, origin.
    let edits = [
        note.replacen("\n10\n", "\n11\n", 1),
        note.replacen(
            &BASE64_STANDARD.encode(root()),
            &BASE64_STANDARD.encode([0u8; 32]),
            1,
        ),
        note.replacen("org_01HXYZ\n", "org_01HXYW\n", 1),
    ];
    for edited in &edits {
        assert_ne!(edited, &note);
        assert!(open_checkpoint(edited, &vkey).is_err(), "{edited}");
    }
    // An extra unknown signature (say, a witness) is ignored; ours still counts.
    let witness = CheckpointSigner::from_seed("witness.example", [9u8; 32]).unwrap();
    let cosigned_by_witness = witness.sign_checkpoint(&origin(), 10, root()).unwrap();
    let witness_line = cosigned_by_witness.split_once("\n\n").unwrap().1;
    let cosigned = format!("{note}{witness_line}");
    assert_eq!(open_checkpoint(&cosigned, &vkey).unwrap().size, 10);
    // Only the unknown signature: fails.
    assert!(open_checkpoint(&cosigned_by_witness, &witness.verifier_key()).is_err());

    // A log's own key does not open another log's checkpoint; the deployment key does not open
    // a log outside the deployment.
    let other_log = signer
        .verifier_key_for(&checkpoint_origin(DEPLOYMENT, "org_other"))
        .unwrap();
    assert!(open_checkpoint(&note, &other_log).is_err());
    let outside = signer
        .sign_checkpoint("elsewhere.example/org_01HXYZ", 10, root())
        .unwrap();
    assert!(open_checkpoint(&outside, &vkey).is_err());
    assert!(open_checkpoint("not a note", &vkey).is_err());
    assert!(open_checkpoint(&note, "not+a+key").is_err());
}

#[test]
fn keys_round_trip_and_names_are_checked() {
    let signer = signer();
    let skey = signer.signer_key();
    assert!(skey.starts_with(&format!("PRIVATE+KEY+{DEPLOYMENT}+")));
    let again = CheckpointSigner::from_signer_key(&skey).unwrap();
    assert_eq!(again.verifier_key(), signer.verifier_key());
    assert!(CheckpointSigner::from_signer_key(&skey.replace("+KEY+", "+KEX+")).is_err());
    let wrong_id = skey.replacen(&format!("{:08x}", signer.key_id()), "00000000", 1);
    assert!(CheckpointSigner::from_signer_key(&wrong_id).is_err());

    let a = CheckpointSigner::generate(DEPLOYMENT).unwrap();
    let b = CheckpointSigner::generate(DEPLOYMENT).unwrap();
    assert_ne!(a.public_key(), b.public_key());
    assert!(CheckpointSigner::from_seed("has space", [0; 32]).is_err());
    assert!(CheckpointSigner::from_seed("has+plus", [0; 32]).is_err());
    assert!(signer.sign_checkpoint("bad origin", 1, root()).is_err());
    assert!(signer.sign_checkpoint("", 1, root()).is_err());
    assert!(signer.sign_checkpoint("a\nb", 1, root()).is_err());
}
