//! Test harness: starts the real app (`auditlog_server::run`) on port 0 with its own data dir.
//!
//! Backends: SQLite and local files by default. With `AUDITLOG_TEST_BACKEND=postgres` every
//! server gets a fresh PostgreSQL database on `AUDITLOG_TEST_DATABASE_URL`. Export files stay
//! local unless a test asks for S3 with [`s3_blob_url`].
#![allow(dead_code)]

use auditlog_test_support as postgres_support;

use auditlog_server::config::Config;
use auditlog_store::postgres::PostgresStore;
use auditlog_store::sqlite::SqliteStore;
use auditlog_store::Store;
use postgres_support::TestDatabase;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base_url: String,
    /// A key of the default environment.
    pub key: String,
    pub data_dir: TempDir,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    /// The PostgreSQL database of this server (dropped with it), when testing PostgreSQL.
    database: Option<Arc<TestDatabase>>,
}

/// A fresh prefix in the S3 test bucket (`AUDITLOG_TEST_S3_BUCKET` with the usual `AWS_*`
/// variables, as `tests/s3/moto.sh` exports them), or `None` when no S3 server is configured.
pub fn s3_blob_url() -> Option<String> {
    let bucket = std::env::var("AUDITLOG_TEST_S3_BUCKET").ok();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (Some(bucket), Some(_)) = (bucket, endpoint) else {
        postgres_support::skip_unless_required("no S3 test server (AUDITLOG_TEST_S3_BUCKET)");
        return None;
    };
    Some(format!("s3://{bucket}/{}", ulid_like()))
}

/// True when the suite runs against PostgreSQL (and S3) instead of SQLite and local files.
pub fn postgres_backend() -> bool {
    std::env::var("AUDITLOG_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// For tests that inspect SQLite files or local blob files directly: true (and a note on
/// stderr) when they must be skipped because the suite runs against PostgreSQL.
pub fn skip_on_postgres(test: &str) -> bool {
    if postgres_backend() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "{test}: SQLite/local-files specific, skipped on PostgreSQL"
        );
        return true;
    }
    false
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts with the default test configuration, adjusted by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let key = format!("sk_test_{}", ulid_like());
        let mut config = Config::with_data_dir(data_dir.path().to_path_buf());
        config.api_keys = vec![key.as_str().into()];
        let mut database = None;
        if postgres_backend() {
            let created = TestDatabase::create()
                .await
                .expect("AUDITLOG_TEST_BACKEND=postgres needs AUDITLOG_TEST_DATABASE_URL");
            config.storage.database_url = Some(created.url.as_str().into());
            database = Some(Arc::new(created));
        }
        configure(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let (shutdown, stop) = oneshot::channel::<()>();
        let handle = tokio::spawn(auditlog_server::run(config, listener, async {
            let _ = stop.await;
        }));
        let http = reqwest::Client::new();
        let server = TestServer {
            base_url,
            key,
            data_dir,
            http,
            shutdown: Some(shutdown),
            handle: Some(handle),
            database,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.http.get(self.url("/health")).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become healthy");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The official WorkOS Rust SDK pointed at this server.
    pub fn workos(&self) -> workos::Client {
        self.workos_with_key(&self.key)
    }

    pub fn workos_with_key(&self, key: &str) -> workos::Client {
        workos::Client::builder()
            .api_key(key)
            .base_url(&self.base_url)
            .build()
    }

    /// Creates a key in another environment by writing to the same database, as
    /// `auditlog keys create --environment NAME` does.
    pub async fn key_for_environment(&self, environment: &str) -> String {
        let store = self.open_store().await;
        let key = auditlog_server::keys::generate_key();
        auditlog_server::keys::register_key(
            store.as_ref(),
            environment,
            &key,
            auditlog_store::KEY_SOURCE_CREATED,
            0,
        )
        .await
        .expect("register key");
        key
    }

    /// A second connection to the server's database, for checking what is stored.
    pub async fn open_store(&self) -> Arc<dyn Store> {
        match &self.database {
            Some(database) => Arc::new(
                PostgresStore::connect(&database.url)
                    .await
                    .expect("connect to PostgreSQL"),
            ),
            None => Arc::new(
                SqliteStore::open(&self.data_dir.path().join("auditlog.db"))
                    .await
                    .expect("open store"),
            ),
        }
    }

    pub fn database_path(&self) -> std::path::PathBuf {
        self.data_dir.path().join("auditlog.db")
    }

    /// The PostgreSQL URL of this server's database (`None` on SQLite: see `database_path`).
    pub fn database_url(&self) -> Option<String> {
        self.database.as_ref().map(|database| database.url.clone())
    }

    /// Stops the server gracefully and starts it again on the same data dir, database and key,
    /// as a restart of the process would; `configure` adjusts the new configuration.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Config)) -> TestServer {
        let database = self.database.take();
        let key = self.key.clone();
        let data_dir = self.stop().await;
        let (path, url) = (
            data_dir.path().to_path_buf(),
            database.as_ref().map(|d| d.url.clone()),
        );
        let restarted_key = key.clone();
        let mut server = TestServer::start_with(move |config| {
            config.storage.data_dir = path;
            config.api_keys = vec![restarted_key.into()];
            if url.is_some() {
                config.storage.database_url = url.map(Into::into);
            }
            configure(config);
        })
        .await;
        server.key = key;
        server.data_dir = data_dir;
        if database.is_some() {
            server.database = database;
        }
        server
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(&self.key)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.key)
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.put(self.url(path)).bearer_auth(&self.key)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.delete(self.url(path)).bearer_auth(&self.key)
    }

    /// Creates an organization through the API and returns its id.
    pub async fn create_org(&self, name: &str) -> String {
        let response = self
            .post("/organizations")
            .json(&json!({"name": name}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        body["id"].as_str().expect("id").to_string()
    }

    /// Graceful shutdown, as on SIGTERM; returns the data dir for a restart.
    /// Stops the server like [`TestServer::stop`] and hands over its PostgreSQL database too,
    /// which lives as long as the returned handle (for tests that start the app themselves).
    pub async fn stop_keeping_database(mut self) -> (TempDir, Option<Arc<TestDatabase>>) {
        let database = self.database.take();
        (self.stop().await, database)
    }

    pub async fn stop(mut self) -> TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("join").expect("server ran cleanly");
        }
        self.data_dir
    }
}

