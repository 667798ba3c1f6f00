//! Rows as the SQLite and PostgreSQL stores read them, and their conversion into the records
//! of [`crate::types`].
//!
//! Both schemas store a resource in the same columns with the same meaning (JSON as TEXT,
//! times as 64-bit microseconds, hashes as BLOB/BYTEA), so one row type per resource serves
//! both backends: `#[derive(sqlx::FromRow)]` is generic over the driver's row. Each row type
//! sits next to the column list its queries select, so a list and the fields it fills cannot
//! drift apart. Decoding goes through `try_get`, so a value of an unexpected type or a missing
//! column is a [`StoreError`] rather than a panic.
//!
//! The SQL itself stays in each backend's module: placeholders, locking and the statements'
//! shape differ there.

use crate::error::{StoreError, StoreResult};
use crate::types::{
    ActionRecord, ApiKeyRecord, ExportRecord, ExportState, IdempotencyRecord, JobRecord,
    LegalHoldEntry, LegalHoldState, LogBacklog, Organization, OrganizationPolicy, SchemaRecord,
    StoredCheckpoint, StoredEvent, SweepCandidate,
};

/// A stored SHA-256 hash. A value of any other length reads as all zeros, which matches no
/// real hash: a key with it is never found, a leaf with it fails verification.
pub(crate) fn hash32(bytes: &[u8]) -> [u8; 32] {
    let mut hash = [0u8; 32];
    if bytes.len() == 32 {
        hash.copy_from_slice(bytes);
    }
    hash
}

/// The missing sequence numbers named by `gaps` (each `[start, end)`, in order): `total` of
/// them in all, the first `limit` listed.
pub(crate) fn missing_from_gaps(
    total: i64,
    gaps: Vec<(i64, i64)>,
    limit: i64,
) -> crate::MissingSequences {
    let limit = usize::try_from(limit).unwrap_or(0);
    let first = gaps
        .into_iter()
        .flat_map(|(start, end)| start..end)
        .take(limit)
        .collect();
    crate::MissingSequences { total, first }
}

