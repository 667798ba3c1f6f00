//! The store's integration tests, in one binary: the contract every backend keeps (SQLite
//! always; PostgreSQL with `AUDITLOG_TEST_DATABASE_URL`), and PostgreSQL under concurrency.

mod bulk_contract;
mod contract;
mod portal_contract;
mod postgres_concurrency;
mod retention_contract;
mod stream_contract;
mod tlog_contract;
