//! The store contract: behaviour every `Store` implementation must have. Each check is a
//! function over `&dyn Store`, run here against SQLite always and against PostgreSQL when
//! `AUDITLOG_TEST_DATABASE_URL` is set (each PostgreSQL test in a database of its own).

use crate::portal_contract;
use crate::stream_contract;
use crate::tlog_contract;
use auditlog_test_support as postgres_support;

use auditlog_domain::export::ExportFilters;
use auditlog_domain::pagination::ListParams;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::{
    ApiKeyRecord, AppendOutcome, ClaimOutcome, EventStore, ExportOutcome, ExportQuery,
    ExportRecord, ExportRow, ExportState, IdempotencyRecord, NewJob, NewSchema, Organization,
    OrganizationStore, PendingEvent, Store, StoreError, KEY_SOURCE_CONFIGURED, KEY_SOURCE_CREATED,
};
use postgres_support::TestDatabase;
use sqlx::Connection;
use std::collections::HashMap;

pub(crate) async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("contract.db"))
        .await
        .unwrap();
    (store, dir)
}

pub(crate) fn organization(environment: &str, id: &str) -> Organization {
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

pub(crate) fn event(environment: &str, organization_id: &str, n: u8) -> PendingEvent {
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

pub(crate) fn idempotency(environment: &str, key: &str, created_at: i64) -> IdempotencyRecord {
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
    let outcomes = store.append_events(batch.clone()).await.unwrap();
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
        .append_events(vec![event("ev", "org_X", 5)])
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
            .append_events(vec![event("ev", "org_Y", 6)])
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
        .append_events(vec![first.clone(), duplicate_in_batch])
        .await
        .unwrap();
    assert_eq!(outcomes[0], AppendOutcome::Stored { sequence: 0 });
    assert!(matches!(&outcomes[1], AppendOutcome::Replay(record) if record.key == "key-1"));
    let mut later = event("idem", "org_I", 2);
    later.idempotency = Some(idempotency("idem", "key-1", 1_050));
    assert!(matches!(
        &store.append_events(vec![later]).await.unwrap()[0],
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
        store.append_events(vec![after_expiry]).await.unwrap()[0],
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

    // A key whose first event in a batch is refused (no such organization) is recorded with
    // the event of that key that is stored, and a key that stored nothing is not recorded.
    let mut refused = event("idem", "org_missing", 4);
    refused.idempotency = Some(idempotency("idem", "key-2", 1_300));
    let mut stored_later = event("idem", "org_I", 5);
    let mut later_record = idempotency("idem", "key-2", 1_300);
    later_record.body = b"stored later".to_vec();
    stored_later.idempotency = Some(later_record.clone());
    let mut refused_only = event("idem", "org_missing", 6);
    refused_only.idempotency = Some(idempotency("idem", "key-3", 1_300));
    let outcomes = store
        .append_events(vec![refused, stored_later, refused_only])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            AppendOutcome::OrganizationNotFound,
            AppendOutcome::Stored { sequence: 2 },
            AppendOutcome::OrganizationNotFound,
        ]
    );
    assert_eq!(
        store
            .find_idempotency("idem", "key-2", 1_300)
            .await
            .unwrap(),
        Some(later_record)
    );
    assert_eq!(
        store
            .find_idempotency("idem", "key-3", 1_300)
            .await
            .unwrap(),
        None
    );

    // Distinct new keys (the SDKs' usual batch), with an unkeyed event and one for a missing
    // organization: each stored event's key is recorded, the refused one's is not.
    let mut fresh = event("idem", "org_I", 7);
    fresh.idempotency = Some(idempotency("idem", "key-4", 1_400));
    let unkeyed = event("idem", "org_I", 8);
    let mut missing = event("idem", "org_missing", 9);
    missing.idempotency = Some(idempotency("idem", "key-5", 1_400));
    assert_eq!(
        store
            .append_events(vec![fresh.clone(), unkeyed, missing])
            .await
            .unwrap(),
        vec![
            AppendOutcome::Stored { sequence: 3 },
            AppendOutcome::Stored { sequence: 4 },
            AppendOutcome::OrganizationNotFound,
        ]
    );
    assert_eq!(
        store
            .find_idempotency("idem", "key-4", 1_400)
            .await
            .unwrap(),
        fresh.idempotency
    );
    assert_eq!(
        store
            .find_idempotency("idem", "key-5", 1_400)
            .await
            .unwrap(),
        None
    );

    // A new key beside one already recorded: the recorded one replays, the rest is stored once
    // and numbered without a gap (nothing of an attempt that met the recorded key remains).
    let mut new_key = event("idem", "org_I", 10);
    new_key.idempotency = Some(idempotency("idem", "key-6", 1_450));
    let mut retried = event("idem", "org_I", 11);
    retried.idempotency = Some(idempotency("idem", "key-4", 1_450));
    let unkeyed = event("idem", "org_I", 12);
    let outcomes = store
        .append_events(vec![new_key.clone(), retried, unkeyed])
        .await
        .unwrap();
    assert_eq!(outcomes[0], AppendOutcome::Stored { sequence: 5 });
    assert_eq!(
        outcomes[1],
        AppendOutcome::Replay(fresh.idempotency.unwrap())
    );
    assert_eq!(outcomes[2], AppendOutcome::Stored { sequence: 6 });
    assert_eq!(
        store
            .find_idempotency("idem", "key-6", 1_450)
            .await
            .unwrap(),
        new_key.idempotency
    );
    let sequences: Vec<i64> = store
        .list_events_by_sequence("idem", "org_I")
        .await
        .unwrap()
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(sequences, (0..=6).collect::<Vec<_>>());

    // A recorded key replays even when the event's organization is gone (a retry after the
    // organization was deleted): the key is decided before the organization, on every path.
    let mut orphan_retry = event("idem", "org_missing", 13);
    orphan_retry.idempotency = Some(idempotency("idem", "key-6", 1_460));
    assert_eq!(
        store.append_events(vec![orphan_retry]).await.unwrap(),
        vec![AppendOutcome::Replay(new_key.idempotency.unwrap())]
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
        hint: "x7Qz".into(),
        source: KEY_SOURCE_CREATED.into(),
        created_at: 1,
        revoked_at: None,
    };
    assert!(store.insert_api_key(&key).await.unwrap());
    assert!(!store.insert_api_key(&key).await.unwrap());
    assert_eq!(store.count_api_keys().await.unwrap(), 1);
    assert_eq!(
        store.find_api_key(&[3; 32]).await.unwrap(),
        Some(key.clone())
    );
    assert!(store.find_api_key(&[4; 32]).await.unwrap().is_none());
    // The same key given in the configuration later is marked configured.
    let configured = ApiKeyRecord {
        id: "key_2".into(),
        source: KEY_SOURCE_CONFIGURED.into(),
        ..key.clone()
    };
    assert!(!store.insert_api_key(&configured).await.unwrap());
    let found = store.find_api_key(&[3; 32]).await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.source.as_str()),
        ("key_1", KEY_SOURCE_CONFIGURED)
    );
}