/// A valid event body for `organization_id`.
pub fn event_body(organization_id: &str) -> Value {
    json!({
        "organization_id": organization_id,
        "event": {
            "action": "user.signed_in",
            "occurred_at": "2026-02-02T16:35:39.317Z",
            "actor": {"id": "user_1", "type": "user", "name": "Jon Smith", "metadata": {"role": "admin"}},
            "targets": [{"id": "team_1", "type": "team", "name": "Team"}],
            "context": {"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"},
            "metadata": {"owner": "user_2"}
        }
    })
}

fn ulid_like() -> String {
    auditlog_domain::ids::new_id("t")
        .replace("t_", "")
        .to_lowercase()
}

pub fn path_exists(path: &Path) -> bool {
    path.exists()
}

// ---- Helpers shared by the API test files ----

impl TestServer {
    /// The stored events of `organization_id` in `environment`, in sequence order.
    pub async fn stored_events(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> Vec<auditlog_store::StoredEvent> {
        let store = self.open_store().await;
        let events = store
            .list_events_by_sequence(environment, organization_id)
            .await
            .expect("list events");
        events
    }

    /// How many events of `organization_id` the default environment holds.
    pub async fn count_events(&self, organization_id: &str) -> usize {
        self.stored_events("default", organization_id).await.len()
    }
}

/// Asserts a response is JSON and carries an `x-request-id`.
pub fn assert_json_with_request_id(response: &reqwest::Response) {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{} has content type {content_type:?}",
        response.status()
    );
    let id = response.headers().get("x-request-id");
    assert!(
        id.is_some_and(|id| !id.is_empty()),
        "no x-request-id on {}",
        response.status()
    );
}

/// The `(field, code)` pairs of a 422 body.
pub fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {body}"))
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().expect("string").to_string();
            (text("field"), text("code"))
        })
        .collect()
}

/// The SDK's create-event parameters for a valid event (actor metadata of all three kinds).
pub fn sdk_event(
    organization_id: &str,
    occurred_at: &str,
) -> workos::audit_logs::CreateEventParams {
    use workos::AuditLogEventActorMetadataOneOf as Meta;
    let metadata = [
        ("role", Meta::String("admin".into())),
        ("level", Meta::F64(3.0)),
        ("sso", Meta::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    workos::audit_logs::CreateEventParams::new(workos::AuditLogEventIngestion {
        organization_id: organization_id.to_string(),
        event: workos::AuditLogEvent {
            action: "user.signed_in".into(),
            occurred_at: occurred_at.into(),
            actor: workos::AuditLogEventActor {
                id: "user_1".into(),
                type_: "user".into(),
                name: Some("Jon Smith".into()),
                metadata: Some(metadata),
            },
            targets: vec![workos::AuditLogEventTarget {
                id: "team_1".into(),
                type_: "team".into(),
                name: None,
                metadata: None,
            }],
            context: workos::AuditLogEventContext {
                location: "123.123.123.123".into(),
                user_agent: Some("Chrome/104.0.0.0".into()),
            },
            metadata: None,
            version: None,
        },
    })
}
