//! Round trips through the real backends (local files, in-memory) using only the public API.

use crate::support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use auditlog_blob::{BlobError, BlobRead, BlobStore};
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::ObjectStoreExt;
use support::{Counters, CountingStore};

const MIB: usize = 1024 * 1024;
const WRITE_SIZE: usize = 64 * 1024;
const KEY: &str = "exports/org_1/export_1.csv";

/// Deterministic, non-repeating-per-part content, so a misplaced or missing part is detected.
fn pattern(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

async fn upload(store: &BlobStore, key: &str, data: &[u8]) -> auditlog_blob::BlobWriter {
    let mut writer = store.writer(key).await.unwrap();
    for chunk in data.chunks(WRITE_SIZE) {
        writer.write(chunk).await.unwrap();
    }
    writer
}

async fn read_all(read: BlobRead) -> Vec<u8> {
    let chunks: Vec<_> = read.stream.try_collect().await.unwrap();
    chunks.concat()
}

/// A 12 MiB object (two full 5 MiB parts and a partial one), written in 64 KiB writes.
async fn round_trip(store: &BlobStore) {
    let data = pattern(12 * MIB);
    let writer = upload(store, KEY, &data).await;

    // Full parts are already uploaded, yet nothing is visible before finish.
    assert!(!store.exists(KEY).await.unwrap());
    assert!(store.get(KEY).await.unwrap().is_none());

    assert_eq!(writer.finish().await.unwrap(), data.len() as u64);
    assert!(store.exists(KEY).await.unwrap());
    let read = store.get(KEY).await.unwrap().expect("object after finish");
    assert_eq!(read.size, data.len() as u64);
    let read_back = read_all(read).await;
    assert_eq!(read_back.len(), data.len());
    assert!(read_back == data, "content differs");

    store.delete(KEY).await.unwrap();
    assert!(!store.exists(KEY).await.unwrap());
    assert!(store.get(KEY).await.unwrap().is_none());
}

async fn abort_leaves_nothing(store: &BlobStore) {
    let writer = upload(store, KEY, &pattern(11 * MIB)).await;
    writer.abort().await;
    assert!(!store.exists(KEY).await.unwrap());
    assert!(store.get(KEY).await.unwrap().is_none());
}

async fn missing_objects(store: &BlobStore) {
    assert!(store.get("exports/nope.csv").await.unwrap().is_none());
    assert!(!store.exists("exports/nope.csv").await.unwrap());
    store.delete("exports/nope.csv").await.unwrap();
    store.delete("never/existed/dir/x").await.unwrap();
}

/// Every file under `dir`, recursively (staging files included).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn local_round_trip_multipart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs"); // does not exist yet: local() creates it
    let store = BlobStore::local(&root).unwrap();
    round_trip(&store).await;

    // The object is a plain file under the root, and no staging file is left behind.
    let data = pattern(6 * MIB);
    upload(&store, KEY, &data).await.finish().await.unwrap();
    assert_eq!(std::fs::read(root.join(KEY)).unwrap(), data);
    assert_eq!(files_under(&root), vec![root.join(KEY)]);
}

