//! Cluster process test: several `auditlog serve` processes on one PostgreSQL database and one
//! S3 prefix form a cluster.
//!
//! - `nodes_share_events_and_exports`: two nodes start at once on a fresh database (migrations
//!   under the advisory lock), events are written through both concurrently (with cross-node
//!   idempotent retries) and get gap-free, duplicate-free sequence numbers; an export created on
//!   one node is fetched on the other and downloads correctly. A poller tailing by sequence
//!   through both nodes while they write receives every event exactly once, in order.
//! - `an_export_survives_the_sigkill_of_its_node`: node A claims a large export, node B joins,
//!   A is killed with SIGKILL mid-export; B takes the job over once A's lease expires and the
//!   export ends `ready` with every seeded event exactly once.
//!
//! Needs `AUDITLOG_TEST_DATABASE_URL` and an S3 server (`source tests/s3/moto.sh`); skipped with
//! a note otherwise.

use auditlog_test_support as postgres_support;

use auditlog_store::postgres::PostgresStore;
use auditlog_store::EventStore;
use postgres_support::TestDatabase;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const KEY: &str = "sk_test_cluster_nodes_3Hn8Vb2QxJ6yT1kW5mZ";
const DOWNLOAD_SECRET: &str = "cluster-test-download-secret-0123456789abcdef";
const LEASE_SECS: u64 = 2;
const PAGE_ROWS: u64 = 2000;
/// Events seeded for the failover test: enough that node A is still exporting when it is killed
/// one second after claiming the job. 30,000 sufficed until the export pipeline got faster
/// (3fa0da4: a debug build then finished them within that second); `auditlog seed` takes about
/// 0.26 ms per event in a debug build. `AUDITLOG_CLUSTER_TEST_EVENTS` overrides it.
const DEFAULT_FAILOVER_EVENTS: u64 = 150_000;
/// How long node A works on the export before it is killed.
const WORK_BEFORE_KILL: Duration = Duration::from_millis(1000);

/// Writes to the real stderr: `eprintln!` output of passing tests is captured by the harness.
fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "[cluster] {message}");
}

/// A fresh database and a fresh S3 prefix, or `None` (with a note) when either is missing.
async fn cluster_backends() -> Option<(TestDatabase, String)> {
    let bucket = std::env::var("AUDITLOG_TEST_S3_BUCKET").ok();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (Some(bucket), Some(_)) = (bucket, endpoint) else {
        postgres_support::skip_unless_required("no S3 test server for the cluster tests");
        note(
            "cluster tests skipped: set AUDITLOG_TEST_S3_BUCKET and AWS_ENDPOINT_URL \
             (source tests/s3/moto.sh) and AUDITLOG_TEST_DATABASE_URL to run them",
        );
        return None;
    };
    let Some(database) = TestDatabase::create().await else {
        note("cluster tests skipped: set AUDITLOG_TEST_DATABASE_URL to run them");
        return None;
    };
    let prefix = auditlog_domain::ids::new_id("cluster").to_lowercase();
    Some((database, format!("s3://{bucket}/{prefix}")))
}

/// One `auditlog serve` process. Killed (SIGKILL) and reaped when dropped; when the test is
/// failing, the tail of its log is printed first.
struct Node {
    name: &'static str,
    child: Child,
    base: String,
    node_id: String,
    log: Arc<Mutex<VecDeque<String>>>,
    _data_dir: TempDir,
}

/// A node that has been spawned but has not yet printed its address.
struct Starting {
    name: &'static str,
    child: Option<Child>,
    ready: Receiver<(String, String)>,
    log: Arc<Mutex<VecDeque<String>>>,
    data_dir: Option<TempDir>,
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_node(name: &'static str, database_url: &str, blob_url: &str) -> Starting {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.path())
        .args(["--database-url", database_url, "--blob-url", blob_url])
        .args(["--download-secret", DOWNLOAD_SECRET])
        .args(["--job-lease-secs", &LEASE_SECS.to_string()])
        .args(["--export-page-rows", &PAGE_ROWS.to_string()])
        .env("AUDITLOG_API_KEYS", KEY)
        .env("AUDITLOG_LOG", "info")
        .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditlog serve");
    let stderr = child.stderr.take().expect("stderr is piped");
    let log = Arc::new(Mutex::new(VecDeque::new()));
    let (sender, ready) = std::sync::mpsc::channel();
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("auditlog listening") {
                let field = |name: &str| {
                    line.split(&format!("{name}="))
                        .nth(1)
                        .and_then(|rest| rest.split_whitespace().next())
                        .unwrap_or_default()
                        .to_string()
                };
                let _ = sender.send((field("address"), field("node")));
            }
            let mut lines = lines.lock().unwrap();
            if lines.len() == 300 {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    });
    Starting {
        name,
        child: Some(child),
        ready,
        log,
        data_dir: Some(data_dir),
    }
}

