//! Delivery semantics against a GenericHttps receiver: in order, signed, at least once through
//! every scripted fault, with the stream's state and counters saying what happened.

use super::receiver::{Receiver, Reply};
use super::{
    assert_complete_in_order, create_stream, get_json, post_events, sequences_of_array, server,
    update_stream, wait_for_stream, SECRET,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

fn generic(receiver: &Receiver, start: Value) -> Value {
    json!({"type": "GenericHttps", "settings": {"url": format!("{}/auditlog", receiver.url)},
           "secrets": {"signing_secret": SECRET, "headers": {"X-Team": "security"}},
           "start": start})
}

/// Checks a delivery's Standard Webhooks signature with the secret, independently of the
/// server's code.
fn assert_signed(received: &super::receiver::Received) {
    let header = |name: &str| received.headers[name].to_str().unwrap().to_string();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let key = STANDARD.decode(&SECRET["whsec_".len()..]).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        header("webhook-signature")
            .split(' ')
            .any(|s| s == expected),
        "signature does not verify"
    );
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {timestamp}");
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-team"), "security");
}

#[tokio::test]
async fn events_arrive_signed_in_order_with_every_field_and_the_stream_says_so() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 25).await;
    let stream = create_stream(&server, &org, generic(&receiver, json!("beginning"))).await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 15).await;
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 39
    })
    .await;
    assert_eq!(done["state"], "active");
    assert_eq!(done["lag"], json!({"events": 0, "seconds": 0.0}));
    assert_eq!(done["counters"]["delivered_events"], 40);
    assert_eq!(done["counters"]["failed_attempts"], 0);
    assert!(done["last_synced_at"].is_string());

    let accepted = receiver.accepted();
    let batches: Vec<Vec<i64>> = accepted
        .iter()
        .map(|r| sequences_of_array(&r.body))
        .collect();
    assert_complete_in_order(&batches, 40);
    assert_eq!(
        batches.iter().map(Vec::len).sum::<usize>(),
        40,
        "no duplicates without faults"
    );
    for received in &accepted {
        assert_eq!(received.path, "/auditlog");
        assert_signed(received);
    }
    let first: Vec<Value> = serde_json::from_slice(&accepted[0].body).unwrap();
    let event = &first[0];
    assert_eq!(event["organization_id"], org.as_str());
    assert_eq!(event["sequence"], 0);
    assert!(event["id"]
        .as_str()
        .unwrap()
        .starts_with("audit_log_event_"));
    assert_eq!(event["action"], "document.updated");
    assert_eq!(event["actor"], json!({"id": "user_0", "type": "user"}));
    assert_eq!(
        event["targets"],
        json!([{"id": "doc_1", "type": "document"}])
    );
    assert_eq!(event["context"], json!({"location": "203.0.113.7"}));
    assert_eq!(event["version"], 1);
    assert_eq!(event["occurred_at"], "2026-03-01T10:00:00.000Z");
    // The same event as the read API has it.
    let read: Value = get_json(
        &server,
        &format!("/audit_logs/events/{}", event["id"].as_str().unwrap()),
    )
    .await;
    for field in [
        "action",
        "actor",
        "targets",
        "context",
        "occurred_at",
        "sequence",
    ] {
        assert_eq!(read[field], event[field], "{field}");
    }
}

#[tokio::test]
async fn faults_are_retried_until_every_event_is_delivered_in_order() {
    let server = server().await;
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::Refuse(500, None, "internal error"),
        Reply::Refuse(503, None, "unavailable"),
        Reply::Refuse(429, Some(1), "slow down"),
        // Longer than the server's 2 s timeout: it gives up, the receiver keeps the batch.
        Reply::Slow(Duration::from_secs(3)),
        Reply::Refuse(502, None, "bad gateway"),
    ]);
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 10).await;
    let stream = create_stream(&server, &org, generic(&receiver, json!("beginning"))).await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 10).await;
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(40), |s| {
        s["cursor"] == 19 && s["state"] == "active"
    })
    .await;
    assert!(
        done["counters"]["failed_attempts"].as_i64().unwrap() >= 5,
        "{done}"
    );
    assert_eq!(done["counters"]["delivered_events"].as_i64().unwrap(), 20);
    let last_error = &done["last_error"];
    assert!(last_error["message"].is_string(), "{done}");
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert_complete_in_order(&batches, 20);
    // The 429's Retry-After (1 s) was waited out: the next attempt came at least 1 s later.
    let received = receiver.received();
    assert!(received.len() >= 6, "{}", received.len());
    let waited = received[3].at - received[2].at;
    assert!(waited >= Duration::from_millis(990), "{waited:?}");
    // The batch the receiver kept while the server gave up came again: a duplicate, in order.
    assert!(batches.iter().map(Vec::len).sum::<usize>() > 20);
}

