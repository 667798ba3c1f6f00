//! The storage seam of `auditlog`: one trait per capability, and their implementations.
//!
//! Handlers and jobs hold an `Arc<dyn Store>` and never see the driver; driver errors are
//! classified once into [`StoreError`].

pub mod error;
mod portal_sql;
pub mod postgres;
mod rows;
pub mod sqlite;
mod stream_rows;
mod stream_sql;
pub mod types;

pub use error::{StoreError, StoreResult};
pub use types::*;

use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use std::sync::Arc;

/// API keys, stored as SHA-256 hashes.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a key; a key already stored keeps its record, except that a key now in the
    /// configuration is marked configured. Returns whether a new record was stored.
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool>;
    /// The unrevoked key record whose hash equals `key_hash`, if any.
    async fn find_api_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ApiKeyRecord>>;
    async fn count_api_keys(&self) -> StoreResult<i64>;
    /// Every key record, revoked ones too, oldest first.
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a key by its record id; `Ok(false)` when there is none or it was revoked already.
    async fn revoke_api_key(&self, id: &str, now: i64) -> StoreResult<bool>;
}

/// Organizations, scoped by environment; deleted ones are invisible here.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the external id is taken in the environment.
    async fn create_organization(&self, organization: &Organization) -> StoreResult<()>;
    async fn get_organization(
        &self,
        environment: &str,
        id: &str,
    ) -> StoreResult<Option<Organization>>;
    /// One keyset scan by id (ids sort in creation order).
    async fn list_organizations(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<Organization>>;
    /// Replaces the mutable fields; `Ok(false)` when the organization does not exist.
    async fn update_organization(&self, organization: &Organization) -> StoreResult<bool>;
    /// Hides the organization; its events remain. `Ok(false)` when it did not exist.
    async fn delete_organization(
        &self,
        environment: &str,
        id: &str,
        at_micros: i64,
    ) -> StoreResult<bool>;
}

