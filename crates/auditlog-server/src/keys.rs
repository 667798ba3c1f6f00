//! API keys: `sk_` followed by 48 random alphanumerics. Only their SHA-256 is stored; keys are
//! high-entropy, so a fast hash is enough (no password stretching needed).

use auditlog_domain::ids::{new_id, API_KEY_RECORD_PREFIX};
use auditlog_store::{ApiKeyRecord, KeyStore, StoreResult};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "sk_";
const RANDOM_CHARS: usize = 48;
/// How much of a key is kept in clear, to recognise it in listings.
const DISPLAY_PREFIX_CHARS: usize = 10;

pub fn generate_key() -> String {
    format!(
        "{KEY_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), RANDOM_CHARS)
    )
}

pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Stores `key` (hashed) for `environment`; storing the same key twice is a no-op.
pub async fn register_key(
    store: &dyn KeyStore,
    environment: &str,
    key: &str,
    now_micros: i64,
) -> StoreResult<()> {
    let record = ApiKeyRecord {
        id: new_id(API_KEY_RECORD_PREFIX),
        environment: environment.to_string(),
        key_hash: hash_key(key),
        display_prefix: key.chars().take(DISPLAY_PREFIX_CHARS).collect(),
        created_at: now_micros,
    };
    store.insert_api_key(&record).await
}