#[tokio::test]
async fn local_abort_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    abort_leaves_nothing(&store).await;
    // abort() awaited the removal of the staging file.
    assert_eq!(files_under(dir.path()), Vec::<std::path::PathBuf>::new());
    missing_objects(&store).await;

    // Dropping a writer also cleans up (the local backend removes its staging file on drop).
    drop(upload(&store, KEY, &pattern(6 * MIB)).await);
    for _ in 0..100 {
        if files_under(dir.path()).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(files_under(dir.path()), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn in_memory_round_trip_multipart() {
    let store = BlobStore::in_memory();
    round_trip(&store).await;
    abort_leaves_nothing(&store).await;
    missing_objects(&store).await;
}

#[tokio::test]
async fn empty_object() {
    let store = BlobStore::in_memory();
    let writer = store.writer("empty").await.unwrap();
    assert_eq!(writer.finish().await.unwrap(), 0);
    let read = store.get("empty").await.unwrap().unwrap();
    assert_eq!(read.size, 0);
    assert!(read_all(read).await.is_empty());
}

#[tokio::test]
async fn prefix_is_prepended() {
    let inner = Arc::new(InMemory::new());
    let store = BlobStore::from_object_store(inner.clone(), "/tenant/a/");
    upload(&store, "x/y.csv", b"hello")
        .await
        .finish()
        .await
        .unwrap();
    let raw = inner.get(&"tenant/a/x/y.csv".into()).await.unwrap();
    assert_eq!(raw.bytes().await.unwrap().as_ref(), b"hello");
    assert!(store.exists("x/y.csv").await.unwrap());
}

#[tokio::test]
async fn invalid_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    for key in [
        "",
        "/",
        "../escape",
        "a/../../b",
        "a//b",
        "a/./b",
        "bad\nkey",
    ] {
        assert!(
            matches!(store.get(key).await, Err(BlobError::InvalidKey { .. })),
            "{key:?} accepted by get"
        );
        assert!(
            matches!(store.writer(key).await, Err(BlobError::InvalidKey { .. })),
            "{key:?} accepted by writer"
        );
    }
}

/// At most two parts upload at once however fast the producer writes: memory stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_parts_are_bounded() {
    let counters = Counters::default();
    let store =
        BlobStore::from_object_store(Arc::new(CountingStore::new(counters.clone(), None)), "");
    let data = pattern(26 * MIB); // six parts
    let writer = upload(&store, KEY, &data).await;
    assert_eq!(writer.finish().await.unwrap(), data.len() as u64);
    assert_eq!(counters.parts.load(Ordering::SeqCst), 6);
    assert_eq!(counters.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(read_all(store.get(KEY).await.unwrap().unwrap()).await, data);
}

/// A failed part poisons the writer: finishing would publish an object with a hole.
#[tokio::test]
async fn failed_part_cannot_be_finished() {
    let counters = Counters::default();
    let store = BlobStore::from_object_store(Arc::new(CountingStore::new(counters, Some(0))), "");
    let mut writer = store.writer(KEY).await.unwrap();
    let data = pattern(20 * MIB);
    let mut first_error = None;
    for chunk in data.chunks(WRITE_SIZE) {
        if let Err(error) = writer.write(chunk).await {
            first_error = Some(error);
            break;
        }
    }
    // The third part has to wait for a slot, which surfaces the first part's failure.
    assert!(
        matches!(first_error, Some(BlobError::Store { .. })),
        "{first_error:?}"
    );
    assert!(matches!(
        writer.write(b"more").await,
        Err(BlobError::UploadFailed { .. })
    ));
    assert!(matches!(
        writer.finish().await,
        Err(BlobError::UploadFailed { .. })
    ));
    assert!(!store.exists(KEY).await.unwrap());
}

/// Create-only writes keep the first content; listings return the keys after an offset.
async fn create_only_and_list(store: &BlobStore) {
    assert!(store
        .list_after("tlog/org_1", None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .create("tlog/org_1/0002", b"two".to_vec())
        .await
        .unwrap());
    assert!(!store
        .create("tlog/org_1/0002", b"forged".to_vec())
        .await
        .unwrap());
    assert_eq!(
        store
            .read_small("tlog/org_1/0002", 100)
            .await
            .unwrap()
            .unwrap(),
        b"two"
    );
    assert!(store.read_small("tlog/org_1/0002", 2).await.is_err());
    assert!(store
        .read_small("tlog/org_1/0009", 100)
        .await
        .unwrap()
        .is_none());
    for key in ["tlog/org_1/0001", "tlog/org_1/0010", "tlog/org_10/0001"] {
        assert!(store.create(key, b"x".to_vec()).await.unwrap());
    }
    assert_eq!(
        store.list_after("tlog/org_1", None).await.unwrap(),
        ["tlog/org_1/0001", "tlog/org_1/0002", "tlog/org_1/0010"]
    );
    assert_eq!(
        store
            .list_after("tlog/org_1", Some("tlog/org_1/0002"))
            .await
            .unwrap(),
        ["tlog/org_1/0010"]
    );
    assert!(store.any_under("tlog").await.unwrap());
    assert!(!store.any_under("tlog/org_2").await.unwrap());
}

#[tokio::test]
async fn create_only_and_list_on_local_files() {
    let dir = tempfile::tempdir().unwrap();
    create_only_and_list(&BlobStore::local(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn create_only_and_list_in_memory_under_a_prefix() {
    create_only_and_list(&BlobStore::from_object_store(
        Arc::new(InMemory::new()),
        "deployment-a",
    ))
    .await;
}
