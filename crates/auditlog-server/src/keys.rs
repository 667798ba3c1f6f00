//! API keys: `sk_` followed by 48 random alphanumerics. Only their SHA-256 is stored; keys are
//! high-entropy, so a fast hash is enough (no password stretching needed).

use auditlog_domain::ids::{new_id, API_KEY_RECORD_PREFIX};
use auditlog_store::{ApiKeyRecord, KeyStore, StoreResult, KEY_SOURCE_CONFIGURED};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "sk_";
const RANDOM_CHARS: usize = 48;
/// How much of a key is kept in clear, to recognise it in listings: its last characters, which
/// say nothing about the rest (a prefix of a short key was most of it).
const HINT_CHARS: usize = 4;
/// Shortest key accepted from the configuration (with `sk_`): about 170 bits when random.
pub const MIN_CONFIGURED_KEY_CHARS: usize = 32;
/// Fewest distinct characters in a configured key, so that `sk_aaaa…` is refused.
const MIN_DISTINCT_CHARS: usize = 10;

pub fn generate_key() -> String {
    format!(
        "{KEY_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), RANDOM_CHARS)
    )
}

pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The last characters of a key, shown in listings.
pub fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(HINT_CHARS)..]
        .iter()
        .collect()
}

/// Why a key given in the configuration is refused, if it is.
pub fn weak_configured_key(key: &str) -> Option<String> {
    if !key.starts_with(KEY_PREFIX) {
        return Some("API keys must start with sk_".into());
    }
    if key.chars().count() < MIN_CONFIGURED_KEY_CHARS {
        return Some(format!(
            "API keys must be at least {MIN_CONFIGURED_KEY_CHARS} characters long \
             (`auditlog keys create` mints keys of {} characters)",
            KEY_PREFIX.len() + RANDOM_CHARS
        ));
    }
    let distinct: std::collections::HashSet<char> = key[KEY_PREFIX.len()..].chars().collect();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Some(format!(
            "API keys must not be repetitive (at least {MIN_DISTINCT_CHARS} different characters after sk_)"
        ));
    }
    None
}

/// Stores `key` (hashed) for `environment` with where it came from (`source`, one of the
/// store's `KEY_SOURCE_*`); returns the record, or `None` when the key was stored already.
pub async fn register_key(
    store: &dyn KeyStore,
    environment: &str,
    key: &str,
    source: &str,
    now_micros: i64,
) -> StoreResult<Option<ApiKeyRecord>> {
    let record = ApiKeyRecord {
        id: new_id(API_KEY_RECORD_PREFIX),
        environment: environment.to_string(),
        key_hash: hash_key(key),
        hint: hint(key),
        source: source.to_string(),
        created_at: now_micros,
        revoked_at: None,
    };
    Ok(store.insert_api_key(&record).await?.then_some(record))
}

/// Revokes every configured key that is no longer in `configured` (hashes); returns their ids.
pub async fn revoke_unconfigured(
    store: &dyn KeyStore,
    configured: &[[u8; 32]],
    now_micros: i64,
) -> StoreResult<Vec<String>> {
    let mut revoked = Vec::new();
    for key in store.list_api_keys().await? {
        let gone = key.source == KEY_SOURCE_CONFIGURED
            && key.revoked_at.is_none()
            && !configured.contains(&key.key_hash);
        if gone && store.revoke_api_key(&key.id, now_micros).await? {
            revoked.push(key.id);
        }
    }
    Ok(revoked)
}

pub const KEY_CREATED: &str = "auditlog.api_key.created";
pub const KEY_REVOKED: &str = "auditlog.api_key.revoked";

/// A key created or revoked, as the meta-audit trail records it (`auditlog.api_key.created`,
/// `auditlog.api_key.revoked`; the actor says who: `configuration`, `first_start` or `cli`).
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub action: &'static str,
    pub environment: String,
    pub key_id: String,
    pub hint: String,
    pub source: String,
    pub by: &'static str,
}

impl KeyChange {
    pub fn created(record: &ApiKeyRecord, by: &'static str) -> KeyChange {
        KeyChange::of(KEY_CREATED, record, by)
    }

    pub fn revoked(record: &ApiKeyRecord, by: &'static str) -> KeyChange {
        KeyChange::of(KEY_REVOKED, record, by)
    }

    fn of(action: &'static str, record: &ApiKeyRecord, by: &'static str) -> KeyChange {
        KeyChange {
            action,
            environment: record.environment.clone(),
            key_id: record.id.clone(),
            hint: record.hint.clone(),
            source: record.source.clone(),
            by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_keys_must_be_long_and_varied() {
        assert!(weak_configured_key(&generate_key()).is_none());
        assert!(weak_configured_key("sk_test_conformance_0123456789abcdef01234567").is_none());
        assert!(weak_configured_key("sk_short").is_some());
        assert!(weak_configured_key(&format!("sk_{}", "a".repeat(40))).is_some());
        assert!(weak_configured_key(&format!("pk_{}", generate_key())).is_some());
        assert_eq!(hint("sk_abcdefgh1234"), "1234");
    }
}
