//! The server's integration tests, in one binary: each test binary links the whole server, so
//! one binary instead of twenty keeps builds and the target directory small. Backends: SQLite
//! and local files by default, PostgreSQL + S3 with `AUDITLOG_TEST_BACKEND=postgres` (see
//! `common`).

mod common;
mod process;
mod tlog_support;

mod auth_api;
mod backup;
mod client_cli;
mod cluster;
mod crash_durability;
mod events_api;
mod events_bulk_api;
mod events_read_api;
mod exports_api;
mod group_commit;
mod health;
mod idempotency_api;
mod ingest_faults;
mod logs;
mod metrics;
mod monitor;
mod nul_api;
mod openapi_api;
mod organizations_api;
mod portal;
mod retention_api;
mod s3_exports_api;
mod schemas_api;
mod seed;
mod streams;
mod tlog_api;
mod tlog_attacks;
mod tlog_cluster;
mod tlog_completeness;
mod tlog_redactions_api;
mod tlog_tiles_api;
mod tlog_witnessed;
mod verify_cli;
mod verify_completeness_cli;
mod witness;
