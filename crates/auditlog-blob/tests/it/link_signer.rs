//! Signed download links: what verifies, what must not, and the persisted secret.

use auditlog_blob::{BlobError, LinkSigner};

const SECRET: &str = "a configured secret of at least 32 characters";
const EXPORT: &str = "audit_log_export_01HZX3J5Q8K9V2N4M6P7R8S9T0";
const EXPIRES: i64 = 1_900_000_000;
const NOW: i64 = 1_899_999_000;

#[test]
fn signs_and_verifies() {
    let signer = LinkSigner::from_configured(SECRET).unwrap();
    let signature = signer.sign(EXPORT, EXPIRES);
    assert_eq!(signature.len(), 64);
    assert!(signature
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(
        signature,
        signer.sign(EXPORT, EXPIRES),
        "signing is deterministic"
    );
    assert!(signer.verify(EXPORT, EXPIRES, &signature, NOW));
}

#[test]
fn tampering_fails() {
    let signer = LinkSigner::from_configured(SECRET).unwrap();
    let signature = signer.sign(EXPORT, EXPIRES);
    assert!(!signer.verify("audit_log_export_other", EXPIRES, &signature, NOW));
    assert!(!signer.verify(EXPORT, EXPIRES + 1, &signature, NOW));

    // Flip one hex digit.
    let mut flipped: Vec<char> = signature.chars().collect();
    flipped[10] = if flipped[10] == '0' { '1' } else { '0' };
    let flipped: String = flipped.into_iter().collect();
    assert!(!signer.verify(EXPORT, EXPIRES, &flipped, NOW));

    let other = LinkSigner::from_configured("another configured secret, also 32+ chars").unwrap();
    assert!(!other.verify(EXPORT, EXPIRES, &signature, NOW));
}

#[test]
fn expired_fails() {
    let signer = LinkSigner::from_configured(SECRET).unwrap();
    let signature = signer.sign(EXPORT, EXPIRES);
    assert!(signer.verify(EXPORT, EXPIRES, &signature, EXPIRES - 1));
    assert!(
        !signer.verify(EXPORT, EXPIRES, &signature, EXPIRES),
        "expiry is exclusive"
    );
    assert!(!signer.verify(EXPORT, EXPIRES, &signature, EXPIRES + 3600));
}

#[test]
fn malformed_signatures_fail_without_panicking() {
    let signer = LinkSigner::from_configured(SECRET).unwrap();
    let signature = signer.sign(EXPORT, EXPIRES);
    for bad in [
        String::new(),
        "zz".repeat(32),
        signature[..63].to_owned(),
        signature[..62].to_owned(),
        format!("{signature}00"),
        format!("{signature}0"),
        "é".repeat(32),
        " ".repeat(64),
    ] {
        assert!(
            !signer.verify(EXPORT, EXPIRES, &bad, NOW),
            "{bad:?} verified"
        );
    }
    // Extreme inputs are just inputs.
    assert!(!signer.verify("", i64::MIN, &signature, i64::MAX));
    let edge = signer.sign("", i64::MAX);
    assert!(signer.verify("", i64::MAX, &edge, i64::MIN));
}

#[test]
fn from_configured_rejects_short_secrets() {
    for short in ["", "short", &"x".repeat(31)] {
        assert!(matches!(
            LinkSigner::from_configured(short),
            Err(BlobError::SecretTooShort { min: 32, .. })
        ));
    }
    assert!(LinkSigner::from_configured(&"x".repeat(32)).is_ok());
}

#[test]
fn load_or_create_persists_with_private_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("link-secret"); // parent created on demand
    let first = LinkSigner::load_or_create(&path).unwrap();
    let signature = first.sign(EXPORT, EXPIRES);

    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().chars().all(|c| c.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Only the secret file is left: the temporary file used to publish it is gone.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("link-secret")]);

    let reloaded = LinkSigner::load_or_create(&path).unwrap();
    assert_eq!(reloaded.sign(EXPORT, EXPIRES), signature);
    assert!(reloaded.verify(EXPORT, EXPIRES, &signature, NOW));

    let elsewhere = LinkSigner::load_or_create(&dir.path().join("other-secret")).unwrap();
    assert!(
        !elsewhere.verify(EXPORT, EXPIRES, &signature, NOW),
        "each new secret is random"
    );
}

#[test]
fn load_or_create_racers_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link-secret");
    let signatures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    LinkSigner::load_or_create(&path)
                        .unwrap()
                        .sign(EXPORT, EXPIRES)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        signatures.windows(2).all(|w| w[0] == w[1]),
        "{signatures:?}"
    );
    assert_eq!(
        LinkSigner::load_or_create(&path)
            .unwrap()
            .sign(EXPORT, EXPIRES),
        signatures[0]
    );
}

#[test]
fn load_or_create_refuses_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link-secret");
    for bad in ["", "not hex at all", &"ab".repeat(31), &"ab".repeat(33)] {
        std::fs::write(&path, bad).unwrap();
        assert!(matches!(
            LinkSigner::load_or_create(&path),
            Err(BlobError::MalformedSecretFile { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            bad,
            "never overwritten"
        );
    }
}
