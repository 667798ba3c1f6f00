//! What the tests of the auditlog crates share. PostgreSQL: every test gets a database of its
//! own, created from the server named by `AUDITLOG_TEST_DATABASE_URL` and dropped when the test
//! ends (also when it panics), so tests are independent and run in parallel. And the rule for
//! tests whose backend (PostgreSQL, the S3 test server) is absent: they say so and skip, unless
//! `AUDITLOG_TEST_REQUIRE_BACKENDS=1` makes them fail.

use auditlog_store::postgres::PostgresStore;
use sqlx::{Connection, Executor, PgConnection};
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

pub const URL_VARIABLE: &str = "AUDITLOG_TEST_DATABASE_URL";
/// Set to 1 where PostgreSQL and the S3 test server must be there (the test command, CI): a
/// test that would skip for want of one fails instead, so a misconfigured run cannot pass
/// without them.
pub const REQUIRE_VARIABLE: &str = "AUDITLOG_TEST_REQUIRE_BACKENDS";

/// True when skipping for a missing PostgreSQL or S3 server is not allowed.
pub fn backends_required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value == "1")
}

/// Panics with `why` when backends are required; otherwise the caller skips.
pub fn skip_unless_required(why: &str) {
    assert!(!backends_required(), "{why}, but {REQUIRE_VARIABLE}=1");
}

/// The server URL, or `None` (saying so once per test binary) when PostgreSQL tests are off.
pub fn server_url() -> Option<String> {
    static NOTICE: Once = Once::new();
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip_unless_required(&format!("{URL_VARIABLE} is not set"));
            // Written to stderr directly, not with `eprintln!`, which the test harness captures.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "PostgreSQL store tests skipped: set {URL_VARIABLE} \
                     (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them"
                );
            });
            None
        }
    }
}

/// A uniquely named database on the test server; dropped (forcibly) with this value.
pub struct TestDatabase {
    server_url: String,
    name: String,
    /// The database's own URL.
    pub url: String,
}

impl TestDatabase {
    /// Creates a fresh, empty database, or `None` when PostgreSQL tests are off.
    pub async fn create() -> Option<TestDatabase> {
        let server_url = server_url()?;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "auditlog_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VARIABLE}={server_url}: {e}"));
        // template0 accepts no connections, so concurrent CREATE DATABASEs never trip over a
        // session in the template.
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE \"{name}\" TEMPLATE template0"
            )))
            .await
            .unwrap();
        let _ = admin.close().await;
        let url = with_database(&server_url, &name);
        Some(TestDatabase {
            server_url,
            name,
            url,
        })
    }

    /// Runs `sql` on the server (not in this database), e.g. `ALTER DATABASE {name} SET …`.
    pub async fn on_server(&self, sql: String) {
        let mut admin = PgConnection::connect(&self.server_url).await.unwrap();
        admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
        let _ = admin.close().await;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store on this database (migrations applied by `connect`).
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking on async work is not allowed:
        // a short-lived thread with its own runtime does the DROP.
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&server_url).await?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// `url` with its database name replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = without_query.find("://").map_or(0, |i| i + 3);
    let server = match without_query[authority_start..].find('/') {
        Some(slash) => &without_query[..authority_start + slash],
        None => without_query,
    };
    format!("{server}/{database}{query}")
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "t3"),
        "postgres://h:5432/t3"
    );
}
