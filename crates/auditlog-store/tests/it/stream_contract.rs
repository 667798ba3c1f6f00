//! The log-stream part of the store contract (`StreamStore`), run by `contract.rs` against
//! SQLite and PostgreSQL: scoping, write-only fields kept as given, exclusive leases, and a
//! position that only its lease holder moves, by compare-and-set.

use auditlog_store::{
    LogStream, Store, StreamCounters, StreamError, StreamFailure, StreamProgress,
};
use serde_json::json;

fn stream(id: &str, organization_id: &str, created_at: i64) -> LogStream {
    LogStream {
        id: id.into(),
        environment: "streams".into(),
        organization_id: organization_id.into(),
        destination_type: "GenericHttps".into(),
        settings: json!({"url": "https://siem.example/intake"}),
        secrets: json!({"signing_secret": "whsec_c2VjcmV0"}),
        paused: false,
        state: "active".into(),
        cursor: -1,
        replay: None,
        last_synced_at: None,
        last_error: None,
        counters: StreamCounters::default(),
        consecutive_failures: 0,
        next_attempt_at: 0,
        created_at,
        updated_at: created_at,
    }
}

fn progress(id: &str, owner: &str, from: i64, to: i64, now: i64) -> StreamProgress {
    StreamProgress {
        stream_id: id.into(),
        owner: owner.into(),
        replay: false,
        from,
        to,
        delivered: to - from,
        skipped: 0,
        now,
    }
}

/// Streams are scoped to their organization and environment, listed oldest first, updated and
/// deleted by the API's fields only.
pub async fn streams_are_scoped_and_kept_as_given(store: &dyn Store) {
    store
        .create_stream(&stream("als_1", "org_S1", 10))
        .await
        .unwrap();
    store
        .create_stream(&stream("als_2", "org_S1", 20))
        .await
        .unwrap();
    store
        .create_stream(&stream("als_3", "org_S2", 5))
        .await
        .unwrap();
    let got = store
        .get_stream("streams", "org_S1", "als_1")
        .await
        .unwrap();
    assert_eq!(got, Some(stream("als_1", "org_S1", 10)));
    assert_eq!(
        store
            .get_stream("streams", "org_S2", "als_1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_stream("other", "org_S1", "als_1").await.unwrap(),
        None
    );
    let listed: Vec<String> = store
        .list_streams("streams", "org_S1")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ["als_1", "als_2"]);

    let mut changed = stream("als_1", "org_S1", 10);
    changed.paused = true;
    changed.settings = json!({"url": "https://siem.example/v2"});
    changed.replay = Some((3, 9));
    changed.updated_at = 30;
    // Fields the API does not change stay as stored.
    changed.cursor = 99;
    assert!(store.update_stream(&changed).await.unwrap());
    let got = store
        .get_stream("streams", "org_S1", "als_1")
        .await
        .unwrap()
        .unwrap();
    assert!(got.paused);
    assert_eq!(got.settings, json!({"url": "https://siem.example/v2"}));
    assert_eq!(
        (got.replay, got.updated_at, got.cursor),
        (Some((3, 9)), 30, -1)
    );
    let mut elsewhere = changed.clone();
    elsewhere.organization_id = "org_S2".into();
    assert!(!store.update_stream(&elsewhere).await.unwrap());

    assert!(!store
        .delete_stream("streams", "org_S2", "als_2")
        .await
        .unwrap());
    assert!(store
        .delete_stream("streams", "org_S1", "als_2")
        .await
        .unwrap());
    assert_eq!(
        store
            .get_stream("streams", "org_S1", "als_2")
            .await
            .unwrap(),
        None
    );
}

