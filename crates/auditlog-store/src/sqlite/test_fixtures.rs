//! Records and a fresh store for the SQLite store's own unit tests.

use super::SqliteStore;
use crate::types::{Organization, PendingEvent};
use crate::OrganizationStore;

pub(super) fn organization(id: &str, name: String) -> Organization {
    Organization {
        id: id.into(),
        environment: "default".into(),
        name,
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 0,
        updated_at: 0,
    }
}

/// Event `n` of an organization, at time `n`, with no targets.
pub(super) fn event(organization_id: &str, n: i64) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{organization_id}_{n:020}"),
        environment: "default".into(),
        organization_id: organization_id.into(),
        occurred_at: n,
        received_at: n,
        action: "user.signed_in".into(),
        actor_id: "user_1".into(),
        actor_name: None,
        target_types: vec![],
        target_count: 0,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [1; 32],
        idempotency: None,
    }
}

/// A store in a fresh temporary directory, with `organizations` created.
pub(super) async fn open(organizations: &[&str]) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    for id in organizations {
        store
            .create_organization(&organization(id, id.to_string()))
            .await
            .unwrap();
    }
    (dir, store)
}