#[tokio::test]
async fn a_refusing_receiver_puts_the_stream_in_error_and_it_recovers_by_itself() {
    let server = server().await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Refuse(403, None, r#"{"error":"token revoked"}"#));
    let org = server.create_org("Acme").await;
    let stream = create_stream(&server, &org, generic(&receiver, json!("now"))).await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 5).await;
    let failing = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["state"] == "error"
    })
    .await;
    assert_eq!(failing["last_error"]["status"], 403);
    assert!(
        failing["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("token revoked"),
        "{failing}"
    );
    assert_eq!(failing["cursor"], -1);
    assert_eq!(failing["lag"]["events"], 5);
    let workos: Value = get_json(
        &server,
        &format!("/organizations/{org}/audit_log_configuration"),
    )
    .await;
    assert_eq!(workos["log_stream"]["state"], "error");

    receiver.set_default(Reply::Accept(202));
    let recovered = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 4
    })
    .await;
    assert_eq!(recovered["state"], "active");
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert_complete_in_order(&batches, 5);
}

#[tokio::test]
async fn paused_streams_wait_and_replays_deliver_a_range_again() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 3).await;
    let mut body = generic(&receiver, json!(1));
    body["paused"] = json!(true);
    let stream = create_stream(&server, &org, body).await;
    let id = stream["id"].as_str().unwrap();
    assert_eq!(stream["state"], "inactive");
    assert_eq!(stream["cursor"], 0, "starts at sequence 1");
    post_events(&server, &org, 3).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        receiver.received().is_empty(),
        "a paused stream delivers nothing"
    );

    let path = format!("/organizations/{org}/log_streams/{id}");
    update_stream(&server, &org, id, json!({"paused": false})).await;
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 5
    })
    .await;
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert_eq!(batches.concat(), [1, 2, 3, 4, 5]);

    // Beyond what was delivered, and backwards, are refused.
    for bad in [
        json!({"from_sequence": 2, "to_sequence": 9}),
        json!({"from_sequence": 4, "to_sequence": 2}),
        json!({}),
    ] {
        let response = server
            .post(&format!("{path}/replay"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{bad}");
    }
    let response = server
        .post(&format!("{path}/replay"))
        .json(&json!({"from_sequence": 2, "to_sequence": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let replayed = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["replay"].is_null()
    })
    .await;
    assert_eq!(replayed["cursor"], 5);
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert_eq!(batches.concat(), [1, 2, 3, 4, 5, 2, 3, 4]);
    assert_eq!(replayed["counters"]["delivered_events"], 8);
}

#[tokio::test]
async fn a_test_event_shows_the_receivers_answer() {
    let server = server().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Refuse(401, None, "bad signature")]);
    let org = server.create_org("Acme").await;
    let stream = create_stream(&server, &org, generic(&receiver, json!("now"))).await;
    let id = stream["id"].as_str().unwrap();
    let test = |server: &crate::common::TestServer| {
        server
            .post(&format!("/organizations/{org}/log_streams/{id}/test"))
            .send()
    };
    let refused: Value = test(&server).await.unwrap().json().await.unwrap();
    assert_eq!(refused["delivered"], false);
    assert_eq!(refused["status"], 401);
    assert!(refused["response"]
        .as_str()
        .unwrap()
        .contains("bad signature"));
    let accepted: Value = test(&server).await.unwrap().json().await.unwrap();
    assert_eq!(accepted["delivered"], true, "{accepted}");
    assert_eq!(accepted["status"], 200);
    let received = receiver.received();
    let events: Vec<Value> = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(events[0]["test"], true);
    assert_eq!(events[0]["action"], "auditlog.log_stream.test");
    assert_eq!(events[0]["sequence"], Value::Null);
    assert_signed(&received[1]);
    // The test moved nothing.
    let after = super::get_stream(&server, &org, id).await;
    assert_eq!(after["cursor"], -1);
    assert_eq!(after["counters"]["delivered_events"], 0);
}

