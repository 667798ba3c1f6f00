use crate::common;

use common::TestServer;

#[tokio::test]
async fn health_answers_without_a_key_and_every_response_has_a_request_id() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("req_"), "{id}");
    // A caller's own request id is echoed back.
    let echoed = server
        .http
        .get(server.url("/organizations"))
        .header("x-request-id", "req_from_client")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), 401);
    assert_eq!(echoed.headers()["x-request-id"], "req_from_client");
    server.stop().await;
}

#[tokio::test]
async fn ready_asks_the_store_and_the_blob_store() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "checks": {"store": "ok", "blob_store": "ok"}})
    );
    // Put a file where the local blob store's directory was: its metadata requests now fail.
    let blobs = server.data_dir.path().join("blobs");
    assert!(
        blobs.is_dir(),
        "the test server keeps its blobs in {}",
        blobs.display()
    );
    std::fs::remove_dir_all(&blobs).unwrap();
    std::fs::write(&blobs, b"not a directory").unwrap();
    let response = server.http.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["blob_store"], "failed");
    // Liveness does not depend on them.
    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await;
}