/// One owner at a time; the position moves only by its owner, from where it was; failures
/// count and back off; a paused stream is never due.
pub async fn stream_delivery_is_leased_and_compare_and_set(store: &dyn Store) {
    // Ten events (sequences 0..=9) for the stream to deliver; an idle stream is never due.
    crate::tlog_contract::organization_with_events(store, "org_L", 10).await;
    crate::tlog_contract::organization_with_events(store, "org_I", 2).await;
    let mut idle = stream("als_I", "org_I", 1);
    idle.cursor = 1;
    store.create_stream(&idle).await.unwrap();
    store
        .create_stream(&stream("als_L", "org_L", 1))
        .await
        .unwrap();
    let mut paused = stream("als_P", "org_L", 2);
    paused.paused = true;
    store.create_stream(&paused).await.unwrap();
    let due: Vec<String> = store
        .streams_due("node-a", 100, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .filter(|id| ["als_L", "als_P", "als_I"].contains(&id.as_str()))
        .collect();
    assert_eq!(due, ["als_L"]);
    let mut replaying = idle.clone();
    replaying.replay = Some((0, 1));
    assert!(store.update_stream(&replaying).await.unwrap());
    assert!(store
        .streams_due("node-a", 100, 10)
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == "als_I"));

    assert!(store
        .claim_stream("als_L", "node-a", 100, 200)
        .await
        .unwrap());
    assert!(
        store
            .claim_stream("als_L", "node-a", 150, 250)
            .await
            .unwrap(),
        "renewal"
    );
    assert!(!store
        .claim_stream("als_L", "node-b", 200, 300)
        .await
        .unwrap());
    assert!(!store
        .streams_due("node-b", 200, 10)
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == "als_L"));

    assert!(!store
        .record_stream_progress(&progress("als_L", "node-b", -1, 4, 210))
        .await
        .unwrap());
    assert!(store
        .record_stream_progress(&progress("als_L", "node-a", -1, 4, 210))
        .await
        .unwrap());
    // A second write from the same position (a stale batch) moves nothing.
    assert!(!store
        .record_stream_progress(&progress("als_L", "node-a", -1, 2, 211))
        .await
        .unwrap());
    let failure = StreamFailure {
        stream_id: "als_L".into(),
        owner: "node-a".into(),
        state: "error".into(),
        error: StreamError {
            message: "403 Forbidden".into(),
            status: Some(403),
            at: 220,
        },
        next_attempt_at: 400,
    };
    assert!(store.record_stream_failure(&failure).await.unwrap());
    let got = store
        .get_stream("streams", "org_L", "als_L")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.cursor, 4);
    assert_eq!(got.last_synced_at, Some(210));
    assert_eq!(got.state, "error");
    assert_eq!(got.last_error, Some(failure.error.clone()));
    assert_eq!((got.consecutive_failures, got.next_attempt_at), (1, 400));
    assert_eq!(
        got.counters,
        StreamCounters {
            delivered_events: 5,
            delivered_batches: 1,
            failed_attempts: 1,
            skipped_events: 0
        }
    );
    // Not due before its backoff ends; after the lease expires another node takes it over.
    store.release_stream("als_L", "node-a").await.unwrap();
    assert!(!store
        .streams_due("node-b", 300, 10)
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == "als_L"));
    assert!(store
        .streams_due("node-b", 400, 10)
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == "als_L"));
    assert!(store
        .claim_stream("als_L", "node-b", 400, 500)
        .await
        .unwrap());
    let mut next = progress("als_L", "node-b", 4, 9, 410);
    next.delivered = 3;
    next.skipped = 2;
    assert!(store.record_stream_progress(&next).await.unwrap());
    let got = store
        .get_stream("streams", "org_L", "als_L")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.cursor, got.state.as_str(), got.consecutive_failures),
        (9, "active", 0)
    );
    assert_eq!(
        (got.counters.delivered_events, got.counters.skipped_events),
        (8, 2)
    );
    assert!(got.last_error.is_some(), "the last error stays visible");

    // A replay range moves on its own position and ends.
    let mut replaying = got.clone();
    replaying.replay = Some((2, 6));
    assert!(store.update_stream(&replaying).await.unwrap());
    let mut replayed = progress("als_L", "node-b", 2, 4, 420);
    replayed.replay = true;
    assert!(store.record_stream_progress(&replayed).await.unwrap());
    let got = store
        .get_stream("streams", "org_L", "als_L")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.replay, got.cursor), (Some((5, 6)), 9));
    let mut rest = progress("als_L", "node-b", 5, 6, 430);
    rest.replay = true;
    assert!(store.record_stream_progress(&rest).await.unwrap());
    let got = store
        .get_stream("streams", "org_L", "als_L")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.replay, None);
    assert_eq!(got.counters.delivered_events, 8 + 2 + 1);

    // org_L has 10 events, als_L is at 9 and als_P (paused) at -1; als_I is caught up.
    let summary = store.stream_summary().await.unwrap();
    let find = |state: &str| {
        summary
            .iter()
            .find(|s| s.destination_type == "GenericHttps" && s.shown_state == state)
            .map(|s| (s.streams, s.lag_events))
    };
    assert_eq!(find("inactive"), Some((1, 10)));
    assert_eq!(find("active"), Some((2, 0)));
}
