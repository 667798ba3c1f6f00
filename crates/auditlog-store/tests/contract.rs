//! The store contract: behaviour every `Store` implementation must have. Each check is a
//! function over `&dyn Store`, run here against SQLite (and against PostgreSQL once it exists).

use auditlog_domain::pagination::ListParams;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{
    ApiKeyRecord, AppendOutcome, ClaimOutcome, EventStore, IdempotencyRecord, Organization,
    OrganizationStore, PendingEvent, Store, StoreError,
};
use std::collections::HashMap;

async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("contract.db"))
        .await
        .unwrap();
    (store, dir)
}

fn organization(environment: &str, id: &str) -> Organization {
    Organization {
        id: id.into(),
        environment: environment.into(),
        name: format!("Org {id}"),
        external_id: None,
        metadata: Default::default(),
        domains: vec![],
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: 1,
        updated_at: 1,
    }
}

fn event(environment: &str, organization_id: &str, n: u8) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{organization_id}_{n}"),
        environment: environment.into(),
        organization_id: organization_id.into(),
        occurred_at: 1_000 + n as i64,
        received_at: 5_000,
        action: "user.signed_in".into(),
        actor_id: "user_1".into(),
        actor_name: Some("Jon".into()),
        target_types: vec!["team".into(), "doc".into()],
        target_count: 3,
        payload: format!("{{\"n\":{n}}}"),
        leaf_hash: [n; 32],
        idempotency: None,
    }
}

fn idempotency(environment: &str, key: &str, created_at: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        environment: environment.into(),
        key: key.into(),
        request_hash: [7; 32],
        status: 200,
        body: br#"{"success":true}"#.to_vec(),
        created_at,
        expires_at: created_at + 100,
    }
}

async fn organizations_are_scoped_and_external_ids_unique(store: &dyn Store) {
    let mut acme = organization("default", "org_A");
    acme.external_id = Some("ext-1".into());
    store.create_organization(&acme).await.unwrap();
    assert!(store
        .get_organization("other", "org_A")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.get_organization("default", "org_A").await.unwrap(),
        Some(acme.clone())
    );

    let mut clash = organization("default", "org_B");
    clash.external_id = Some("ext-1".into());
    assert!(matches!(
        store.create_organization(&clash).await,
        Err(StoreError::Conflict(_))
    ));
    // The same external id in another environment is fine.
    let mut elsewhere = organization("other", "org_C");
    elsewhere.external_id = Some("ext-1".into());
    store.create_organization(&elsewhere).await.unwrap();

    acme.name = "Renamed".into();
    assert!(store.update_organization(&acme).await.unwrap());
    assert_eq!(
        store
            .get_organization("default", "org_A")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Renamed"
    );
    assert!(!store
        .update_organization(&organization("other", "org_A"))
        .await
        .unwrap());

    assert!(!store
        .delete_organization("other", "org_A", 9)
        .await
        .unwrap());
    assert!(store
        .delete_organization("default", "org_A", 9)
        .await
        .unwrap());
    assert!(store
        .get_organization("default", "org_A")
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .delete_organization("default", "org_A", 9)
        .await
        .unwrap());
    // A deleted organization's external id can be reused.
    store.create_organization(&clash).await.unwrap();
}

async fn organizations_list_by_keyset(store: &dyn Store) {
    for id in ["org_1", "org_2", "org_3", "org_4", "org_5"] {
        store
            .create_organization(&organization("list", id))
            .await
            .unwrap();
    }
    store
        .create_organization(&organization("list-other", "org_9"))
        .await
        .unwrap();
    let query = |pairs: &[(&str, &str)]| -> ListParams {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::parse(&map).unwrap()
    };
    let params = query(&[("limit", "2")]);
    let plan = params.plan();
    let page = plan.finish(
        store.list_organizations("list", &plan).await.unwrap(),
        |o| o.id.clone(),
    );
    assert_eq!(
        page.data.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["org_5", "org_4"]
    );
    assert_eq!(page.after.as_deref(), Some("org_4"));
    let params = query(&[("limit", "10"), ("after", "org_4")]);
    let plan = params.plan();
    let page = plan.finish(
        store.list_organizations("list", &plan).await.unwrap(),
        |o| o.id.clone(),
    );
    assert_eq!(
        page.data.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["org_3", "org_2", "org_1"]
    );
    assert_eq!(page.after, None);
    let params = query(&[("order", "asc"), ("limit", "2"), ("after", "org_2")]);
    let plan = params.plan();
    let page = plan.finish(
        store.list_organizations("list", &plan).await.unwrap(),
        |o| o.id.clone(),
    );
    assert_eq!(
        page.data.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["org_3", "org_4"]
    );
}

