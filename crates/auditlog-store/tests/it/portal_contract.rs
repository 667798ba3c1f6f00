//! The Admin Portal part of the store contract (`PortalStore`), run by `contract.rs` against
//! SQLite and PostgreSQL: a link opens once and only before it expires, sessions are found by
//! their hash, and expired rows are swept.

use auditlog_store::{PortalLink, PortalSession, Store};

fn link(token_hash: &str, expires_at: i64) -> PortalLink {
    PortalLink {
        token_hash: token_hash.into(),
        environment: "portal".into(),
        organization_id: "org_portal".into(),
        intent: "audit_logs".into(),
        return_url: Some("https://app.example/settings".into()),
        success_url: None,
        external_user_id: Some("admin_1".into()),
        created_at: 1_000,
        expires_at,
    }
}

fn session(token_hash: &str, last_seen_at: i64, expires_at: i64) -> PortalSession {
    PortalSession {
        token_hash: token_hash.into(),
        id: format!("portal_session_{token_hash}"),
        environment: "portal".into(),
        organization_id: "org_portal".into(),
        intent: "log_streams".into(),
        return_url: None,
        success_url: Some("https://app.example/done".into()),
        external_user_id: Some("admin_1".into()),
        csrf_token: "csrf".into(),
        created_at: 1_000,
        last_seen_at,
        expires_at,
    }
}

pub async fn portal_links_open_once_before_they_expire(store: &dyn Store) {
    store.create_portal_link(&link("a", 5_000)).await.unwrap();
    store.create_portal_link(&link("b", 5_000)).await.unwrap();
    assert_eq!(
        store.redeem_portal_link("a", 4_999).await.unwrap(),
        Some(link("a", 5_000)),
        "an unused link opens before its expiry, as it was stored"
    );
    assert_eq!(
        store.redeem_portal_link("a", 4_999).await.unwrap(),
        None,
        "only once"
    );
    assert_eq!(
        store.redeem_portal_link("b", 5_000).await.unwrap(),
        None,
        "not at expiry"
    );
    assert_eq!(
        store.redeem_portal_link("zz", 1).await.unwrap(),
        None,
        "unknown"
    );

    // Two redemptions racing: exactly one wins.
    store.create_portal_link(&link("c", 5_000)).await.unwrap();
    let (first, second) = tokio::join!(
        store.redeem_portal_link("c", 2_000),
        store.redeem_portal_link("c", 2_000)
    );
    let opened = [first.unwrap(), second.unwrap()];
    assert_eq!(opened.iter().filter(|l| l.is_some()).count(), 1);

    store.delete_expired_portal_rows(6_000, 0).await.unwrap();
    store
        .create_portal_link(&link("b", 9_000))
        .await
        .unwrap_or_else(|e| {
            panic!("an expired link's row is swept, so its hash can be stored again: {e}")
        });
}

pub async fn portal_sessions_are_found_by_hash_and_swept(store: &dyn Store) {
    store
        .create_portal_session(&session("s1", 1_000, 10_000))
        .await
        .unwrap();
    store
        .create_portal_session(&session("s2", 1_000, 10_000))
        .await
        .unwrap();
    assert_eq!(
        store.get_portal_session("s1").await.unwrap(),
        Some(session("s1", 1_000, 10_000))
    );
    assert_eq!(store.get_portal_session("nope").await.unwrap(), None);
    store.touch_portal_session("s1", 3_000).await.unwrap();
    assert_eq!(
        store
            .get_portal_session("s1")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        3_000
    );
    // s2 has been idle since 1_000: swept with a cutoff of 2_000; s1 stays.
    store
        .delete_expired_portal_rows(4_000, 2_000)
        .await
        .unwrap();
    assert!(store.get_portal_session("s2").await.unwrap().is_none());
    assert!(store.get_portal_session("s1").await.unwrap().is_some());
    store.delete_portal_session("s1").await.unwrap();
    assert!(store.get_portal_session("s1").await.unwrap().is_none());
    // Past the absolute end, whatever the activity.
    store
        .create_portal_session(&session("s3", 9_000, 10_000))
        .await
        .unwrap();
    store.delete_expired_portal_rows(10_000, 0).await.unwrap();
    assert!(store.get_portal_session("s3").await.unwrap().is_none());
}

pub async fn portal_access_is_revoked_by_external_user(store: &dyn Store) {
    store.create_portal_link(&link("r1", 9_000)).await.unwrap();
    let mut other_admin = link("r2", 9_000);
    other_admin.external_user_id = Some("admin_2".into());
    store.create_portal_link(&other_admin).await.unwrap();
    store
        .create_portal_session(&session("rs1", 1_000, 9_000))
        .await
        .unwrap();
    let removed = store
        .revoke_portal_access("portal", "org_portal", "admin_1")
        .await
        .unwrap();
    assert_eq!(removed, 2, "admin_1's unopened link and open session");
    assert_eq!(store.redeem_portal_link("r1", 2_000).await.unwrap(), None);
    assert!(store.get_portal_session("rs1").await.unwrap().is_none());
    assert!(
        store
            .redeem_portal_link("r2", 2_000)
            .await
            .unwrap()
            .is_some(),
        "another admin's link still opens"
    );
    let elsewhere = store
        .revoke_portal_access("other-env", "org_portal", "admin_2")
        .await
        .unwrap();
    assert_eq!(elsewhere, 0, "scoped to the environment");
}