impl Starting {
    /// Waits (off the async runtime) until the node listens.
    async fn ready(mut self) -> Node {
        let ready = std::mem::replace(&mut self.ready, std::sync::mpsc::channel().1);
        let (address, node_id) =
            tokio::task::spawn_blocking(move || ready.recv_timeout(Duration::from_secs(60)))
                .await
                .unwrap()
                .unwrap_or_else(|_| {
                    panic!(
                        "node {} did not start; its log:\n{}",
                        self.name,
                        self.log
                            .lock()
                            .unwrap()
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                });
        assert!(
            node_id.starts_with("node_"),
            "node id in the log: {node_id:?}"
        );
        Node {
            name: self.name,
            child: self.child.take().unwrap(),
            base: format!("http://{address}"),
            node_id,
            log: self.log.clone(),
            _data_dir: self.data_dir.take().unwrap(),
        }
    }
}

impl Node {
    async fn start(name: &'static str, database_url: &str, blob_url: &str) -> Node {
        spawn_node(name, database_url, blob_url).ready().await
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL"); // std's kill() sends SIGKILL on Unix.
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap();
            let tail: Vec<&str> = log.iter().rev().take(40).map(String::as_str).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            note(&format!(
                "node {} ({}, {}) log tail:\n{}",
                self.name,
                self.node_id,
                self.base,
                tail.join("\n")
            ));
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn create_organization(http: &reqwest::Client, node: &Node, name: &str) -> String {
    let response = http
        .post(format!("{}/organizations", node.base))
        .bearer_auth(KEY)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "creating an organization");
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_string()
}

fn event_body(organization_id: &str, marker: u64) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "organization_id": organization_id,
        "event": {
            "action": "document.updated",
            "occurred_at": now,
            "actor": {"id": format!("user_{}", marker % 7), "type": "user"},
            "targets": [{"id": format!("doc_{marker}"), "type": "document"}],
            "context": {"location": "10.0.0.1"},
            "metadata": {"marker": marker}
        }
    })
}

/// Sends one event; returns the status.
async fn send_event(http: &reqwest::Client, node: &str, body: &Value, key: &str) -> u16 {
    http.post(format!("{node}/audit_logs/events"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .map(|response| response.status().as_u16())
        .unwrap_or(0)
}

async fn create_export(http: &reqwest::Client, node: &Node, organization_id: &str) -> String {
    let response = http
        .post(format!("{}/audit_logs/exports", node.base))
        .bearer_auth(KEY)
        .json(&json!({
            "organization_id": organization_id,
            "range_start": "2000-01-01T00:00:00Z",
            "range_end": "2100-01-01T00:00:00Z"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "creating an export");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["state"], "pending");
    created["id"].as_str().unwrap().to_string()
}

async fn get_export(http: &reqwest::Client, node: &Node, id: &str) -> Value {
    let response = http
        .get(format!("{}/audit_logs/exports/{id}", node.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET export on node {}", node.name);
    response.json().await.unwrap()
}

/// Polls `GET /audit_logs/exports/{id}` on `node` until the export is no longer pending.
async fn wait_until_ready(http: &reqwest::Client, node: &Node, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let export = get_export(http, node, id).await;
        match export["state"].as_str() {
            Some("ready") => return export,
            Some("pending") if started.elapsed() < limit => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            _ => panic!(
                "export {id} on node {} after {:?}: {export}",
                node.name,
                started.elapsed()
            ),
        }
    }
}

/// Downloads a ready export through its presigned link; returns the event ids, in file order.
async fn download_ids(export: &Value) -> Vec<String> {
    let url = export["url"].as_str().expect("a ready export has a url");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    assert!(
        url.starts_with(&endpoint) && url.contains("X-Amz-Signature="),
        "a presigned S3 link: {url}"
    );
    // No API key: the presigned link authenticates itself.
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "downloading {url}");
    let body = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&body[..]);
    let id_column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|column| column == "id")
        .expect("the CSV has an id column");
    reader
        .records()
        .map(|record| record.unwrap()[id_column].to_string())
        .collect()
}

/// Asserts the file holds exactly `expected`, each once.
fn assert_exactly_once(ids: &[String], expected: &HashSet<String>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in ids {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let duplicated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        duplicated.is_empty(),
        "{} rows appear more than once (e.g. {duplicated:?})",
        ids.len() - seen.len()
    );
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !seen.contains_key(id.as_str()))
        .take(5)
        .collect();
    let extra: Vec<_> = seen
        .keys()
        .filter(|id| !expected.contains(**id))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the file has {} rows for {} events; missing e.g. {missing:?}, unexpected e.g. {extra:?}",
        ids.len(),
        expected.len()
    );
    assert_eq!(ids.len(), expected.len());
}

