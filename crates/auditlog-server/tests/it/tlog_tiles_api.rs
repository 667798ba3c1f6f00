//! The log as C2SP tlog-tiles: the tiles hold exactly the tree the signed checkpoint names,
//! checked here from the RFC 9162 definition of the tree hash (not with the server's own tree
//! code or `tlog_tiles`), and every other path is a JSON 404.

use crate::common::TestServer;
use crate::tlog_support::{checkpoint_now, independent_open, ingest, log_key};
use sha2_011::{Digest, Sha256};

type Hash = [u8; 32];

/// RFC 9162 §2.1.1: MTH of the leaf hashes.
fn tree_hash(leaves: &[Hash]) -> Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let split = leaves.len().next_power_of_two() / 2;
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(tree_hash(&leaves[..split]));
    hasher.update(tree_hash(&leaves[split..]));
    hasher.finalize().into()
}

fn hashes(data: &[u8]) -> Vec<Hash> {
    assert_eq!(data.len() % 32, 0);
    data.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

async fn tile(server: &TestServer, org: &str, path: &str) -> (u16, Vec<u8>) {
    let response = server
        .get(&format!("/audit_logs/log/{org}/tlog/tile/{path}"))
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn tiles_hold_the_tree_the_checkpoint_signs() {
    let server = TestServer::start_with(|c| c.log.log_interval_secs = 0).await;
    let org = server.create_org("Tiles").await;
    ingest(&server, &org, 0..300).await;
    checkpoint_now(&server, &org).await;
    let note = server
        .get(&format!("/audit_logs/log/{org}/tlog/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (origin, size, root) = independent_open(&note, &log_key(&server).await).unwrap();
    assert!(origin.ends_with(&org));
    assert_eq!(size, 300);

    // Level 0: one full tile of 256 leaf hashes, then a partial one of 44.
    let (status, full) = tile(&server, &org, "0/000").await;
    assert_eq!(status, 200);
    let (status, partial) = tile(&server, &org, "0/001.p/44").await;
    assert_eq!(status, 200);
    let mut leaves = hashes(&full);
    assert_eq!(leaves.len(), 256);
    leaves.extend(hashes(&partial));
    assert_eq!(
        tree_hash(&leaves),
        root,
        "the leaf tiles hold the signed tree"
    );
    // Level 1: the root of each full block of 256 leaves.
    let (status, upper) = tile(&server, &org, "1/000.p/1").await;
    assert_eq!(status, 200);
    assert_eq!(hashes(&upper), [tree_hash(&leaves[..256])]);
    // A narrower partial tile is a prefix of the wider one (tiles never change).
    let (_, narrow) = tile(&server, &org, "0/001.p/3").await;
    assert_eq!(narrow, partial[..3 * 32]);

    for (path, why) in [
        ("0/001", "a full tile the tree does not have yet"),
        ("0/001.p/45", "wider than the tree"),
        ("1/000", "a full upper tile"),
        ("0/002.p/1", "beyond the tree"),
        ("entries/000", "entry bundles are not served"),
        ("0/000.p/0", "a width of 0"),
        ("64/000", "a level past the last"),
        ("0/1", "not a tile path"),
        ("zzz", "not a tile path"),
    ] {
        let response = server
            .get(&format!("/audit_logs/log/{org}/tlog/tile/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}: {why}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["message"].is_string(), "{path}: a JSON error");
    }
    let other_key = server.key_for_environment("elsewhere").await;
    let elsewhere = server
        .http
        .get(server.url(&format!("/audit_logs/log/{org}/tlog/tile/0/000")))
        .bearer_auth(other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "another environment's log does not exist"
    );
    let anonymous = server
        .http
        .get(server.url(&format!("/audit_logs/log/{org}/tlog/checkpoint")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// The published file at `path` under the organization's tiles in the local blob store.
fn published(server: &TestServer, org: &str, path: &str) -> Option<Vec<u8>> {
    let file = server
        .data_dir
        .path()
        .join("blobs/tlog")
        .join(org)
        .join("tiles")
        .join(path);
    std::fs::read(file).ok()
}

#[tokio::test]
async fn published_tiles_are_the_log_as_static_files() {
    let server = TestServer::start_with(|c| {
        c.log.log_interval_secs = 1;
        c.log.publish_tiles = true;
    })
    .await;
    let org = server.create_org("Static").await;
    ingest(&server, &org, 0..300).await;
    checkpoint_now(&server, &org).await;
    let wait_for = |size: &'static str| {
        let (server, org) = (&server, org.clone());
        async move {
            for _ in 0..100 {
                if let Some(note) = published(server, &org, "checkpoint") {
                    if String::from_utf8_lossy(&note).lines().nth(1) == Some(size) {
                        return String::from_utf8(note).unwrap();
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no published checkpoint of size {size}");
        }
    };
    let note = wait_for("300").await;
    let (_, size, root) = independent_open(&note, &log_key(&server).await).unwrap();
    assert_eq!(size, 300);
    let full = published(&server, &org, "tile/0/000").unwrap();
    let partial = published(&server, &org, "tile/0/001.p/44").unwrap();
    let mut leaves = hashes(&full);
    leaves.extend(hashes(&partial));
    assert_eq!(
        tree_hash(&leaves),
        root,
        "the static files hold the signed tree"
    );
    assert_eq!(
        tile(&server, &org, "1/000.p/1").await.1,
        published(&server, &org, "tile/1/000.p/1").unwrap()
    );

    // The log grows: the next full tile appears once, the partial tiles follow the tree.
    ingest(&server, &org, 300..600).await;
    checkpoint_now(&server, &org).await;
    let note = wait_for("600").await;
    let (_, size, root) = independent_open(&note, &log_key(&server).await).unwrap();
    assert_eq!(size, 600);
    let mut leaves = Vec::new();
    for path in ["tile/0/000", "tile/0/001", "tile/0/002.p/88"] {
        let data = published(&server, &org, path).unwrap_or_else(|| panic!("{path}"));
        assert_eq!(tile(&server, &org, &path[5..]).await.1, data, "{path}");
        leaves.extend(hashes(&data));
    }
    assert_eq!(tree_hash(&leaves), root);
    server.stop().await;
}
