//! S3 against the S3-compatible server the suite runs (moto): gzip'd NDJSON objects under keys
//! that sort by organization, date and sequence range; the same range delivered again
//! overwrites its object.

use super::{create_stream, post_events, server, wait_for_stream};
use crate::common::s3_blob_url;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{json, Value};
use std::io::Read;
use std::time::Duration;

#[tokio::test]
async fn s3_gets_gzipped_ndjson_objects_keyed_by_organization_date_and_range() {
    if s3_blob_url().is_none() {
        return;
    }
    let bucket = std::env::var("AUDITLOG_TEST_S3_BUCKET").unwrap();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let server = server().await;
    let org = server.create_org("Acme").await;
    let prefix = format!("streams-{}", org.to_lowercase());
    post_events(&server, &org, 8).await;
    let stream = create_stream(
        &server,
        &org,
        json!({"type": "S3", "start": "beginning",
               "settings": {"bucket": bucket, "endpoint": endpoint, "region": "us-east-1",
                            "prefix": prefix, "path_style": true},
               "secrets": {"access_key_id": std::env::var("AWS_ACCESS_KEY_ID").unwrap(),
                           "secret_access_key": std::env::var("AWS_SECRET_ACCESS_KEY").unwrap()}}),
    )
    .await;
    let id = stream["id"].as_str().unwrap();
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 7
    })
    .await;
    post_events(&server, &org, 5).await;
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 12
    })
    .await;
    assert_eq!(done["state"], "active");

    let store = AmazonS3Builder::from_env()
        .with_bucket_name(&bucket)
        .build()
        .unwrap();
    let list = |store: &object_store::aws::AmazonS3| {
        let prefix = Path::from(prefix.as_str());
        let listing = store.list(Some(&prefix));
        async move {
            let mut keys: Vec<String> = listing
                .map_ok(|meta| meta.location.to_string())
                .try_collect()
                .await
                .unwrap();
            keys.sort();
            keys
        }
    };
    let keys = list(&store).await;
    let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
    let mut sequences = Vec::new();
    for key in &keys {
        let expected_start = format!("{prefix}/{org}/{today}/");
        assert!(key.starts_with(&expected_start), "{key}");
        let range = key[expected_start.len()..].trim_end_matches(".ndjson.gz");
        let (first, last) = range.split_once('-').unwrap();
        assert_eq!((first.len(), last.len()), (20, 20), "{key}");
        let bytes = store
            .get(&Path::from(key.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events[0]["sequence"], first.parse::<i64>().unwrap());
        assert_eq!(
            events.last().unwrap()["sequence"],
            last.parse::<i64>().unwrap()
        );
        sequences.extend(events.iter().map(|e| e["sequence"].as_i64().unwrap()));
    }
    assert_eq!(sequences, (0..13).collect::<Vec<_>>(), "{keys:?}");

    // Replaying the first object's range writes the same key again, not a new object.
    let first_key = keys[0].clone();
    let (first, last) = first_key
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ndjson.gz")
        .split_once('-')
        .map(|(a, b)| (a.parse::<i64>().unwrap(), b.parse::<i64>().unwrap()))
        .unwrap();
    let response = server
        .post(&format!("/organizations/{org}/log_streams/{id}/replay"))
        .json(&json!({"from_sequence": first, "to_sequence": last}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["replay"].is_null()
    })
    .await;
    assert_eq!(list(&store).await, keys);
}
