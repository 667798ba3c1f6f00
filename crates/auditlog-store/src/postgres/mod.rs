//! The PostgreSQL store, for several nodes sharing one database.
//!
//! Every node holds a pool of connections; there is no single writer, so each operation that
//! must not interleave with another node's takes a row lock for the rest of its transaction:
//! - ingest locks the counter rows of the batch's organizations (in id order, so two nodes'
//!   batches cannot deadlock), then the batch's idempotency keys (in key order);
//! - idempotency claims lock their key row (inserting it first when it does not exist yet);
//! - job claims skip rows other nodes have locked (`FOR UPDATE SKIP LOCKED`);
//! - redaction holds a KEY SHARE lock on its organization's row, which conflicts with the
//!   FOR UPDATE a legal-hold change takes but not with ingest's NO KEY UPDATE: a hold and a
//!   redaction batch serialize, a sweep does not stall ingest.
//!
//! Lock order, to rule out deadlocks: organization rows (by id) before idempotency-key rows (by
//! environment, key); nothing takes them the other way round.
//!
//! Durability: a commit returns once the WAL is flushed (`synchronous_commit` at least `local`);
//! a connection whose server or role turned it `off` has it switched back on when it opens.
//! Isolation: READ COMMITTED (forced per connection if the server default differs), which is
//! what the row-lock protocols above rely on.

mod event_batch;
mod event_bulk;
mod event_columns;
mod event_reads;
mod events;
mod exports;
mod idempotency;
mod jobs;
mod keys;
mod organizations;
mod portal;
mod retention;
mod schemas;
mod streams;
mod tlog;

use crate::error::StoreResult;
use auditlog_domain::pagination::PagePlan;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Connections per node: the ingest writer, export pages, job claims and API reads share them.
const POOL_CONNECTIONS: u32 = 16;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and applies pending migrations.
    ///
    /// Migrations run under sqlx's PostgreSQL advisory lock (taken and released by the
    /// migrator), so several nodes starting at once apply them exactly once: the others wait
    /// for the lock, then find nothing left to do.
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        let mut options = PgConnectOptions::from_str(url)?;
        if options.get_application_name().is_none() {
            // Names the nodes' sessions in pg_stat_activity unless the URL already does.
            options = options.application_name("auditlog");
        }
        let options = options.log_statements(tracing::log::LevelFilter::Trace);

        // A dedicated connection rather than a pooled one: the advisory lock is held by the
        // session, and if a migration fails half-way the migrator returns before unlocking. Closing
        // (or dropping) this connection ends the session and frees the lock for the other nodes,
        // where a pooled connection would carry it on into later use. `run_direct` rather than
        // `run`: `run` goes through `Acquire`, whose future is not `Send` for every lifetime,
        // which would stop callers from spawning the server.
        let mut migration_connection = options.connect().await?;
        let migrated = sqlx::migrate!("./migrations/postgres")
            .run_direct(None, &mut migration_connection, false)
            .await;
        let _ = migration_connection.close().await;
        migrated?;

        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|connection, _| {
                Box::pin(async move {
                    let (durability, isolation): (String, String) = sqlx::query_as(
                        "SELECT current_setting('synchronous_commit'),
                             current_setting('default_transaction_isolation')",
                    )
                    .fetch_one(&mut *connection)
                    .await?;
                    // Acknowledged writes must be on disk. `off` (set for the server, database or
                    // role) would let COMMIT return before the WAL flush; `local`, `on`,
                    // `remote_write` and `remote_apply` all flush locally first and stay as set.
                    if durability == "off" {
                        connection.execute("SET synchronous_commit = on").await?;
                    }
                    // The locking here is written for READ COMMITTED: a statement that waited
                    // for a row lock goes on with the row's latest version. Under a stricter
                    // default it would fail with serialization errors instead.
                    if isolation != "read committed" {
                        connection
                            .execute("SET default_transaction_isolation = 'read committed'")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(PostgresStore { pool })
    }

    /// Closes every connection of the pool (waiting for the ones in use to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQL fragments for one keyset scan: `("AND col > $n" or "", "ASC" | "DESC")`, where `$n` is
/// `param` (the placeholder the caller binds the cursor to, when there is one).
pub(super) fn keyset(plan: &PagePlan, column: &str, param: usize) -> (String, &'static str) {
    let (comparison, direction) = if plan.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let bound = match &plan.start_after {
        Some(_) => format!("AND {column} {comparison} ${param}"),
        None => String::new(),
    };
    (bound, direction)
}

impl crate::PoolStats for PostgresStore {
    fn pool_use(&self) -> Vec<crate::PoolUse> {
        vec![crate::PoolUse {
            pool: "main",
            open: self.pool.size(),
            idle: self.pool.num_idle() as u32,
        }]
    }
}