async fn api_keys_are_listed_and_revoked(store: &dyn Store) {
    for (n, hash) in [(1, [5u8; 32]), (2, [6u8; 32])] {
        let key = ApiKeyRecord {
            id: format!("key_r{n}"),
            environment: "prod".into(),
            key_hash: hash,
            hint: format!("000{n}"),
            source: KEY_SOURCE_CREATED.into(),
            created_at: 10 + n,
            revoked_at: None,
        };
        store.insert_api_key(&key).await.unwrap();
    }
    assert!(store.revoke_api_key("key_r1", 50).await.unwrap());
    assert!(
        !store.revoke_api_key("key_r1", 60).await.unwrap(),
        "revoked once"
    );
    assert!(!store.revoke_api_key("key_none", 60).await.unwrap());
    assert!(
        store.find_api_key(&[5; 32]).await.unwrap().is_none(),
        "a revoked key is not found"
    );
    assert!(store.find_api_key(&[6; 32]).await.unwrap().is_some());
    let listed = store.list_api_keys().await.unwrap();
    let ids: Vec<(&str, Option<i64>)> = listed
        .iter()
        .map(|k| (k.id.as_str(), k.revoked_at))
        .collect();
    assert_eq!(
        ids,
        vec![("key_1", None), ("key_r1", Some(50)), ("key_r2", None)],
        "oldest first, revoked ones too"
    );
}

