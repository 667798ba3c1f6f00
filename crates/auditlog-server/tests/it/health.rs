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
