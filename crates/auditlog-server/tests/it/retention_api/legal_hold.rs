//! retention_api: legal hold.

use super::*;

#[tokio::test]
async fn legal_hold_validation_history_and_conflicts() {
    let server = TestServer::start().await;
    let id = server.create_org("Hold").await;
    let actor = key_id(&server).await;
    let path = hold_path(&id);

    let (status, hold) = send(server.get(&path)).await;
    assert_eq!(status, 200);
    assert_eq!(
        hold,
        json!({"object": "legal_hold", "organization_id": id, "active": false, "reason": null,
               "placed_at": null, "history": []})
    );

    let too_long = "x".repeat(1001);
    for body in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": "   "}),
        json!({"reason": null}),
        json!({"reason": 42}),
        json!({"reason": ["litigation"]}),
        json!({"reason": too_long}),
        json!([]),
    ] {
        let (status, error) = send(server.post(&path).json(&body)).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert_eq!(
            field_errors(&error),
            [("reason".to_string(), "required".to_string())]
        );
    }
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold["active"], false, "a rejected request places nothing");

    let (status, placed) = send(server.post(&path).json(&json!({"reason": "Case 2026-17"}))).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["object"], "legal_hold");
    assert_eq!(placed["active"], true);
    assert_eq!(placed["reason"], "Case 2026-17");
    assert!(placed["placed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(placed["history"].as_array().unwrap().len(), 1);

    let (status, conflict) = send(server.post(&path).json(&json!({"reason": "again"}))).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["code"], "legal_hold_unchanged");
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold, placed, "the second placing changed nothing");

    // Releasing needs a reason too.
    let (status, _) = send(server.delete(&path).json(&json!({}))).await;
    assert_eq!(status, 422);
    let (status, released) = send(
        server
            .delete(&path)
            .json(&json!({"reason": "Case settled"})),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["active"], false);
    assert_eq!(released["reason"], Value::Null);
    assert_eq!(released["placed_at"], Value::Null);
    let history = released["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{released}");
    assert_eq!(history[0]["action"], "placed");
    assert_eq!(history[0]["reason"], "Case 2026-17");
    assert_eq!(history[0]["actor"], actor.as_str());
    assert_eq!(history[0]["at"], placed["placed_at"]);
    assert_eq!(history[1]["action"], "released");
    assert_eq!(history[1]["reason"], "Case settled");
    assert_eq!(history[1]["actor"], actor.as_str());
    assert!(history[1]["at"].as_str().unwrap() >= history[0]["at"].as_str().unwrap());
    let (_, hold) = send(server.get(&path)).await;
    assert_eq!(hold, released);

    let (status, conflict) = send(server.delete(&path).json(&json!({"reason": "again"}))).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["code"], "legal_hold_unchanged");

    // A hold can be placed again, and is recorded again.
    let (status, again) = send(server.post(&path).json(&json!({"reason": "Case 2"}))).await;
    assert_eq!(status, 201);
    assert_eq!(again["history"].as_array().unwrap().len(), 3);
    // Retention can still be changed while on hold; the hold does not show in the retention API.
    set_retention_days(&server, &id, 60).await;
    let (_, config) =
        send(server.get(&format!("/organizations/{id}/audit_log_configuration"))).await;
    assert_eq!(config["retention_period_in_days"], 60);
}

#[tokio::test]
async fn legal_hold_stops_the_sweeper_and_export_expiry() {
    let server = TestServer::start_with(|c| {
        c.jobs.retention_sweep_interval_secs = 1;
        c.jobs.maintenance_interval_secs = 1;
        c.exports.export_file_ttl_secs = 1;
    })
    .await;
    let held = server.create_org("Held").await;
    let free = server.create_org("Free").await;
    for id in [&held, &free] {
        set_retention_days(&server, id, 30).await;
    }
    let (status, placed) = send(
        server
            .post(&hold_path(&held))
            .json(&json!({"reason": "Subpoena"})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");

    let now = now_micros();
    let mut batch = Vec::new();
    for org in [&held, &free] {
        for n in 0..3 {
            batch.push(pending_event(org, now - 31 * DAY - n, &format!("old_{n}")));
            batch.push(pending_event(org, now - 29 * DAY - n, &format!("new_{n}")));
        }
    }
    let ids = bulk_insert(&server, batch).await;
    let old_held: Vec<String> = ids[..6].iter().step_by(2).cloned().collect();
    let old_free: Vec<String> = ids[6..].iter().step_by(2).cloned().collect();
    let before_held = server.stored_events("default", &held).await;

    let range = (now - 40 * DAY, now + DAY);
    let held_export = ready_export(&server, &held, range.0, range.1).await;
    // Its file lives 1 s: it may be ready and expired between two polls.
    let free_export = create_export(&server, &free, range.0, range.1).await;

    // The free organization shows both jobs are running: its old events go, its file expires.
    wait_until(
        "the free organization's sweep",
        Duration::from_secs(20),
        || async { all_redacted(&server.stored_events("default", &free).await, &old_free) },
    )
    .await;
    wait_export_state(&server, &free_export, "expired").await;
    // One more round of each, for good measure.
    tokio::time::sleep(Duration::from_millis(2_200)).await;

    // The held organization kept everything.
    assert_eq!(
        server.stored_events("default", &held).await,
        before_held,
        "nothing is redacted while on hold"
    );
    let held_state = export_state(&server, &held_export).await;
    assert_eq!(held_state["state"], "ready", "{held_state}");
    let exported = export_event_ids(&server, &held_export).await;
    assert_eq!(exported, ids[..6].iter().cloned().collect::<BTreeSet<_>>());
    let url = export_state(&server, &held_export).await["url"]
        .as_str()
        .unwrap()
        .to_string();

    // Released: the sweep resumes and the file expires.
    let (status, released) = send(
        server
            .delete(&hold_path(&held))
            .json(&json!({"reason": "Subpoena withdrawn"})),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["active"], false);
    wait_until(
        "the held organization's sweep",
        Duration::from_secs(20),
        || async { all_redacted(&server.stored_events("default", &held).await, &old_held) },
    )
    .await;
    let after = server.stored_events("default", &held).await;
    assert_eq!(sequences(&after), sequences(&before_held));
    assert_eq!(after.iter().filter(|e| e.payload.is_some()).count(), 3);
    wait_export_state(&server, &held_export, "expired").await;
    assert_eq!(
        export_state(&server, &held_export).await["url"],
        Value::Null
    );
    let response = server.http.get(&url).send().await.unwrap();
    assert_eq!(
        response.status(),
        404,
        "the file of an expired export is gone"
    );
}