/// After reads, the store reports its pool with open connections, all idle again once the
/// pool has taken them back (it does so in the background, hence the short wait).
async fn pool_use_is_reported(store: &dyn Store, pool: &str) {
    store.count_api_keys().await.unwrap();
    let mut used = None;
    for _ in 0..100 {
        let pools = store.pool_use();
        let found = pools
            .iter()
            .find(|p| p.pool == pool)
            .cloned()
            .unwrap_or_else(|| panic!("no {pool} pool in {pools:?}"));
        assert!(found.open >= 1 && found.idle <= found.open, "{found:?}");
        if found.idle == found.open {
            return;
        }
        used = Some(found);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("connections stayed in use with nothing running: {used:?}");
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
    api_keys_are_listed_and_revoked(&store).await;
    pool_use_is_reported(&store, "readers").await;
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
        .append_events(vec![event("default", "org_R", 0)])
        .await
        .unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store
            .append_events(vec![event("default", "org_R", 1)])
            .await
            .unwrap(),
        vec![AppendOutcome::Stored { sequence: 1 }]
    );
}

fn list_params(pairs: &[(&str, &str)]) -> ListParams {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ListParams::parse(&map).unwrap()
}

fn new_schema(action: &str, document: &str, n: u8, now: i64) -> NewSchema {
    let document: serde_json::Value = serde_json::from_str(document).unwrap();
    NewSchema {
        environment: "schemas".into(),
        action: action.into(),
        fingerprint: serde_json::to_vec(&document).unwrap(),
        document,
        action_id: format!("ala_{action}_{n}"),
        schema_id: format!("als_{action}_{n}"),
        now,
    }
}