async fn events_get_gap_free_sequences_per_organization(store: &dyn Store) {
    store
        .create_organization(&organization("ev", "org_X"))
        .await
        .unwrap();
    store
        .create_organization(&organization("ev", "org_Y"))
        .await
        .unwrap();
    let batch = vec![
        event("ev", "org_X", 0),
        event("ev", "org_Y", 1),
        event("ev", "org_X", 2),
        event("ev", "org_missing", 3),
        event("other", "org_X", 4),
    ];
    let outcomes = store.append_events(&batch).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            AppendOutcome::Stored { sequence: 0 },
            AppendOutcome::Stored { sequence: 0 },
            AppendOutcome::Stored { sequence: 1 },
            AppendOutcome::OrganizationNotFound,
            AppendOutcome::OrganizationNotFound,
        ]
    );
    let next = store
        .append_events(&[event("ev", "org_X", 5)])
        .await
        .unwrap();
    assert_eq!(next, vec![AppendOutcome::Stored { sequence: 2 }]);
    let stored = store.list_events_by_sequence("ev", "org_X").await.unwrap();
    assert_eq!(
        stored.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let first = &stored[0];
    assert_eq!(
        (first.occurred_at, first.received_at, first.leaf_hash),
        (1_000, 5_000, [0; 32])
    );
    assert_eq!(first.payload.as_deref(), Some("{\"n\":0}"));
    assert_eq!(first.actor_name.as_deref(), Some("Jon"));
    assert_eq!(
        store.get_event("ev", &first.id).await.unwrap().as_ref(),
        Some(first)
    );
    assert!(
        store.get_event("other", &first.id).await.unwrap().is_none(),
        "events are scoped by environment"
    );
    // A deleted organization accepts no more events.
    store.delete_organization("ev", "org_Y", 10).await.unwrap();
    assert_eq!(
        store
            .append_events(&[event("ev", "org_Y", 6)])
            .await
            .unwrap(),
        vec![AppendOutcome::OrganizationNotFound]
    );
}