/// Events: appended in durable batches, each with a per-organization sequence number.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends a batch in one transaction and returns one outcome per event, in order.
    /// Returns only after the transaction is durable (committed and synced); on an error
    /// nothing of the batch was stored. The batch is shared rather than lent: the SQLite store
    /// hands it to a blocking thread without a copy, and the caller keeps it to retry its
    /// events apart when the transaction fails.
    async fn append_batch(&self, batch: Arc<[PendingEvent]>) -> StoreResult<Vec<AppendOutcome>>;
    /// [`EventStore::append_batch`] for a batch the caller will not need again.
    async fn append_events(&self, batch: Vec<PendingEvent>) -> StoreResult<Vec<AppendOutcome>> {
        self.append_batch(batch.into()).await
    }
    /// Appends a bulk all-or-nothing, in one transaction, outside the group commit (the bulk
    /// is a big batch already): every event is stored, or none. Within each organization the
    /// events take consecutive sequence numbers in batch order. `idempotency` (one record for
    /// the whole request; the events carry none) is stored in the same transaction, or, when
    /// its key already holds a response in force, nothing is written and that response is
    /// returned to be replayed (decided before the organizations are looked at, as for single
    /// events). Returns only once the transaction is durable.
    async fn append_all(
        &self,
        batch: Arc<[PendingEvent]>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<BulkOutcome>;
    async fn get_event(&self, environment: &str, id: &str) -> StoreResult<Option<StoredEvent>>;
    /// All events of an organization in sequence order (tests and tooling; not for big orgs).
    async fn list_events_by_sequence(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<StoredEvent>>;
}

/// Replayable responses for `Idempotency-Key`.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The unexpired record for (environment, key), if any.
    async fn find_idempotency(
        &self,
        environment: &str,
        key: &str,
        now_micros: i64,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// Saves a record unless an unexpired one exists; returns the record in force.
    /// Claims (environment, key) for a request about to be processed, until `claimed_until`.
    /// A lapsed claim or an expired record is taken over.
    async fn claim_idempotency(
        &self,
        environment: &str,
        key: &str,
        request_hash: &[u8; 32],
        now_micros: i64,
        claimed_until: i64,
    ) -> StoreResult<ClaimOutcome>;
    /// Drops an in-flight claim without a response (the request failed with a 5xx or 429), so a
    /// retry runs again.
    async fn abandon_idempotency(&self, environment: &str, key: &str) -> StoreResult<()>;
    async fn save_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<IdempotencyRecord>;
    /// Deletes expired records; returns how many.
    async fn purge_idempotency(&self, now_micros: i64) -> StoreResult<u64>;
}

/// Action schemas: append-only versions per (environment, action).
#[async_trait]
pub trait SchemaStore: Send + Sync {
    /// Adds `schema` as version latest+1 (creating the action at version 1), or returns the
    /// latest version unchanged when its fingerprint is equal. `bool` = a version was created.
    async fn add_schema_version(&self, schema: &NewSchema) -> StoreResult<(SchemaRecord, bool)>;
    async fn get_action(&self, environment: &str, name: &str) -> StoreResult<Option<ActionRecord>>;
    async fn get_schema(
        &self,
        environment: &str,
        action: &str,
        version: i64,
    ) -> StoreResult<Option<SchemaRecord>>;
    /// One keyset scan over action ids (creation order).
    async fn list_actions(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<ActionRecord>>;
    /// One keyset scan over the schema ids of one action (version order).
    async fn list_schemas(
        &self,
        environment: &str,
        action: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<SchemaRecord>>;
}

/// Export records, and the event pages they read.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Stores a pending export and the job that will produce it, atomically.
    async fn create_export(&self, export: &ExportRecord, job: &NewJob) -> StoreResult<()>;
    async fn get_export(&self, environment: &str, id: &str) -> StoreResult<Option<ExportRecord>>;
    /// By id alone, for signed download links (the signature already proves who may fetch it).
    async fn find_export(&self, id: &str) -> StoreResult<Option<ExportRecord>>;
    /// Moves a pending export to ready or error; `Ok(false)` if it was not pending.
    async fn finish_export(&self, id: &str, outcome: &ExportOutcome, now: i64)
        -> StoreResult<bool>;
    /// Ready exports whose file expired by `now` (oldest first, at most `limit`).
    async fn exports_due_to_expire(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportRecord>>;
    /// Ready exports of an organization created before `created_before` (oldest first, at most
    /// `limit`): the candidates whose files may hold events retention has since removed.
    async fn ready_exports_created_before(
        &self,
        organization_id: &str,
        created_before: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExportRecord>>;
    /// Records how many rows a running export has written so far (its `row_count` while
    /// pending); nothing changes once it is no longer pending.
    async fn record_export_progress(&self, id: &str, rows: i64, now: i64) -> StoreResult<()>;
    /// Marks a ready export expired (its file is gone); `Ok(false)` if it was not ready.
    async fn mark_export_expired(&self, id: &str, now: i64) -> StoreResult<bool>;
    /// Most targets of any event the query selects (the number of target column groups).
    async fn export_max_targets(&self, query: &ExportQuery) -> StoreResult<i64>;
    /// Up to `limit` events after `after` in (occurred_at, id) order. Events whose payload
    /// retention removed are skipped.
    async fn export_page(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>>;
}

/// The durable job queue: claim under a lease, renew, finish, retry or hand back.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims one runnable job of `kinds` (queued and due, or running with an expired lease),
    /// counting an attempt; the lease lasts until `lease_until`.
    async fn claim_job(
        &self,
        kinds: &[&str],
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<JobRecord>>;
    /// Extends the lease; `Ok(false)` if the job is no longer ours (lease lost).
    async fn renew_job_lease(&self, id: &str, owner: &str, lease_until: i64) -> StoreResult<bool>;
    async fn complete_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool>;
    /// Back to the queue after a failure, runnable again at `run_after`.
    async fn retry_job(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        run_after: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Gives up for good.
    async fn fail_job(&self, id: &str, owner: &str, error: &str, now: i64) -> StoreResult<bool>;
    /// Hands a job back untouched (shutdown): runnable at once, this attempt not counted.
    async fn release_job(&self, id: &str, owner: &str, now: i64) -> StoreResult<bool>;
}

/// Retention settings, legal holds, and what the retention sweeper needs.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    async fn organization_policy(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Option<OrganizationPolicy>>;
    /// `Ok(false)` when the organization does not exist.
    async fn set_retention(
        &self,
        environment: &str,
        organization_id: &str,
        days: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Places (`entry.action == "placed"`) or releases a hold and records it, atomically.
    async fn change_legal_hold(&self, entry: &LegalHoldEntry) -> StoreResult<LegalHoldChange>;
    /// Every placing and releasing, oldest first.
    async fn legal_hold_history(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<LegalHoldEntry>>;
    async fn sweep_candidates(&self) -> StoreResult<Vec<SweepCandidate>>;
    /// Takes the sweep lease of one organization; `Ok(false)` if another node holds it.
    async fn claim_sweep(
        &self,
        organization_id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    async fn finish_sweep(&self, organization_id: &str, owner: &str, now: i64) -> StoreResult<()>;
    /// Removes the payload (and indexed personal data) of up to `limit` events that occurred
    /// before `cutoff`, keeping sequence numbers and leaf hashes. Does nothing while the
    /// organization is on legal hold (checked in the same transaction). Returns how many.
    async fn redact_events_before(
        &self,
        environment: &str,
        organization_id: &str,
        cutoff: i64,
        limit: i64,
        now: i64,
    ) -> StoreResult<u64>;
}

/// Reading events back: the read API's pages and its tail by sequence number.
#[async_trait]
pub trait EventReadStore: Send + Sync {
    /// Up to `limit` events selected by `query`, ordered by (occurred_at, id) ascending or
    /// descending, strictly beyond `after` in that order. Redacted events are skipped.
    async fn list_events(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        ascending: bool,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// Up to `limit` events with a sequence number above `after_sequence`, in sequence order.
    async fn tail_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// Up to `limit` of the organization's events whose payload retention removed, with a
    /// sequence number above `after_sequence`, in sequence order: what the tail skips, so that
    /// a reader can tell them from deleted events.
    async fn redacted_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>>;
    async fn find_organization_by_external_id(
        &self,
        environment: &str,
        external_id: &str,
    ) -> StoreResult<Option<Organization>>;
}

/// Tamper evidence: each organization's Merkle log over its events in sequence order (leaf
/// index = sequence number), its signed checkpoints, and the deployment's signing key.
///
/// Invariants every implementation keeps, across nodes: the built tree only grows, by
/// compare-and-set on its size, with the hashes of exactly the new leaves in the same
/// transaction (so two builders can never store diverging trees); a checkpoint is stored at most
/// once per (organization, size), and only for a size the stored tree has.
#[async_trait]
pub trait TlogStore: Send + Sync {
    /// Events stored for the organization (its last sequence + 1), deleted organizations
    /// included; `None` for an unknown organization.
    async fn log_leaf_count(&self, organization_id: &str) -> StoreResult<Option<i64>>;
    /// Organizations whose tree lags their events or whose newest checkpoint lags their tree,
    /// at most `limit`.
    async fn log_backlog(&self, limit: i64) -> StoreResult<Vec<LogBacklog>>;
    /// Leaves in the organization's built tree (0 before the first build).
    async fn log_tree_size(&self, organization_id: &str) -> StoreResult<i64>;
    /// (sequence, leaf hash) of the organization's events with `start <= sequence < end`, in
    /// sequence order, redacted events included.
    async fn log_leaves(
        &self,
        organization_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(i64, [u8; 32])>>;
    /// The sequence numbers in `start..end` with no event row of the organization: how many,
    /// and the smallest `limit` of them. A count over the (organization, sequence) index first;
    /// only when it falls short, a search for the gaps. Below the log's size every sequence has
    /// a row (retention redacts, never deletes), so any found means rows were deleted.
    async fn log_missing_sequences(
        &self,
        organization_id: &str,
        start: i64,
        end: i64,
        limit: i64,
    ) -> StoreResult<MissingSequences>;
    /// The organization's events at `sequences` (any order), in sequence order, redacted ones
    /// included; a sequence without a row is left out.
    async fn log_events_at(
        &self,
        organization_id: &str,
        sequences: &[i64],
    ) -> StoreResult<Vec<LoggedEvent>>;
    /// The stored hashes at `indexes` (tlog stored-hash indexes), in the same order; an error
    /// if one is missing.
    async fn log_hashes(
        &self,
        organization_id: &str,
        indexes: &[i64],
    ) -> StoreResult<Vec<[u8; 32]>>;
    /// Compare-and-set: if the tree holds exactly `old_size` leaves, stores `hashes` ((stored
    /// index, hash) of leaves `old_size..new_size`) and sets the size to `new_size`, in one
    /// transaction. `Ok(false)` (nothing written) when the size was not `old_size`.
    async fn append_log_hashes(
        &self,
        organization_id: &str,
        old_size: i64,
        new_size: i64,
        hashes: &[(i64, [u8; 32])],
    ) -> StoreResult<bool>;
    /// Takes (or renews) the builder lease of one organization; `Ok(false)` if another node
    /// holds it.
    async fn claim_log_builder(
        &self,
        organization_id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    async fn release_log_builder(&self, organization_id: &str, owner: &str) -> StoreResult<()>;
    /// Stores `checkpoint` unless one exists for its (organization, size), and returns the one
    /// in force. [`StoreError::Conflict`] when the stored tree is smaller than its size.
    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint)
        -> StoreResult<StoredCheckpoint>;
    async fn latest_checkpoint(
        &self,
        organization_id: &str,
    ) -> StoreResult<Option<StoredCheckpoint>>;
    async fn checkpoint_at(
        &self,
        organization_id: &str,
        tree_size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>>;
    /// The smallest stored checkpoint of at least `min_size` leaves.
    async fn checkpoint_covering(
        &self,
        organization_id: &str,
        min_size: i64,
    ) -> StoreResult<Option<StoredCheckpoint>>;
    /// Replaces the note of the stored checkpoint at (organization, size) with `note`: the same
    /// signed checkpoint with witnesses' cosignature lines added. Nothing if there is none.
    async fn record_cosigned_note(
        &self,
        organization_id: &str,
        tree_size: i64,
        note: &str,
    ) -> StoreResult<()>;
    /// The Ed25519 signing seed earlier releases kept in the database, while it is still
    /// there: the server moves it out (a key file or the blob store) and then erases it, so
    /// that a dump of the database cannot sign.
    async fn database_signing_seed(&self) -> StoreResult<Option<[u8; 32]>>;
    /// Erases the seed of [`TlogStore::database_signing_seed`] (nothing if there is none).
    async fn erase_database_signing_seed(&self) -> StoreResult<()>;
}

/// Log streams and their delivery state. A stream is delivered by one node at a time under a
/// lease; its position only moves by compare-and-set from where the lease holder read it, so a
/// node that lost its lease cannot move it.
#[async_trait]
pub trait StreamStore: Send + Sync {
    async fn create_stream(&self, stream: &LogStream) -> StoreResult<()>;
    async fn get_stream(
        &self,
        environment: &str,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<LogStream>>;
    /// The organization's streams, oldest first.
    async fn list_streams(
        &self,
        environment: &str,
        organization_id: &str,
    ) -> StoreResult<Vec<LogStream>>;
    /// Replaces what the API changes (settings, secrets, paused, state, next attempt, replay
    /// range, updated_at); `Ok(false)` when the stream does not exist.
    async fn update_stream(&self, stream: &LogStream) -> StoreResult<bool>;
    async fn delete_stream(
        &self,
        environment: &str,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<bool>;
    /// Streams not paused, with events past their cursor or a replay pending, whose next
    /// attempt is due and whose lease is free or expired (or held by `owner`), at most `limit`,
    /// longest-waiting first.
    async fn streams_due(&self, owner: &str, now: i64, limit: i64) -> StoreResult<Vec<LogStream>>;
    /// Takes or renews the lease; `Ok(false)` if another node holds it.
    async fn claim_stream(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    async fn release_stream(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// Records an acknowledged batch (the stream becomes `active`, failures are cleared);
    /// `Ok(false)`, with nothing written, unless `owner` holds the lease and the position is
    /// still `from`.
    async fn record_stream_progress(&self, progress: &StreamProgress) -> StoreResult<bool>;
    /// Records a failed attempt; `Ok(false)` unless `owner` holds the lease.
    async fn record_stream_failure(&self, failure: &StreamFailure) -> StoreResult<bool>;
    /// Streams and their backlog by destination type and state, deployment-wide.
    async fn stream_summary(&self) -> StoreResult<Vec<StreamSummary>>;
    /// The organization's first sequence received at or after `at` (where a stream that starts
    /// from a time begins); `None` when none was. Scans the organization's events once.
    async fn first_sequence_received_since(
        &self,
        organization_id: &str,
        at: i64,
    ) -> StoreResult<Option<i64>>;
}

/// Admin Portal links and sessions. A link is redeemed at most once, atomically; a session is
/// looked up by the hash of its cookie.
#[async_trait]
pub trait PortalStore: Send + Sync {
    async fn create_portal_link(&self, link: &PortalLink) -> StoreResult<()>;
    /// Marks the link used and returns it, if it exists, was never used and has not expired at
    /// `now`; `Ok(None)` otherwise (also for the loser of two concurrent redemptions).
    async fn redeem_portal_link(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<PortalLink>>;
    async fn create_portal_session(&self, session: &PortalSession) -> StoreResult<()>;
    async fn get_portal_session(&self, token_hash: &str) -> StoreResult<Option<PortalSession>>;
    /// Records activity (the idle timeout counts from it).
    async fn touch_portal_session(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_portal_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes every link and session of `external_user_id` in the organization; how many.
    async fn revoke_portal_access(
        &self,
        environment: &str,
        organization_id: &str,
        external_user_id: &str,
    ) -> StoreResult<u64>;
    /// Removes links expired at `now` and sessions expired at `now` or idle since
    /// `idle_cutoff`.
    async fn delete_expired_portal_rows(&self, now: i64, idle_cutoff: i64) -> StoreResult<()>;
}

/// How one of the store's connection pools is used right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// A fixed name: `readers`, `main`, …
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
}

/// The state of the store's connection pools, for metrics.
pub trait PoolStats: Send + Sync {
    fn pool_use(&self) -> Vec<PoolUse>;
}

/// Everything a node needs from its database.
pub trait Store:
    KeyStore
    + OrganizationStore
    + EventStore
    + IdempotencyStore
    + SchemaStore
    + ExportStore
    + JobStore
    + RetentionStore
    + TlogStore
    + EventReadStore
    + StreamStore
    + PortalStore
    + PoolStats
{
}
impl<T> Store for T where
    T: KeyStore
        + OrganizationStore
        + EventStore
        + IdempotencyStore
        + SchemaStore
        + ExportStore
        + JobStore
        + RetentionStore
        + TlogStore
        + EventReadStore
        + StreamStore
        + PortalStore
        + PoolStats
{
}