#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    state: String,
    attempts: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
}

/// The export job's row (the database holds only this test's jobs).
async fn job_row(pool: &PgPool, export_id: &str) -> JobRow {
    sqlx::query_as(
        "SELECT state, attempts, lease_owner, lease_expires_at FROM jobs
         WHERE kind = 'export' AND payload::jsonb ->> 'export_id' = $1",
    )
    .bind(export_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn export_state_in_db(pool: &PgPool, export_id: &str) -> (String, Option<i64>) {
    sqlx::query_as("SELECT state, row_count FROM exports WHERE id = $1")
        .bind(export_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_share_events_and_exports() {
    let Some((database, blob_url)) = cluster_backends().await else {
        return;
    };
    let started = Instant::now();
    // Both nodes start at once on the empty database: migrations run under an advisory lock.
    let (a, b) = (
        spawn_node("A", &database.url, &blob_url),
        spawn_node("B", &database.url, &blob_url),
    );
    let (a, b) = tokio::join!(a.ready(), b.ready());
    assert_ne!(a.node_id, b.node_id);
    note(&format!("two nodes up in {:?}", started.elapsed()));
    let http = client();
    let organization_id = create_organization(&http, &a, "Cluster Co").await;

    // 16 writers, half on each node, each with its own markers and idempotency keys; every
    // fourth event is also retried at the same moment through the other node, with the same
    // key and body, and must be stored once.
    const WRITERS: u64 = 16;
    const PER_WRITER: u64 = 40;
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (http, org) = (http.clone(), organization_id.clone());
        let (mine, other) = if writer % 2 == 0 {
            (a.base.clone(), b.base.clone())
        } else {
            (b.base.clone(), a.base.clone())
        };
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..PER_WRITER {
                let marker = writer * 1_000 + n;
                let body = event_body(&org, marker);
                let key = format!("cluster-{marker}");
                let (first, retry) = if n % 4 == 0 {
                    tokio::join!(
                        send_event(&http, &mine, &body, &key),
                        send_event(&http, &other, &body, &key)
                    )
                } else {
                    (send_event(&http, &mine, &body, &key).await, 200)
                };
                assert_eq!(
                    (first, retry),
                    (200, 200),
                    "event {marker} (and its retry) answered"
                );
                acknowledged.push(marker);
            }
            acknowledged
        }));
    }
    // Meanwhile a poller tails the organization by sequence, alternating between the nodes and
    // remembering only the last sequence it saw: it must receive every event exactly once.
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let poller = {
        let (http, org, nodes, writing) = (
            http.clone(),
            organization_id.clone(),
            [a.base.clone(), b.base.clone()],
            writing.clone(),
        );
        tokio::spawn(async move {
            let mut last = -1i64;
            let mut seen: Vec<(i64, u64)> = Vec::new();
            for round in 0usize.. {
                let still_writing = writing.load(std::sync::atomic::Ordering::SeqCst);
                let page: Value = http
                    .get(format!(
                        "{}/audit_logs/events?organization_id={org}&after_sequence={last}&limit=9",
                        nodes[round % 2]
                    ))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let data = page["data"].as_array().unwrap();
                for event in data {
                    let sequence = event["sequence"].as_i64().unwrap();
                    seen.push((sequence, event["metadata"]["marker"].as_u64().unwrap()));
                }
                last = page["list_metadata"]["last_sequence"].as_i64().unwrap();
                if !still_writing && data.is_empty() {
                    return seen;
                }
            }
            unreachable!()
        })
    };
    let mut acknowledged = HashSet::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    writing.store(false, std::sync::atomic::Ordering::SeqCst);
    let tailed = poller.await.unwrap();
    let total = WRITERS * PER_WRITER;
    assert_eq!(
        tailed
            .iter()
            .map(|(sequence, _)| *sequence)
            .collect::<Vec<_>>(),
        (0..total as i64).collect::<Vec<_>>(),
        "the tail across nodes skipped or repeated a sequence number"
    );
    assert_eq!(
        tailed
            .iter()
            .map(|(_, marker)| *marker)
            .collect::<HashSet<_>>(),
        acknowledged,
        "the tail delivered exactly the acknowledged events"
    );
    assert_eq!(acknowledged.len() as u64, total);
    note(&format!(
        "{total} events written through both nodes by {:?}",
        started.elapsed()
    ));

    // Sequence numbers 0..N-1 across both nodes; every acknowledged event stored once.
    let store = PostgresStore::connect(&database.url).await.unwrap();
    let events = store
        .list_events_by_sequence("default", &organization_id)
        .await
        .unwrap();
    store.close().await;
    let sequences: Vec<i64> = events.iter().map(|event| event.sequence).collect();
    assert_eq!(
        sequences,
        (0..total as i64).collect::<Vec<_>>(),
        "sequence numbers across nodes have gaps or duplicates"
    );
    let markers: Vec<u64> = events
        .iter()
        .map(|event| {
            let payload: Value = serde_json::from_str(event.payload.as_deref().unwrap()).unwrap();
            payload["metadata"]["marker"].as_u64().unwrap()
        })
        .collect();
    let stored: HashSet<u64> = markers.iter().copied().collect();
    assert_eq!(stored.len(), markers.len(), "an event was stored twice");
    assert_eq!(stored, acknowledged, "stored events = acknowledged events");
    let event_ids: HashSet<String> = events.iter().map(|event| event.id.clone()).collect();

    // An export created on A is visible, and ready, on B; its file has every event once.
    let export_id = create_export(&http, &a, &organization_id).await;
    let on_b = get_export(&http, &b, &export_id).await;
    assert_eq!(on_b["id"], export_id.as_str(), "B sees A's export");
    let ready = wait_until_ready(&http, &b, &export_id, Duration::from_secs(60)).await;
    assert_exactly_once(&download_ids(&ready).await, &event_ids);
    // A answers the same (with its own fresh link).
    let on_a = get_export(&http, &a, &export_id).await;
    assert_eq!(on_a["state"], "ready");
    assert_exactly_once(&download_ids(&on_a).await, &event_ids);

    // The job ran once, on one of the two nodes.
    let pool = PgPool::connect(&database.url).await.unwrap();
    let job = job_row(&pool, &export_id).await;
    assert_eq!(job.state, "done", "{job:?}");
    assert_eq!(job.attempts, 1, "{job:?}");
    let owner = job.lease_owner.unwrap_or_default();
    assert!(owner == a.node_id || owner == b.node_id, "{owner}");
    pool.close().await;
    note(&format!(
        "shared events and exports: passed in {:?}",
        started.elapsed()
    ));
    drop((a, b));
}