async fn schemas_are_append_only_versions(store: &dyn Store) {
    // Key order is not alphabetical: it must come back as given.
    let v1_text = r#"{"targets":[{"type":"team"}],"metadata":{"z":1,"a":2}}"#;
    let (v1, created) = store
        .add_schema_version(&new_schema("user.signed_in", v1_text, 1, 10))
        .await
        .unwrap();
    assert!(created);
    assert_eq!((v1.version, v1.id.as_str()), (1, "als_user.signed_in_1"));
    // The same document again creates nothing and returns the latest version as it is.
    let (same, created) = store
        .add_schema_version(&new_schema("user.signed_in", v1_text, 2, 20))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(same, v1);
    let (v2, created) = store
        .add_schema_version(&new_schema(
            "user.signed_in",
            r#"{"targets":[{"type":"doc"}]}"#,
            3,
            30,
        ))
        .await
        .unwrap();
    assert!(created);
    assert_eq!((v2.version, v2.id.as_str()), (2, "als_user.signed_in_3"));
    store
        .add_schema_version(&new_schema("doc.viewed", r#"{"targets":[]}"#, 4, 40))
        .await
        .unwrap();

    let action = store
        .get_action("schemas", "user.signed_in")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            action.id.as_str(),
            action.created_at,
            action.updated_at,
            &action.latest
        ),
        ("ala_user.signed_in_1", 10, 30, &v2)
    );
    assert!(store
        .get_action("other", "user.signed_in")
        .await
        .unwrap()
        .is_none());
    let stored_v1 = store
        .get_schema("schemas", "user.signed_in", 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_v1, v1);
    assert_eq!(serde_json::to_string(&stored_v1.document).unwrap(), v1_text);
    assert!(store
        .get_schema("schemas", "user.signed_in", 3)
        .await
        .unwrap()
        .is_none());

    let params = list_params(&[("order", "asc")]);
    let plan = params.plan();
    let actions = store.list_actions("schemas", &plan).await.unwrap();
    assert_eq!(
        actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["doc.viewed", "user.signed_in"],
        "ordered by action id"
    );
    let params = list_params(&[("limit", "1")]);
    let plan = params.plan();
    let page = plan.finish(
        store
            .list_schemas("schemas", "user.signed_in", &plan)
            .await
            .unwrap(),
        |s| s.id.clone(),
    );
    assert_eq!(page.data.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    let params = list_params(&[("limit", "5"), ("after", &page.after.unwrap())]);
    let plan = params.plan();
    let rest = store
        .list_schemas("schemas", "user.signed_in", &plan)
        .await
        .unwrap();
    assert_eq!(rest, vec![v1]);
}

fn export_event(
    n: u8,
    occurred_at: i64,
    action: &str,
    actor: &str,
    targets: &[&str],
) -> PendingEvent {
    PendingEvent {
        id: format!("audit_log_event_{n:02}"),
        environment: "exp".into(),
        organization_id: "org_E".into(),
        occurred_at,
        received_at: occurred_at + 1,
        action: action.into(),
        actor_id: format!("user_{actor}"),
        actor_name: Some(actor.into()),
        target_types: targets.iter().map(|t| t.to_string()).collect(),
        target_count: targets.len() as i64,
        payload: format!("{{\"n\":{n},\"x\":\"é\\u0000\"}}"),
        leaf_hash: [n; 32],
        idempotency: None,
    }
}

fn export_query(filters: ExportFilters) -> ExportQuery {
    ExportQuery {
        environment: "exp".into(),
        organization_id: "org_E".into(),
        filters,
    }
}

fn range(start: i64, end: i64) -> ExportFilters {
    ExportFilters {
        range_start: start,
        range_end: end,
        actions: vec![],
        actor_names: vec![],
        actor_ids: vec![],
        targets: vec![],
        max_sequence: None,
    }
}

async fn all_pages(store: &dyn Store, query: &ExportQuery, page: i64) -> Vec<ExportRow> {
    let mut rows: Vec<ExportRow> = Vec::new();
    loop {
        let after = rows.last().map(|r| (r.occurred_at, r.id.clone()));
        let next = store
            .export_page(query, after.as_ref(), page)
            .await
            .unwrap();
        let done = (next.len() as i64) < page;
        rows.extend(next);
        if done {
            return rows;
        }
    }
}

async fn exports_page_by_time_and_filter(store: &dyn Store) {
    store
        .create_organization(&organization("exp", "org_E"))
        .await
        .unwrap();
    store
        .create_organization(&organization("exp", "org_F"))
        .await
        .unwrap();
    let mut batch = vec![
        export_event(1, 300, "user.signed_in", "ann", &["team"]),
        export_event(2, 100, "user.signed_out", "bob", &["team", "doc", "doc"]),
        export_event(3, 200, "user.signed_in", "bob", &[]),
        export_event(4, 200, "doc.viewed", "ann", &["doc"]),
        export_event(5, 400, "user.signed_in", "cy", &["team", "doc", "doc", "x"]),
        export_event(6, 500, "user.signed_in", "ann", &["team"]),
    ];
    // Same time: ties are broken by id in byte order ("B" < "a").
    let mut upper = export_event(7, 250, "doc.viewed", "ann", &["doc"]);
    upper.id = "audit_log_event_B".into();
    let mut lower = export_event(8, 250, "doc.viewed", "ann", &["doc"]);
    lower.id = "audit_log_event_a".into();
    batch.extend([lower, upper]);
    // Another organization's events never show up.
    let mut foreign = export_event(9, 300, "user.signed_in", "ann", &["team"]);
    foreign.organization_id = "org_F".into();
    batch.push(foreign);
    let outcomes = store.append_events(batch.clone()).await.unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, AppendOutcome::Stored { .. })));

    let everything = export_query(range(100, 500));
    let rows = all_pages(store, &everything, 2).await;
    assert_eq!(
        rows.iter()
            .map(|r| (r.occurred_at, r.id.as_str()))
            .collect::<Vec<_>>(),
        [
            (100, "audit_log_event_02"),
            (200, "audit_log_event_03"),
            (200, "audit_log_event_04"),
            (250, "audit_log_event_B"),
            (250, "audit_log_event_a"),
            (300, "audit_log_event_01"),
            (400, "audit_log_event_05"),
        ],
        "[start, end) in (occurred_at, id) order, page by page"
    );
    assert_eq!(
        rows[0].payload, "{\"n\":2,\"x\":\"é\\u0000\"}",
        "byte for byte"
    );
    assert_eq!(store.export_max_targets(&everything).await.unwrap(), 4);
    // The read API pages the same rows by keyset in both directions, through the ties.
    let in_order: Vec<(i64, String)> = rows.iter().map(|r| (r.occurred_at, r.id.clone())).collect();
    for ascending in [true, false] {
        for page in [1, 2, 3] {
            let mut listed: Vec<(i64, String)> = Vec::new();
            loop {
                let next = store
                    .list_events(&everything, listed.last(), ascending, page)
                    .await
                    .unwrap();
                let done = (next.len() as i64) < page;
                listed.extend(next.into_iter().map(|e| (e.occurred_at, e.id)));
                if done {
                    break;
                }
            }
            let mut expected = in_order.clone();
            if !ascending {
                expected.reverse();
            }
            assert_eq!(listed, expected, "ascending {ascending}, page {page}");
        }
    }

    let mut filters = range(0, 1_000);
    filters.actions = vec!["user.signed_in".into(), "doc.viewed".into()];
    filters.actor_names = vec!["ann".into(), "bob".into()];
    let ids = |rows: Vec<ExportRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(all_pages(store, &export_query(filters.clone()), 10).await),
        [
            "audit_log_event_03",
            "audit_log_event_04",
            "audit_log_event_B",
            "audit_log_event_a",
            "audit_log_event_01",
            "audit_log_event_06"
        ]
    );
    filters.actor_ids = vec!["user_bob".into()];
    assert_eq!(
        ids(all_pages(store, &export_query(filters.clone()), 10).await),
        ["audit_log_event_03"]
    );
    let mut by_target = range(0, 1_000);
    by_target.targets = vec!["doc".into()];
    assert_eq!(
        ids(all_pages(store, &export_query(by_target.clone()), 10).await),
        [
            "audit_log_event_02",
            "audit_log_event_04",
            "audit_log_event_B",
            "audit_log_event_a",
            "audit_log_event_05"
        ]
    );
    by_target.targets = vec!["x".into(), "nothing".into()];
    assert_eq!(
        ids(all_pages(store, &export_query(by_target.clone()), 10).await),
        ["audit_log_event_05"]
    );
    assert_eq!(
        store
            .export_max_targets(&export_query(by_target))
            .await
            .unwrap(),
        4
    );
    let empty = export_query(range(600, 700));
    assert!(store
        .export_page(&empty, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.export_max_targets(&empty).await.unwrap(), 0);
    let mut elsewhere = everything.clone();
    elsewhere.environment = "other".into();
    assert!(store
        .export_page(&elsewhere, None, 10)
        .await
        .unwrap()
        .is_empty());
}

