//! retention_api: the sweeper.

use super::*;

#[tokio::test]
async fn sweeper_redacts_events_past_retention() {
    let server = TestServer::start_with(|c| c.jobs.retention_sweep_interval_secs = 1).await;
    let monthly = server.create_org("Thirty days").await;
    let default = server.create_org("Default retention").await;
    set_retention_days(&server, &monthly, 30).await;
    let now = now_micros();

    // Through the store's bulk path: 31 days old (past 30) and 29 days old (within).
    let mut batch = Vec::new();
    for n in 0..5 {
        batch.push(pending_event(
            &monthly,
            now - 31 * DAY - n,
            &format!("old_{n}"),
        ));
        batch.push(pending_event(
            &monthly,
            now - 29 * DAY - n,
            &format!("new_{n}"),
        ));
    }
    // The default (365 days) applies to the organization with none set.
    batch.push(pending_event(&default, now - 366 * DAY, "old_default"));
    batch.push(pending_event(&default, now - 364 * DAY, "new_default"));
    batch.push(pending_event(&default, now - 31 * DAY, "month_default"));
    let ids = bulk_insert(&server, batch).await;
    // Through the API as well.
    for (days, actor) in [(31, "old_api"), (29, "new_api")] {
        let mut body = event_body(&monthly);
        body["event"]["occurred_at"] = json!(format_millis(from_micros(now - days * DAY)));
        body["event"]["actor"]["id"] = json!(actor);
        let (status, ok) = send(server.post("/audit_logs/events").json(&body)).await;
        assert_eq!((status, ok), (200, json!({"success": true})));
    }
    let before = server.stored_events("default", &monthly).await;
    let before_default = server.stored_events("default", &default).await;
    assert_eq!(before.len(), 12);
    let actor_of = |e: &StoredEvent| e.actor_id.clone();
    let old: Vec<String> = before
        .iter()
        .filter(|e| actor_of(e).starts_with("old_"))
        .map(|e| e.id.clone())
        .collect();
    let recent: Vec<String> = before
        .iter()
        .filter(|e| actor_of(e).starts_with("new_"))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!((old.len(), recent.len()), (6, 6));

    wait_until("the sweeper", Duration::from_secs(20), || async {
        all_redacted(&server.stored_events("default", &monthly).await, &old)
    })
    .await;
    let after = server.stored_events("default", &monthly).await;
    assert_eq!(
        sequences(&after),
        sequences(&before),
        "sequences and leaf hashes stay"
    );
    for event in &before {
        let kept = payload_of(&after, &event.id);
        if recent.contains(&event.id) {
            assert_eq!(kept, event.payload.as_deref(), "recent {}", event.actor_id);
        } else {
            assert_eq!(kept, None);
        }
    }
    wait_until("the default retention", Duration::from_secs(20), || async {
        let events = server.stored_events("default", &default).await;
        payload_of(&events, &ids[10]).is_none()
    })
    .await;
    let after_default = server.stored_events("default", &default).await;
    assert_eq!(sequences(&after_default), sequences(&before_default));
    assert!(
        payload_of(&after_default, &ids[11]).is_some(),
        "364 days < 365"
    );
    assert!(
        payload_of(&after_default, &ids[12]).is_some(),
        "31 days < 365"
    );

    // An export over the whole range holds only what is left.
    let export = ready_export(&server, &monthly, now - 40 * DAY, now_micros() + DAY).await;
    let exported = export_event_ids(&server, &export).await;
    assert_eq!(exported, recent.iter().cloned().collect::<BTreeSet<_>>());

    // Sequences keep counting after a sweep.
    let (status, _) = send(
        server
            .post("/audit_logs/events")
            .json(&event_body(&monthly)),
    )
    .await;
    assert_eq!(status, 200);
    let last = server.stored_events("default", &monthly).await;
    assert_eq!(last.last().unwrap().sequence, 12);
}
