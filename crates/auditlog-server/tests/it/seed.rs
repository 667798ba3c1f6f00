//! The benchmark seeding tool stores events exactly as the API does.

use auditlog_domain::canonical::leaf_hash;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::EventStore;

#[tokio::test]
async fn seeded_events_are_canonical_and_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("seed.db"))
        .await
        .unwrap();
    let organization = auditlog_server::seed::seed(&store, "default", 250, 100)
        .await
        .unwrap();
    let events = store
        .list_events_by_sequence("default", &organization)
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (0..250).collect::<Vec<_>>()
    );
    for event in &events {
        let payload = event.payload.as_deref().unwrap();
        assert_eq!(leaf_hash(payload.as_bytes()), event.leaf_hash);
        let value: serde_json::Value = serde_json::from_str(payload).unwrap();
        assert_eq!(value["id"], event.id.as_str());
        assert_eq!(value["organization_id"], organization.as_str());
    }
    assert!(events
        .windows(2)
        .all(|w| w[0].occurred_at < w[1].occurred_at));
}