fn export_record(id: &str, filters: ExportFilters) -> ExportRecord {
    ExportRecord {
        id: id.into(),
        environment: "exp".into(),
        organization_id: "org_E".into(),
        state: ExportState::Pending,
        filters,
        blob_key: None,
        row_count: None,
        byte_count: None,
        error: None,
        created_at: 10,
        updated_at: 10,
        file_expires_at: None,
    }
}

fn job(id: &str, kind: &str, run_after: i64) -> NewJob {
    NewJob {
        id: id.into(),
        kind: kind.into(),
        payload: serde_json::json!({"export_id": id, "z": [1, 2], "a": null}),
        run_after,
    }
}

async fn exports_move_through_their_states(store: &dyn Store) {
    let mut filters = range(5, 50);
    filters.actions = vec!["user.signed_in".into()];
    let pending = export_record("audit_log_export_1", filters);
    store
        .create_export(&pending, &job("job_1", "export", 10))
        .await
        .unwrap();
    assert_eq!(
        store.get_export("exp", "audit_log_export_1").await.unwrap(),
        Some(pending.clone())
    );
    assert!(store
        .get_export("other", "audit_log_export_1")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.find_export("audit_log_export_1").await.unwrap(),
        Some(pending.clone())
    );
    let ready = ExportOutcome::Ready {
        blob_key: "exports/1.csv".into(),
        row_count: 12,
        byte_count: 345,
        file_expires_at: 1_000,
    };
    assert!(store
        .finish_export("audit_log_export_1", &ready, 20)
        .await
        .unwrap());
    assert!(
        !store
            .finish_export("audit_log_export_1", &ready, 21)
            .await
            .unwrap(),
        "only a pending export finishes"
    );
    let done = store
        .find_export("audit_log_export_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            done.state,
            done.blob_key.as_deref(),
            done.row_count,
            done.byte_count,
            done.file_expires_at,
            done.updated_at
        ),
        (
            ExportState::Ready,
            Some("exports/1.csv"),
            Some(12),
            Some(345),
            Some(1_000),
            20
        )
    );

    let failing = export_record("audit_log_export_2", range(0, 1));
    store
        .create_export(&failing, &job("job_2", "export", 10))
        .await
        .unwrap();
    let failed = ExportOutcome::Failed {
        reason: "blob store unreachable".into(),
    };
    assert!(store
        .finish_export("audit_log_export_2", &failed, 30)
        .await
        .unwrap());
    let failed = store
        .find_export("audit_log_export_2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.state, failed.error.as_deref()),
        (ExportState::Error, Some("blob store unreachable"))
    );

    assert!(store
        .exports_due_to_expire(999, 10)
        .await
        .unwrap()
        .is_empty());
    let due = store.exports_due_to_expire(1_000, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["audit_log_export_1"]
    );
    assert!(store
        .mark_export_expired("audit_log_export_1", 1_001)
        .await
        .unwrap());
    assert!(!store
        .mark_export_expired("audit_log_export_1", 1_002)
        .await
        .unwrap());
    assert!(!store
        .mark_export_expired("audit_log_export_2", 1_002)
        .await
        .unwrap());
    assert_eq!(
        store
            .find_export("audit_log_export_1")
            .await
            .unwrap()
            .unwrap()
            .state,
        ExportState::Expired
    );
    assert!(store
        .exports_due_to_expire(5_000, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn jobs_are_leased_to_one_owner(store: &dyn Store) {
    let create = |id: &str, kind: &str, run_after: i64| {
        let export = export_record(&format!("audit_log_export_{id}"), range(0, 1));
        let job = job(id, kind, run_after);
        async move { store.create_export(&export, &job).await.unwrap() }
    };
    create("job_a", "export", 100).await;
    create("job_b", "export", 200).await;
    create("job_c", "other", 0).await;

    assert!(store
        .claim_job(&[], "node-1", 1_000, 2_000)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .claim_job(&["export"], "node-1", 99, 199)
            .await
            .unwrap()
            .is_none(),
        "not due yet"
    );
    let a = store
        .claim_job(&["export"], "node-1", 150, 300)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            a.id.as_str(),
            a.kind.as_str(),
            a.attempts,
            a.lease_owner.as_str()
        ),
        ("job_a", "export", 1, "node-1")
    );
    assert_eq!(a.payload, job("job_a", "export", 100).payload);
    assert_eq!(
        serde_json::to_string(&a.payload).unwrap(),
        r#"{"export_id":"job_a","z":[1,2],"a":null}"#
    );
    assert!(
        store
            .claim_job(&["export"], "node-2", 160, 300)
            .await
            .unwrap()
            .is_none(),
        "job_a is leased, job_b not due"
    );
    let b = store
        .claim_job(&["export", "other"], "node-2", 200, 300)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.id, "job_c", "due first (run_after 0)");
    let b = store
        .claim_job(&["export"], "node-2", 200, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.id, "job_b");

    // Leases: only the owner renews; an expired lease is taken over with a new attempt.
    assert!(!store.renew_job_lease("job_a", "node-2", 400).await.unwrap());
    assert!(store.renew_job_lease("job_a", "node-1", 400).await.unwrap());
    assert!(store
        .claim_job(&["export"], "node-2", 399, 500)
        .await
        .unwrap()
        .is_none());
    let taken = store
        .claim_job(&["export"], "node-2", 400, 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.as_str(), taken.attempts), ("job_a", 2));
    assert!(!store.complete_job("job_a", "node-1", 401).await.unwrap());
    assert!(!store.renew_job_lease("job_a", "node-1", 600).await.unwrap());

    // Retry: back in the queue at run_after; release: at once, the attempt not counted.
    assert!(store
        .retry_job("job_a", "node-2", "boom", 700, 450)
        .await
        .unwrap());
    assert!(store
        .claim_job(&["export"], "node-1", 699, 800)
        .await
        .unwrap()
        .is_none());
    let again = store
        .claim_job(&["export"], "node-1", 700, 800)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("job_a", 3));
    assert!(store.release_job("job_a", "node-1", 710).await.unwrap());
    assert!(!store.release_job("job_a", "node-1", 711).await.unwrap());
    let resumed = store
        .claim_job(&["export"], "node-3", 710, 900)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((resumed.id.as_str(), resumed.attempts), ("job_a", 3));
    assert!(store.complete_job("job_a", "node-3", 720).await.unwrap());
    assert!(!store.complete_job("job_a", "node-3", 721).await.unwrap());

    // job_b (leased to node-2 until 1 000) fails for good.
    assert!(store.fail_job("job_b", "node-2", "bad", 250).await.unwrap());
    assert!(!store
        .retry_job("job_b", "node-2", "bad", 260, 260)
        .await
        .unwrap());
    assert!(
        store
            .claim_job(&["export", "other"], "node-1", 10_000, 20_000)
            .await
            .unwrap()
            .map(|j| j.id)
            == Some("job_c".into()),
        "job_c's lease (until 300) expired; done and failed jobs never come back"
    );
    assert!(store
        .claim_job(&["export"], "node-1", 10_000, 20_000)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn sqlite_schemas() {
    let (store, _dir) = sqlite().await;
    schemas_are_append_only_versions(&store).await;
}

#[tokio::test]
async fn sqlite_exports() {
    let (store, _dir) = sqlite().await;
    exports_page_by_time_and_filter(&store).await;
    exports_move_through_their_states(&store).await;
}

#[tokio::test]
async fn sqlite_jobs() {
    let (store, _dir) = sqlite().await;
    jobs_are_leased_to_one_owner(&store).await;
}

/// A PostgreSQL store on a fresh database, or `None` (the test passes, skipped) without
/// `AUDITLOG_TEST_DATABASE_URL`.
pub(crate) async fn postgres() -> Option<(auditlog_store::postgres::PostgresStore, TestDatabase)> {
    let database = TestDatabase::create().await?;
    let store = database.store().await;
    Some((store, database))
}

#[tokio::test]
async fn postgres_organizations() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    organizations_are_scoped_and_external_ids_unique(&store).await;
    organizations_list_by_keyset(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_events() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    events_get_gap_free_sequences_per_organization(&store).await;
    event_idempotency_is_atomic_with_the_event(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_idempotency_and_keys() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    idempotency_records_expire_and_are_scoped(&store).await;
    idempotency_claims_serialize_duplicates(&store).await;
    api_keys_are_found_by_hash(&store).await;
    api_keys_are_listed_and_revoked(&store).await;
    pool_use_is_reported(&store, "main").await;
    store.close().await;
}

#[tokio::test]
async fn postgres_schemas() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    schemas_are_append_only_versions(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_exports() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    exports_page_by_time_and_filter(&store).await;
    exports_move_through_their_states(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_jobs() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    jobs_are_leased_to_one_owner(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_reconnects_with_its_data() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = database.store().await;
    store
        .create_organization(&organization("default", "org_R"))
        .await
        .unwrap();
    store
        .append_events(vec![event("default", "org_R", 0)])
        .await
        .unwrap();
    store.close().await;
    // Migrations already applied: connecting again finds nothing to do.
    let store = database.store().await;
    assert_eq!(
        store
            .append_events(vec![event("default", "org_R", 1)])
            .await
            .unwrap(),
        vec![AppendOutcome::Stored { sequence: 1 }]
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_tamper_evidence_log() {
    let (store, _dir) = sqlite().await;
    tlog_contract::log_trees_grow_only_by_compare_and_set(&store).await;
    tlog_contract::checkpoints_are_stored_once_and_only_for_built_sizes(&store).await;
    tlog_contract::cosigned_notes_replace_the_stored_note(&store).await;
    tlog_contract::log_builder_leases_are_exclusive(&store).await;
    tlog_contract::a_new_database_holds_no_signing_seed(&store).await;
    tlog_contract::exports_are_cut_at_a_sequence(&store).await;
    let database = format!("sqlite://{}", _dir.path().join("contract.db").display());
    tlog_contract::missing_event_rows_are_named(&store, async |id| {
        let mut connection = sqlx::SqliteConnection::connect(&database).await.unwrap();
        let deleted = sqlx::Executor::execute(&mut connection, delete_event_sql(id)).await;
        assert_eq!(deleted.unwrap().rows_affected(), 1, "no event {id}");
    })
    .await;
}

#[tokio::test]
async fn postgres_tamper_evidence_log() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    tlog_contract::log_trees_grow_only_by_compare_and_set(&store).await;
    tlog_contract::checkpoints_are_stored_once_and_only_for_built_sizes(&store).await;
    tlog_contract::cosigned_notes_replace_the_stored_note(&store).await;
    tlog_contract::log_builder_leases_are_exclusive(&store).await;
    tlog_contract::a_new_database_holds_no_signing_seed(&store).await;
    tlog_contract::exports_are_cut_at_a_sequence(&store).await;
    tlog_contract::missing_event_rows_are_named(&store, async |id| {
        let mut connection = sqlx::PgConnection::connect(&_db.url).await.unwrap();
        let deleted = sqlx::Executor::execute(&mut connection, delete_event_sql(id)).await;
        assert_eq!(deleted.unwrap().rows_affected(), 1, "no event {id}");
    })
    .await;
    store.close().await;
}

#[tokio::test]
async fn postgres_redacted_events_are_listed() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    crate::retention_contract::redacted_events_are_listed_by_sequence(&store).await;
    store.close().await;
}

/// `DELETE FROM events WHERE id = …`, the statement an insider with database access runs.
fn delete_event_sql(id: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("DELETE FROM events WHERE id = '{id}'"))
}

#[tokio::test]
async fn sqlite_log_streams() {
    let (store, _dir) = sqlite().await;
    stream_contract::streams_are_scoped_and_kept_as_given(&store).await;
    stream_contract::stream_delivery_is_leased_and_compare_and_set(&store).await;
}

#[tokio::test]
async fn postgres_log_streams() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    stream_contract::streams_are_scoped_and_kept_as_given(&store).await;
    stream_contract::stream_delivery_is_leased_and_compare_and_set(&store).await;
    store.close().await;
}

#[tokio::test]
async fn sqlite_portal() {
    let (store, _dir) = sqlite().await;
    portal_contract::portal_links_open_once_before_they_expire(&store).await;
    portal_contract::portal_sessions_are_found_by_hash_and_swept(&store).await;
    portal_contract::portal_access_is_revoked_by_external_user(&store).await;
}

#[tokio::test]
async fn postgres_portal() {
    let Some((store, _db)) = postgres().await else {
        return;
    };
    portal_contract::portal_links_open_once_before_they_expire(&store).await;
    portal_contract::portal_sessions_are_found_by_hash_and_swept(&store).await;
    portal_contract::portal_access_is_revoked_by_external_user(&store).await;
    store.close().await;
}
