//! The logs a witness cosigns for, from their verifier keys (`--log`).
//!
//! A key named `N` covers the origin `N` and every origin `N/…`: auditlog signs each
//! organization's checkpoint with its one deployment key under key name = the checkpoint's
//! origin `<deployment name>/<organization id>`, so the deployment verifier key covers all of
//! them. A log that signs under its own origin is configured with its verifier key, whose name
//! is that origin.

use anyhow::Context;
use auditlog_tlog::verifier_key_name;

#[derive(Debug, Clone)]
struct TrustedLog {
    /// The verifier key's name: an origin, or the prefix of `<name>/…` origins.
    name: String,
    verifier_key: String,
}

#[derive(Debug, Clone)]
pub struct TrustedLogs {
    logs: Vec<TrustedLog>,
}

impl TrustedLogs {
    /// From `--log` values; refuses a malformed key, and an empty list (a witness of no log
    /// could only answer 404).
    pub fn parse(verifier_keys: &[String]) -> anyhow::Result<TrustedLogs> {
        let mut logs = Vec::new();
        for key in verifier_keys
            .iter()
            .map(|key| key.trim())
            .filter(|key| !key.is_empty())
        {
            let name = verifier_key_name(key)
                .with_context(|| format!("--log {key:?} is not a log verifier key"))?;
            logs.push(TrustedLog {
                name,
                verifier_key: key.to_string(),
            });
        }
        anyhow::ensure!(
            !logs.is_empty(),
            "no log to witness: give at least one --log <verifier key>"
        );
        Ok(TrustedLogs { logs })
    }

    /// The verifier keys trusted for `origin` (several when a log's key was rotated and both
    /// are configured); empty for an unknown origin.
    pub fn keys_for(&self, origin: &str) -> Vec<&str> {
        self.logs
            .iter()
            .filter(|log| {
                origin == log.name
                    || origin
                        .strip_prefix(log.name.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .map(|log| log.verifier_key.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_tlog::CheckpointSigner;

    #[test]
    fn a_deployment_key_covers_its_name_and_the_origins_below_it() {
        let deployment = CheckpointSigner::from_seed("audit.example", [1; 32]).unwrap();
        let own = CheckpointSigner::from_seed("other.example/log", [2; 32]).unwrap();
        let logs = TrustedLogs::parse(&[deployment.verifier_key(), own.verifier_key()]).unwrap();
        assert_eq!(logs.keys_for("audit.example/org_1").len(), 1);
        assert_eq!(logs.keys_for("audit.example").len(), 1);
        assert_eq!(logs.keys_for("other.example/log").len(), 1);
        assert!(logs.keys_for("audit.example.evil/org_1").is_empty());
        assert!(logs.keys_for("audit.exampl").is_empty());
        assert!(logs.keys_for("other.example").is_empty());
    }

    #[test]
    fn malformed_keys_and_no_key_are_refused() {
        assert!(TrustedLogs::parse(&[]).is_err());
        assert!(TrustedLogs::parse(&[" ".into()]).is_err());
        assert!(TrustedLogs::parse(&["audit.example+00000000+AQ==".into()]).is_err());
        let witness_key = auditlog_tlog::cosignature::WitnessSigner::from_seed("w", [3; 32])
            .unwrap()
            .verifier_key();
        assert!(TrustedLogs::parse(&[witness_key]).is_err());
    }
}
