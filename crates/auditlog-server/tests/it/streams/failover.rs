//! Delivery across crashes: a node SIGKILLed with a batch in flight, restarted on its data;
//! and two nodes on one PostgreSQL database, the one delivering killed mid-stream. The
//! receiver must end up with every event in order, duplicates only of the batch in flight.

use super::assert_complete_in_order;
use super::receiver::{Receiver, Reply};
use crate::process::{start, Node, KEY};
use auditlog_test_support::TestDatabase;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(super) const STREAM_FLAGS: &[&str] = &[
    "--stream-allow-plaintext",
    "true",
    "--stream-allow-networks",
    "127.0.0.0/8",
    "--stream-interval-ms",
    "50",
    "--stream-lease-secs",
    "2",
    "--stream-timeout-secs",
    "10",
    "--stream-max-backoff-secs",
    "1",
    "--stream-batch-events",
    "10",
];

pub(super) async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

pub(super) async fn post_events(api: &str, org: &str, from: usize, count: usize) {
    for n in from..from + count {
        call(
            reqwest::Method::POST,
            format!("{api}/audit_logs/events"),
            Some(json!({"organization_id": org, "event": {
                "action": "document.updated", "occurred_at": "2026-03-01T10:00:00.000Z",
                "actor": {"id": format!("user_{n}"), "type": "user"}, "targets": [],
                "context": {"location": "203.0.113.7"}}})),
        )
        .await;
    }
}

pub(super) async fn create_org(api: &str) -> String {
    call(
        reqwest::Method::POST,
        format!("{api}/organizations"),
        Some(json!({"name": "Acme"})),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn setup(api: &str, receiver: &Receiver) -> (String, String) {
    let org = create_org(api).await;
    let stream = call(
        reqwest::Method::POST,
        format!("{api}/organizations/{org}/log_streams"),
        Some(json!({"type": "GenericHttps", "start": "beginning",
                    "settings": {"url": receiver.url},
                    "secrets": {"signing_secret": super::SECRET}})),
    )
    .await;
    (org, stream["id"].as_str().unwrap().to_string())
}

async fn wait_delivered(api: &str, org: &str, id: &str, last: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let stream = call(
            reqwest::Method::GET,
            format!("{api}/organizations/{org}/log_streams/{id}"),
            None,
        )
        .await;
        if stream["cursor"] == last {
            return stream;
        }
        assert!(Instant::now() < deadline, "not delivered: {stream:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn batches(receiver: &Receiver) -> Vec<Vec<i64>> {
    receiver.accepted_batches()
}

/// The batch in flight at the kill (the second) came again from its first sequence, and
/// nothing else came twice.
fn assert_redelivered_in_flight_batch_only(batches: &[Vec<i64>], count: usize) {
    assert_eq!(batches[2][0], batches[1][0], "{batches:?}");
    assert!(batches[2].len() >= batches[1].len(), "{batches:?}");
    let delivered: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(delivered, count + batches[1].len(), "{batches:?}");
}

/// Waits until the receiver holds a batch the server has not had an answer for.
async fn wait_in_flight(receiver: &Receiver, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.received().len() < count {
        assert!(Instant::now() < deadline, "no delivery arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_node_killed_with_a_batch_in_flight_delivers_it_again_after_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    // The second batch takes long: the node is killed while the receiver holds it.
    receiver.script([Reply::Accept(200), Reply::Slow(Duration::from_secs(30))]);
    let node = start(data_dir.path(), STREAM_FLAGS);
    let (org, id) = setup(&node.api, &receiver).await;
    post_events(&node.api, &org, 0, 25).await;
    wait_in_flight(&receiver, 2).await;
    node.stop();

    let node = start(data_dir.path(), STREAM_FLAGS);
    post_events(&node.api, &org, 25, 5).await;
    let stream = wait_delivered(&node.api, &org, &id, 29).await;
    assert_eq!(stream["state"], "active");
    let batches = batches(&receiver);
    assert_complete_in_order(&batches, 30);
    assert_redelivered_in_flight_batch_only(&batches, 30);
}

async fn lease_owner(database: &TestDatabase, id: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
    let owner: Option<String> =
        sqlx::query_scalar("SELECT lease_owner FROM log_streams WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    owner
}

#[tokio::test]
async fn another_node_takes_over_a_stream_whose_node_was_killed() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.script([Reply::Accept(200), Reply::Slow(Duration::from_secs(30))]);
    let mut flags = STREAM_FLAGS.to_vec();
    flags.extend(["--database-url", database.url.as_str()]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &flags);
    let b = start(dir_b.path(), &flags);
    let (org, id) = setup(&a.api, &receiver).await;
    post_events(&a.api, &org, 0, 15).await;
    post_events(&b.api, &org, 15, 10).await;
    wait_in_flight(&receiver, 2).await;
    // Kill whichever node holds the stream; the other one must take it over.
    let holder = lease_owner(&database, &id)
        .await
        .expect("a node holds the stream");
    let (killed, survivor): (Node, Node) = if holder == a.node_id { (a, b) } else { (b, a) };
    assert_eq!(holder, killed.node_id);
    killed.stop();
    post_events(&survivor.api, &org, 25, 5).await;
    wait_delivered(&survivor.api, &org, &id, 29).await;
    let batches = batches(&receiver);
    assert_complete_in_order(&batches, 30);
    assert_redelivered_in_flight_batch_only(&batches, 30);
}
