//! Prefixed, time-sortable identifiers (`org_01H…`), as WorkOS issues them.

use std::sync::Mutex;
use ulid::{Generator, Ulid};

/// One process-wide monotonic generator: ids minted in the same millisecond still sort in
/// creation order, which list pagination relies on (it orders by id).
static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

fn next_ulid() -> Ulid {
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    // Overflow only happens after 2^80 ids in one millisecond; fall back to a fresh random id.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// A new id of the form `<prefix>_<ULID>`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", next_ulid())
}

pub const ORGANIZATION_PREFIX: &str = "org";
pub const EVENT_PREFIX: &str = "audit_log_event";
pub const API_KEY_RECORD_PREFIX: &str = "key";

/// True when `id` is `<prefix>_` followed by a valid 26-character ULID.
pub fn has_prefix_and_ulid(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid.len() == 26 && Ulid::from_string(ulid).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_id(ORGANIZATION_PREFIX)).collect();
        assert!(ids.iter().all(|id| has_prefix_and_ulid(id, "org")));
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn rejects_wrong_prefix_or_ulid() {
        assert!(!has_prefix_and_ulid("org_123", "org"));
        assert!(!has_prefix_and_ulid(
            "xorg_01EHZNVPK3SFK441A1RGBFSHRT",
            "org"
        ));
        assert!(has_prefix_and_ulid("org_01EHZNVPK3SFK441A1RGBFSHRT", "org"));
    }
}
