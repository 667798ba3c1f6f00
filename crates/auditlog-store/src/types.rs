//! Plain records exchanged with the store.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub environment: String,
    pub key_hash: [u8; 32],
    /// The key's last four characters, to recognise it in listings (empty for keys stored by
    /// releases that kept a prefix instead).
    pub hint: String,
    /// Where the key came from: [`KEY_SOURCE_CONFIGURED`] or [`KEY_SOURCE_CREATED`].
    pub source: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A key bootstrapped from `AUDITLOG_API_KEYS`: revoked when it leaves the configuration.
pub const KEY_SOURCE_CONFIGURED: &str = "configured";
/// A key minted by `auditlog keys create` (or printed at first start): revoked only explicitly.
pub const KEY_SOURCE_CREATED: &str = "created";

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: String,
    pub environment: String,
    pub name: String,
    pub external_id: Option<String>,
    pub metadata: Map<String, Value>,
    /// WorkOS organization-domain objects, stored as given to the API.
    pub domains: Vec<Value>,
    pub stripe_customer_id: Option<String>,
    pub allow_profiles_outside_organization: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An event ready to be written: validated, canonicalized and hashed by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    pub occurred_at: i64,
    pub received_at: i64,
    pub action: String,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub target_types: Vec<String>,
    pub target_count: i64,
    /// Canonical JSON bytes as UTF-8 text.
    pub payload: String,
    pub leaf_hash: [u8; 32],
    /// Written in the same transaction as the event, so a crash never keeps one without the other.
    pub idempotency: Option<IdempotencyRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// Durably stored with this per-organization sequence number.
    Stored { sequence: i64 },
    /// The idempotency key was already claimed: nothing was written; replay this record.
    Replay(IdempotencyRecord),
    /// The organization does not exist (or was deleted) in the event's environment.
    OrganizationNotFound,
}

/// What [`crate::EventStore::append_all`] did with a bulk: all of it or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkOutcome {
    /// Every event is durably stored; `sequences[i]` is the number of the batch's event `i`
    /// (consecutive within each organization, in batch order).
    Stored { sequences: Vec<i64> },
    /// The idempotency key already holds a response in force (or another request's live
    /// claim): nothing was written; replay this record.
    Replay(IdempotencyRecord),
    /// This organization (the first missing one in batch order) does not exist or was deleted
    /// in the event's environment: nothing was written.
    OrganizationNotFound(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    pub sequence: i64,
    pub occurred_at: i64,
    pub received_at: i64,
    pub action: String,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub payload: Option<String>,
    pub leaf_hash: [u8; 32],
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub environment: String,
    pub key: String,
    pub request_hash: [u8; 32],
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// One immutable version of an action's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRecord {
    pub id: String,
    pub environment: String,
    pub action: String,
    pub version: i64,
    pub document: Value,
    pub created_at: i64,
}

/// An action with its latest schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub id: String,
    pub environment: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub latest: SchemaRecord,
}

/// A schema to add as the next version of an action, unless it equals the latest.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchema {
    pub environment: String,
    pub action: String,
    pub document: Value,
    pub fingerprint: Vec<u8>,
    /// Ids to use if an action row and/or a version row are created.
    pub action_id: String,
    pub schema_id: String,
    pub now: i64,
}

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Pending,
    Ready,
    Error,
    Expired,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Pending => "pending",
            ExportState::Ready => "ready",
            ExportState::Error => "error",
            ExportState::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<ExportState> {
        Some(match text {
            "pending" => ExportState::Pending,
            "ready" => ExportState::Ready,
            "error" => ExportState::Error,
            "expired" => ExportState::Expired,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportRecord {
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    pub state: ExportState,
    pub filters: auditlog_domain::export::ExportFilters,
    pub blob_key: Option<String>,
    pub row_count: Option<i64>,
    pub byte_count: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub file_expires_at: Option<i64>,
}

/// How a pending export ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportOutcome {
    Ready {
        blob_key: String,
        row_count: i64,
        byte_count: i64,
        file_expires_at: i64,
    },
    Failed {
        reason: String,
    },
}

/// The events one export reads: an organization, a range and filters.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportQuery {
    pub environment: String,
    pub organization_id: String,
    pub filters: auditlog_domain::export::ExportFilters,
}

/// One exported event: its sort key, canonical payload, and its leaf in the organization's log
/// (for the export's verifiable bundle).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub occurred_at: i64,
    pub id: String,
    pub payload: String,
    pub sequence: i64,
    pub leaf_hash: [u8; 32],
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    pub run_after: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    /// Including the current one.
    pub attempts: i64,
    pub lease_owner: String,
}

/// Retention and legal-hold settings of a live organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationPolicy {
    /// `None`: the server's default applies.
    pub retention_period_in_days: Option<i64>,
    pub legal_hold: Option<LegalHoldState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegalHoldState {
    pub reason: String,
    pub since: i64,
}