/// Seeds `count` events into a new organization with `auditlog seed`; returns its id.
async fn seed(database_url: &str, count: u64, data_dir: &Path) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["seed", "--events", &count.to_string(), "--database-url"])
        .arg(database_url)
        .arg("--data-dir")
        .arg(data_dir)
        .env("AUDITLOG_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run auditlog seed");
    assert!(
        output.status.success(),
        "auditlog seed failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let organization_id = stdout.lines().last().unwrap_or_default().trim().to_string();
    assert!(
        organization_id.starts_with("org_"),
        "seed printed {stdout:?}"
    );
    organization_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_export_survives_the_sigkill_of_its_node() {
    let Some((database, blob_url)) = cluster_backends().await else {
        return;
    };
    let count: u64 = std::env::var("AUDITLOG_CLUSTER_TEST_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_FAILOVER_EVENTS);
    let started = Instant::now();
    let seed_dir = tempfile::tempdir().unwrap();
    let organization_id = seed(&database.url, count, seed_dir.path()).await;
    note(&format!("seeded {count} events in {:?}", started.elapsed()));
    let pool = PgPool::connect(&database.url).await.unwrap();
    let seeded: HashSet<String> =
        sqlx::query_scalar("SELECT id FROM events WHERE organization_id = $1")
            .bind(&organization_id)
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(seeded.len() as u64, count);

    // Only A runs when the export is created, so A claims its job.
    let mut a = Node::start("A", &database.url, &blob_url).await;
    let http = client();
    let export_id = create_export(&http, &a, &organization_id).await;
    let claim_wait = Instant::now();
    let claimed = loop {
        let job = job_row(&pool, &export_id).await;
        if job.state == "running" {
            break job;
        }
        assert!(
            claim_wait.elapsed() < Duration::from_secs(30),
            "A never claimed the export job: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let claimed_at = Instant::now();
    assert_eq!(claimed.lease_owner.as_deref(), Some(a.node_id.as_str()));
    assert_eq!(claimed.attempts, 1);

    // B joins while A holds the lease (and renews it), then A dies mid-export.
    let b = Node::start("B", &database.url, &blob_url).await;
    tokio::time::sleep(WORK_BEFORE_KILL.saturating_sub(claimed_at.elapsed())).await;
    let before_kill = job_row(&pool, &export_id).await;
    a.kill();
    let killed_at = Instant::now();
    // A can no longer renew: this is the lease B has to wait out.
    let after_kill = job_row(&pool, &export_id).await;
    note(&format!(
        "killed A {:?} after it claimed the job ({after_kill:?})",
        claimed_at.elapsed()
    ));
    let (state, _) = export_state_in_db(&pool, &export_id).await;
    assert_eq!(
        state, "pending",
        "the export finished before node A was killed: seed more events \
         (AUDITLOG_CLUSTER_TEST_EVENTS) so the kill lands mid-export"
    );
    for job in [&before_kill, &after_kill] {
        assert_eq!(
            (job.state.as_str(), job.lease_owner.as_deref()),
            ("running", Some(a.node_id.as_str())),
            "B must not take a job whose lease A keeps renewing: {job:?}"
        );
    }

    // B claims the job once A's lease has expired, not before.
    let lease_expires_at = after_kill.lease_expires_at.unwrap();
    let takeover = loop {
        let job = job_row(&pool, &export_id).await;
        if job.lease_owner.as_deref() != Some(a.node_id.as_str()) || job.state != "running" {
            break job;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "B never took over A's export job: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let taken_over_after = killed_at.elapsed();
    let seen_at = chrono::Utc::now().timestamp_micros();
    assert_eq!(
        (takeover.state.as_str(), takeover.lease_owner.as_deref()),
        ("running", Some(b.node_id.as_str())),
        "B took the job over: {takeover:?}"
    );
    assert_eq!(takeover.attempts, 2, "{takeover:?}");
    assert!(
        seen_at >= lease_expires_at,
        "B claimed the job {} ms before A's lease expired",
        (lease_expires_at - seen_at) / 1000
    );
    note(&format!(
        "B took the job over {taken_over_after:?} after the kill, <= {} ms after A's lease expired",
        (seen_at - lease_expires_at) / 1000
    ));

    // The export ends ready, fetched through B, with every seeded event exactly once.
    let ready = wait_until_ready(&http, &b, &export_id, Duration::from_secs(120)).await;
    note(&format!(
        "export ready {:?} after the kill",
        killed_at.elapsed()
    ));
    let ids = download_ids(&ready).await;
    assert_exactly_once(&ids, &seeded);
    let (state, row_count) = export_state_in_db(&pool, &export_id).await;
    assert_eq!((state.as_str(), row_count), ("ready", Some(count as i64)));
    let job = job_row(&pool, &export_id).await;
    assert_eq!(job.state, "done", "{job:?}");
    assert_eq!(job.attempts, 2, "{job:?}");
    assert_eq!(job.lease_owner.as_deref(), Some(b.node_id.as_str()));
    pool.close().await;
    note(&format!("failover: passed in {:?}", started.elapsed()));
    drop((a, b));
}
