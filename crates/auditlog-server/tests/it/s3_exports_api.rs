//! Exports on an S3-compatible blob store (run by the test command against moto; skipped when
//! `AUDITLOG_TEST_S3_BUCKET`/`AWS_ENDPOINT_URL` are unset): the file lands in the bucket, the
//! `url` is a presigned S3 link that works without an API key and names the file, and file
//! expiry deletes the object.

use crate::common;

use common::{event_body, s3_blob_url, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

async fn export_state(server: &TestServer, id: &str) -> Value {
    server
        .get(&format!("/audit_logs/exports/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_for_state(server: &TestServer, id: &str, state: &str) -> Value {
    for _ in 0..300 {
        let export = export_state(server, id).await;
        if export["state"] == state {
            return export;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("export {id} never became {state}");
}

#[tokio::test]
async fn exports_go_to_the_bucket_and_download_through_presigned_links() {
    let Some(blob_url) = s3_blob_url() else {
        eprintln!("S3 export tests skipped: no S3 server configured (see tests/s3/moto.sh)");
        return;
    };
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let server = TestServer::start_with(|c| {
        c.storage.blob_url = Some(blob_url);
        c.exports.export_file_ttl_secs = 3;
        c.jobs.maintenance_interval_secs = 1;
    })
    .await;
    let org = server.create_org("S3 Co").await;
    for _ in 0..3 {
        let response = server
            .post("/audit_logs/events")
            .json(&event_body(&org))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let created: Value = server
        .post("/audit_logs/exports")
        .json(&json!({"organization_id": org, "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-12-31T00:00:00Z"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let ready = wait_for_state(&server, &id, "ready").await;
    let url = ready["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&endpoint),
        "a presigned link to the object store: {url}"
    );
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(
        url.contains("X-Amz-Expires=600"),
        "links last 10 minutes: {url}"
    );

    let download = reqwest::get(&url).await.unwrap();
    assert_eq!(download.status(), 200);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains(&format!("{id}.csv")), "{disposition}");
    let body = download.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(reader.records().count(), 3);
    // (Signature checking of presigned links is the object store's job; moto does not check
    // them, so tampering is not tested here.)

    // After the file TTL the object is deleted and the export is expired.
    let expired = wait_for_state(&server, &id, "expired").await;
    assert_eq!(expired["url"], Value::Null);
    let gone = reqwest::get(&url).await.unwrap().status();
    // S3 answers 403 rather than 404 for a missing object to a presigned GET.
    assert!(
        gone == 403 || gone == 404,
        "the object is gone from the bucket: {gone}"
    );
    server.stop().await;
}