/// One placing or releasing of a legal hold.
#[derive(Debug, Clone, PartialEq)]
pub struct LegalHoldEntry {
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    /// `placed` or `released`.
    pub action: String,
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

/// What placing or releasing a hold did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalHoldChange {
    Changed,
    /// Already on hold (placing) or not on hold (releasing): nothing recorded.
    Unchanged,
    OrganizationNotFound,
}

/// An organization the retention sweeper looks at (deleted ones included: their events
/// are kept until retention removes them).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepCandidate {
    pub environment: String,
    pub organization_id: String,
    pub retention_period_in_days: Option<i64>,
    pub on_hold: bool,
}

/// Result of claiming an `Idempotency-Key` before processing a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// The key is ours: process the request, then save or abandon the claim.
    Claimed,
    /// A completed response exists: replay it (or 409 if the request differs).
    Completed(IdempotencyRecord),
    /// Another request with this key is being processed (on any node) right now.
    InFlight { request_hash: [u8; 32] },
}

/// One signed tree head of an organization's log, as stored: a C2SP checkpoint note.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub organization_id: String,
    pub tree_size: i64,
    /// The signed note text (tlog-checkpoint body and signature lines).
    pub note: String,
    pub created_at: i64,
}

/// An organization whose log needs the builder: its tree is shorter than its events, or its
/// newest checkpoint is older than its tree.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBacklog {
    pub environment: String,
    pub organization_id: String,
    /// Events stored so far (last sequence + 1): the size the tree must reach.
    pub leaf_count: i64,
    /// Leaves in the built tree.
    pub tree_size: i64,
    /// Size of the newest checkpoint, if any.
    pub checkpoint_size: Option<i64>,
}

/// Sequence numbers of an organization that have no event row, within a range where each
/// must have one (retention redacts events but never deletes their rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingSequences {
    /// How many sequence numbers of the range have no row.
    pub total: i64,
    /// The smallest of them, in order, at most the limit asked for.
    pub first: Vec<i64>,
}

/// One event of an organization's log as a bundle's completeness section lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub sequence: i64,
    pub leaf_hash: [u8; 32],
    /// The canonical JSON the leaf hash covers; `None` once retention has removed it.
    pub payload: Option<String>,
    /// When retention removed the payload.
    pub redacted_at: Option<i64>,
}

/// A log stream: where an organization's events are delivered, and how far delivery got.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    /// `GenericHttps`, `Datadog`, `Splunk`, `S3`, `Syslog`.
    pub destination_type: String,
    /// The destination's settings (a JSON object).
    pub settings: Value,
    /// The destination's secrets (a JSON object); never returned by the API.
    pub secrets: Value,
    pub paused: bool,
    /// `active`, `error` or `invalid`.
    pub state: String,
    /// The last sequence the receiver acknowledged (-1: none yet).
    pub cursor: i64,
    /// A replay asked for on demand: sequences `replay_next..=replay_end`, delivered again.
    pub replay: Option<(i64, i64)>,
    pub last_synced_at: Option<i64>,
    pub last_error: Option<StreamError>,
    pub counters: StreamCounters,
    pub consecutive_failures: i64,
    /// When delivery may be attempted next (backoff after a failure).
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the receiver (or the way to it) answered the last time delivery failed.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamError {
    pub message: String,
    /// The receiver's HTTP status, when it answered one.
    pub status: Option<i64>,
    pub at: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    pub delivered_events: i64,
    pub delivered_batches: i64,
    pub failed_attempts: i64,
    /// Events retention removed before they were delivered.
    pub skipped_events: i64,
}

/// A batch the receiver acknowledged: the stream's position moves from `from` to `to` (last
/// sequence covered) on the live cursor, or on the replay range when `replay`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamProgress {
    pub stream_id: String,
    pub owner: String,
    pub replay: bool,
    pub from: i64,
    pub to: i64,
    pub delivered: i64,
    pub skipped: i64,
    pub now: i64,
}

/// A failed delivery attempt, and when to try again.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamFailure {
    pub stream_id: String,
    pub owner: String,
    /// `error` or `invalid` (or `active` while a transient failure is retried).
    pub state: String,
    pub error: StreamError,
    pub next_attempt_at: i64,
}

/// Streams of one destination type in one state, deployment-wide (for metrics).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StreamSummary {
    pub destination_type: String,
    /// `active`, `inactive` (paused), `error` or `invalid`.
    pub shown_state: String,
    pub streams: i64,
    /// Events stored but not yet acknowledged by their receivers.
    pub lag_events: i64,
}

/// An Admin Portal link: what opening it grants, until when. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalLink {
    /// SHA-256 of the link's token, hex.
    pub token_hash: String,
    pub environment: String,
    pub organization_id: String,
    /// `audit_logs` or `log_streams`.
    pub intent: String,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    /// The application's id for the admin the link is for (revocation).
    pub external_user_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An Admin Portal browser session, scoped to one organization and one intent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalSession {
    /// SHA-256 of the session cookie's value, hex.
    pub token_hash: String,
    /// `portal_session_<ULID>`.
    pub id: String,
    pub environment: String,
    pub organization_id: String,
    pub intent: String,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    pub external_user_id: Option<String>,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}