#[tokio::test]
async fn events_retention_removed_before_delivery_are_counted_not_passed_over() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    let mut body = generic(&receiver, json!("beginning"));
    body["paused"] = json!(true);
    let stream = create_stream(&server, &org, body).await;
    let id = stream["id"].as_str().unwrap();
    for n in 0..10 {
        let occurred_at = if n % 3 == 0 {
            "2020-01-01T00:00:00.000Z"
        } else {
            "2026-03-01T10:00:00.000Z"
        };
        let response = server
            .post("/audit_logs/events")
            .json(
                &json!({"organization_id": org, "event": {"action": "document.updated",
                "occurred_at": occurred_at, "actor": {"id": format!("user_{n}"), "type": "user"},
                "targets": [], "context": {"location": "203.0.113.7"}}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Retention removes the four old events (sequences 0, 3, 6, 9) before the stream resumes.
    let store = server.open_store().await;
    let cutoff = 1_609_459_200_000_000; // 2021-01-01
    let removed = store
        .redact_events_before(
            "default",
            &org,
            cutoff,
            100,
            chrono::Utc::now().timestamp_micros(),
        )
        .await
        .unwrap();
    assert_eq!(removed, 4);
    drop(store);
    update_stream(&server, &org, id, json!({"paused": false})).await;
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 9
    })
    .await;
    assert_eq!(done["counters"]["skipped_events"], 4, "{done}");
    assert_eq!(done["counters"]["delivered_events"], 6, "{done}");
    assert_eq!(done["lag"]["events"], 0);
    assert_eq!(receiver.accepted_batches().concat(), [1, 2, 4, 5, 7, 8]);
}

#[tokio::test]
async fn an_outage_scaled_down_ends_with_every_event_in_order() {
    let server = server().await;
    let receiver = Receiver::start().await;
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 5).await;
    // Starting from a time: the events received from then on (not the five before). The
    // timestamp has millisecond precision: it is taken clear of the last event's millisecond.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tokio::time::sleep(Duration::from_millis(20)).await;
    receiver.set_default(Reply::Refuse(503, None, "maintenance"));
    let stream = create_stream(&server, &org, generic(&receiver, json!(since))).await;
    let id = stream["id"].as_str().unwrap();
    assert_eq!(stream["cursor"], 4, "{stream}");
    // Events keep arriving through a 3 s outage (the 60 s one is in bench/stream.sh).
    for _ in 0..6 {
        post_events(&server, &org, 5).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let during = super::get_stream(&server, &org, id).await;
    assert_eq!(
        during["cursor"], 4,
        "nothing acknowledged during the outage"
    );
    assert!(during["lag"]["events"].as_i64().unwrap() == 30, "{during}");
    assert!(
        during["lag"]["seconds"].as_f64().unwrap() >= 2.0,
        "{during}"
    );
    assert_eq!(
        during["state"], "error",
        "three failures in a row: {during}"
    );
    receiver.set_default(Reply::Accept(200));
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 34
    })
    .await;
    assert_eq!(done["state"], "active");
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert_eq!(batches.concat(), (5..35).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_receiver_that_takes_smaller_bodies_gets_smaller_batches() {
    let server = server().await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::AtMost(3));
    let org = server.create_org("Acme").await;
    post_events(&server, &org, 20).await;
    let stream = create_stream(&server, &org, generic(&receiver, json!("beginning"))).await;
    let id = stream["id"].as_str().unwrap();
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 19
    })
    .await;
    assert_eq!(done["state"], "active");
    assert_eq!(
        done["last_error"],
        Value::Null,
        "a 413 with a smaller batch to try is no failure"
    );
    let batches: Vec<Vec<i64>> = receiver.accepted_batches();
    assert!(batches.iter().all(|b| b.len() <= 3), "{batches:?}");
    assert_eq!(batches.concat(), (0..20).collect::<Vec<_>>());
    assert!(
        receiver.received().iter().any(|r| !r.accepted),
        "the first batch was refused"
    );
}