pub(crate) const API_KEY_COLUMNS: &str =
    "id, environment, key_hash, hint, source, created_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: String,
    environment: String,
    key_hash: Vec<u8>,
    hint: String,
    source: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<ApiKeyRow> for ApiKeyRecord {
    fn from(row: ApiKeyRow) -> Self {
        ApiKeyRecord {
            id: row.id,
            environment: row.environment,
            key_hash: hash32(&row.key_hash),
            hint: row.hint,
            source: row.source,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// Also the column order of an organization INSERT.
pub(crate) const ORGANIZATION_COLUMNS: &str =
    "id, environment, name, external_id, metadata, domains, stripe_customer_id,
    allow_profiles_outside_organization, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OrganizationRow {
    id: String,
    environment: String,
    name: String,
    external_id: Option<String>,
    /// JSON object text, kept byte for byte (the API echoes its key order).
    metadata: String,
    /// JSON array text.
    domains: String,
    stripe_customer_id: Option<String>,
    allow_profiles_outside_organization: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = StoreError;

    fn try_from(row: OrganizationRow) -> StoreResult<Self> {
        Ok(Organization {
            id: row.id,
            environment: row.environment,
            name: row.name,
            external_id: row.external_id,
            metadata: serde_json::from_str(&row.metadata)?,
            domains: serde_json::from_str(&row.domains)?,
            stripe_customer_id: row.stripe_customer_id,
            allow_profiles_outside_organization: row.allow_profiles_outside_organization,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) const EVENT_COLUMNS: &str =
    "id, environment, organization_id, sequence, occurred_at, received_at, action,
    actor_id, actor_name, payload, leaf_hash";

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: String,
    environment: String,
    organization_id: String,
    sequence: i64,
    occurred_at: i64,
    received_at: i64,
    action: String,
    actor_id: String,
    actor_name: Option<String>,
    /// `NULL` once retention redacted the event.
    payload: Option<String>,
    leaf_hash: Vec<u8>,
}

impl From<EventRow> for StoredEvent {
    fn from(row: EventRow) -> Self {
        StoredEvent {
            id: row.id,
            environment: row.environment,
            organization_id: row.organization_id,
            sequence: row.sequence,
            occurred_at: row.occurred_at,
            received_at: row.received_at,
            action: row.action,
            actor_id: row.actor_id,
            actor_name: row.actor_name,
            payload: row.payload,
            leaf_hash: hash32(&row.leaf_hash),
        }
    }
}

/// The columns of an idempotency record (a claim's `claimed_until` is read beside them where
/// it matters).
pub(crate) const IDEMPOTENCY_COLUMNS: &str =
    "environment, key, request_hash, status, body, created_at, expires_at";

/// `S` is the type of the `status` column: INTEGER (64-bit) in SQLite, INTEGER (32-bit) in
/// PostgreSQL.
#[derive(sqlx::FromRow)]
pub(crate) struct IdempotencyRow<S> {
    environment: String,
    key: String,
    request_hash: Vec<u8>,
    status: S,
    body: Vec<u8>,
    created_at: i64,
    expires_at: i64,
}

impl<S: Into<i64>> From<IdempotencyRow<S>> for IdempotencyRecord {
    fn from(row: IdempotencyRow<S>) -> Self {
        IdempotencyRecord {
            environment: row.environment,
            key: row.key,
            request_hash: hash32(&row.request_hash),
            status: row.status.into() as u16,
            body: row.body,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// Also the column order of an export INSERT.
pub(crate) const EXPORT_COLUMNS: &str =
    "id, environment, organization_id, state, filters, blob_key, row_count, byte_count, error,
    created_at, updated_at, file_expires_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ExportRecordRow {
    id: String,
    environment: String,
    organization_id: String,
    state: String,
    /// `ExportFilters` as JSON text.
    filters: String,
    blob_key: Option<String>,
    row_count: Option<i64>,
    byte_count: Option<i64>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    file_expires_at: Option<i64>,
}

impl TryFrom<ExportRecordRow> for ExportRecord {
    type Error = StoreError;

    fn try_from(row: ExportRecordRow) -> StoreResult<Self> {
        Ok(ExportRecord {
            id: row.id,
            environment: row.environment,
            organization_id: row.organization_id,
            state: ExportState::parse(&row.state)
                .ok_or(StoreError::Conflict("unknown export state in the database"))?,
            filters: serde_json::from_str(&row.filters)?,
            blob_key: row.blob_key,
            row_count: row.row_count,
            byte_count: row.byte_count,
            error: row.error,
            created_at: row.created_at,
            updated_at: row.updated_at,
            file_expires_at: row.file_expires_at,
        })
    }
}

/// What a job claim's `UPDATE … RETURNING` returns.
pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, attempts, lease_owner";

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: String,
    kind: String,
    /// JSON text.
    payload: String,
    attempts: i64,
    lease_owner: String,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;

    fn try_from(row: JobRow) -> StoreResult<Self> {
        Ok(JobRecord {
            id: row.id,
            kind: row.kind,
            payload: serde_json::from_str(&row.payload)?,
            attempts: row.attempts,
            lease_owner: row.lease_owner,
        })
    }
}

/// Columns of `organizations` read as an [`OrganizationPolicy`].
pub(crate) const POLICY_COLUMNS: &str =
    "retention_period_in_days, legal_hold_reason, legal_hold_since";

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    retention_period_in_days: Option<i64>,
    legal_hold_reason: Option<String>,
    legal_hold_since: Option<i64>,
}

impl From<PolicyRow> for OrganizationPolicy {
    fn from(row: PolicyRow) -> Self {
        OrganizationPolicy {
            retention_period_in_days: row.retention_period_in_days,
            legal_hold: row
                .legal_hold_reason
                .zip(row.legal_hold_since)
                .map(|(reason, since)| LegalHoldState { reason, since }),
        }
    }
}

/// Also the column order of a `legal_hold_history` INSERT.
pub(crate) const LEGAL_HOLD_COLUMNS: &str =
    "id, environment, organization_id, action, reason, actor, at";

#[derive(sqlx::FromRow)]
pub(crate) struct LegalHoldRow {
    id: String,
    environment: String,
    organization_id: String,
    action: String,
    reason: String,
    actor: String,
    at: i64,
}

impl From<LegalHoldRow> for LegalHoldEntry {
    fn from(row: LegalHoldRow) -> Self {
        LegalHoldEntry {
            id: row.id,
            environment: row.environment,
            organization_id: row.organization_id,
            action: row.action,
            reason: row.reason,
            actor: row.actor,
            at: row.at,
        }
    }
}

/// Columns of `organizations` read as a [`SweepCandidate`].
pub(crate) const SWEEP_CANDIDATE_COLUMNS: &str =
    "environment, id, retention_period_in_days, legal_hold_since IS NOT NULL AS on_hold";

#[derive(sqlx::FromRow)]
pub(crate) struct SweepCandidateRow {
    environment: String,
    id: String,
    retention_period_in_days: Option<i64>,
    on_hold: bool,
}

impl From<SweepCandidateRow> for SweepCandidate {
    fn from(row: SweepCandidateRow) -> Self {
        SweepCandidate {
            environment: row.environment,
            organization_id: row.id,
            retention_period_in_days: row.retention_period_in_days,
            on_hold: row.on_hold,
        }
    }
}

/// Columns of `audit_log_schemas s`.
pub(crate) const SCHEMA_COLUMNS: &str =
    "s.id, s.environment, s.action, s.version, s.document, s.created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SchemaRow {
    id: String,
    environment: String,
    action: String,
    version: i64,
    /// JSON text.
    document: String,
    created_at: i64,
}

impl TryFrom<SchemaRow> for SchemaRecord {
    type Error = StoreError;

    fn try_from(row: SchemaRow) -> StoreResult<Self> {
        Ok(SchemaRecord {
            id: row.id,
            environment: row.environment,
            action: row.action,
            version: row.version,
            document: serde_json::from_str(&row.document)?,
            created_at: row.created_at,
        })
    }
}

/// Columns of `audit_log_actions a`, selected beside [`SCHEMA_COLUMNS`] of its latest version
/// (renamed where the two tables share a column name).
pub(crate) const ACTION_COLUMNS: &str =
    "a.id AS action_id, a.name, a.created_at AS action_created_at,
    a.updated_at AS action_updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ActionRow {
    action_id: String,
    name: String,
    action_created_at: i64,
    action_updated_at: i64,
    #[sqlx(flatten)]
    latest: SchemaRow,
}

impl TryFrom<ActionRow> for ActionRecord {
    type Error = StoreError;

    fn try_from(row: ActionRow) -> StoreResult<Self> {
        Ok(ActionRecord {
            id: row.action_id,
            // An action and its schemas share the environment.
            environment: row.latest.environment.clone(),
            name: row.name,
            created_at: row.action_created_at,
            updated_at: row.action_updated_at,
            latest: row.latest.try_into()?,
        })
    }
}

/// Columns of `tlog_checkpoints`.
pub(crate) const CHECKPOINT_COLUMNS: &str = "organization_id, tree_size, note, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct CheckpointRow {
    organization_id: String,
    tree_size: i64,
    note: String,
    created_at: i64,
}

impl From<CheckpointRow> for StoredCheckpoint {
    fn from(row: CheckpointRow) -> Self {
        StoredCheckpoint {
            organization_id: row.organization_id,
            tree_size: row.tree_size,
            note: row.note,
            created_at: row.created_at,
        }
    }
}

/// The columns of a log-backlog query (each backend computes them its own way).
#[derive(sqlx::FromRow)]
pub(crate) struct LogBacklogRow {
    environment: String,
    id: String,
    leaf_count: i64,
    tree_size: i64,
    checkpoint_size: Option<i64>,
}

impl From<LogBacklogRow> for LogBacklog {
    fn from(row: LogBacklogRow) -> Self {
        LogBacklog {
            environment: row.environment,
            organization_id: row.id,
            leaf_count: row.leaf_count,
            tree_size: row.tree_size,
            checkpoint_size: row.checkpoint_size,
        }
    }
}

/// Converts each row, stopping at the first that does not convert.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    R: TryInto<T, Error = StoreError>,
{
    rows.into_iter().map(TryInto::try_into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, SqliteConnection};

    #[tokio::test]
    async fn a_row_that_does_not_decode_is_an_error_not_a_panic() {
        let mut connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        // A column of the wrong type, then a missing column.
        for sql in [
            "SELECT 'org' AS organization_id, 'ten' AS tree_size, 'note' AS note, 0 AS created_at",
            "SELECT 'org' AS organization_id, 10 AS tree_size, 0 AS created_at",
        ] {
            let decoded = sqlx::query_as::<_, CheckpointRow>(sql)
                .fetch_one(&mut connection)
                .await;
            let error = StoreError::from(decoded.err().expect(sql));
            assert!(matches!(error, StoreError::Other(_)), "{sql}: {error:?}");
        }
    }

    #[tokio::test]
    async fn a_row_that_decodes_but_does_not_convert_is_an_error() {
        let mut connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let row = sqlx::query_as::<_, JobRow>(
            "SELECT 'j' AS id, 'export' AS kind, '{not json' AS payload, 1 AS attempts,
                 'node' AS lease_owner",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        assert!(matches!(
            JobRecord::try_from(row),
            Err(StoreError::Other(_))
        ));
    }

    #[test]
    fn a_hash_of_the_wrong_length_reads_as_zeros() {
        assert_eq!(hash32(&[7; 32]), [7; 32]);
        assert_eq!(hash32(&[7; 31]), [0; 32]);
    }
}