async fn event_idempotency_is_atomic_with_the_event(store: &dyn Store) {
    store
        .create_organization(&organization("idem", "org_I"))
        .await
        .unwrap();
    let mut first = event("idem", "org_I", 0);
    first.idempotency = Some(idempotency("idem", "key-1", 1_000));
    let mut duplicate_in_batch = event("idem", "org_I", 1);
    duplicate_in_batch.idempotency = Some(idempotency("idem", "key-1", 1_000));
    let outcomes = store
        .append_events(&[first.clone(), duplicate_in_batch])
        .await
        .unwrap();
    assert_eq!(outcomes[0], AppendOutcome::Stored { sequence: 0 });
    assert!(matches!(&outcomes[1], AppendOutcome::Replay(record) if record.key == "key-1"));
    let mut later = event("idem", "org_I", 2);
    later.idempotency = Some(idempotency("idem", "key-1", 1_050));
    assert!(matches!(
        &store.append_events(&[later]).await.unwrap()[0],
        AppendOutcome::Replay(_)
    ));
    assert_eq!(
        store
            .find_idempotency("idem", "key-1", 1_050)
            .await
            .unwrap(),
        first.idempotency
    );
    // After expiry the key is free again.
    let mut after_expiry = event("idem", "org_I", 3);
    after_expiry.idempotency = Some(idempotency("idem", "key-1", 1_200));
    assert_eq!(
        store.append_events(&[after_expiry]).await.unwrap()[0],
        AppendOutcome::Stored { sequence: 1 }
    );
    assert_eq!(
        store
            .list_events_by_sequence("idem", "org_I")
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn idempotency_records_expire_and_are_scoped(store: &dyn Store) {
    let record = idempotency("env-a", "k", 10);
    assert_eq!(store.save_idempotency(&record).await.unwrap(), record);
    let mut second = idempotency("env-a", "k", 20);
    second.status = 422;
    assert_eq!(
        store.save_idempotency(&second).await.unwrap(),
        record,
        "the first record stays in force"
    );
    assert!(store
        .find_idempotency("env-b", "k", 20)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .find_idempotency("env-a", "k", 110)
            .await
            .unwrap()
            .is_none(),
        "expired at expires_at"
    );
    assert_eq!(store.purge_idempotency(110).await.unwrap(), 1);
    assert_eq!(store.purge_idempotency(110).await.unwrap(), 0);
}

async fn idempotency_claims_serialize_duplicates(store: &dyn Store) {
    let mine = [1u8; 32];
    let other = [2u8; 32];
    assert_eq!(
        store
            .claim_idempotency("claims", "k", &mine, 100, 200)
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    // While it is in flight, any other claimant learns whose request it is.
    assert_eq!(
        store
            .claim_idempotency("claims", "k", &other, 150, 250)
            .await
            .unwrap(),
        ClaimOutcome::InFlight { request_hash: mine }
    );
    assert!(
        store
            .find_idempotency("claims", "k", 150)
            .await
            .unwrap()
            .is_none(),
        "a claim is not a response"
    );
    let mut record = idempotency("claims", "k", 160);
    record.request_hash = mine;
    store.save_idempotency(&record).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency("claims", "k", &other, 170, 270)
            .await
            .unwrap(),
        ClaimOutcome::Completed(record)
    );
    // A lapsed claim is taken over; an abandoned one frees the key at once.
    assert_eq!(
        store
            .claim_idempotency("claims", "lapsed", &mine, 100, 200)
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency("claims", "lapsed", &other, 200, 300)
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    store.abandon_idempotency("claims", "lapsed").await.unwrap();
    assert_eq!(
        store
            .claim_idempotency("claims", "lapsed", &mine, 210, 310)
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    // An expired completed record is taken over too.
    assert_eq!(
        store
            .claim_idempotency("claims", "k", &other, 10_000, 10_100)
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
}

async fn api_keys_are_found_by_hash(store: &dyn Store) {
    assert_eq!(store.count_api_keys().await.unwrap(), 0);
    let key = ApiKeyRecord {
        id: "key_1".into(),
        environment: "prod".into(),
        key_hash: [3; 32],
        display_prefix: "sk_abc".into(),
        created_at: 1,
    };
    store.insert_api_key(&key).await.unwrap();
    store.insert_api_key(&key).await.unwrap();
    assert_eq!(store.count_api_keys().await.unwrap(), 1);
    assert_eq!(store.find_api_key(&[3; 32]).await.unwrap(), Some(key));
    assert!(store.find_api_key(&[4; 32]).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_organizations() {
    let (store, _dir) = sqlite().await;
    organizations_are_scoped_and_external_ids_unique(&store).await;
    organizations_list_by_keyset(&store).await;
}

#[tokio::test]
async fn sqlite_events() {
    let (store, _dir) = sqlite().await;
    events_get_gap_free_sequences_per_organization(&store).await;
    event_idempotency_is_atomic_with_the_event(&store).await;
}

#[tokio::test]
async fn sqlite_idempotency_and_keys() {
    let (store, _dir) = sqlite().await;
    idempotency_records_expire_and_are_scoped(&store).await;
    idempotency_claims_serialize_duplicates(&store).await;
    api_keys_are_found_by_hash(&store).await;
}

#[tokio::test]
async fn sqlite_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .create_organization(&organization("default", "org_R"))
        .await
        .unwrap();
    store
        .append_events(&[event("default", "org_R", 0)])
        .await
        .unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store
            .append_events(&[event("default", "org_R", 1)])
            .await
            .unwrap(),
        vec![AppendOutcome::Stored { sequence: 1 }]
    );
}
