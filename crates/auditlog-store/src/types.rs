//! Plain records exchanged with the store.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub environment: String,
    pub key_hash: [u8; 32],
    pub display_prefix: String,
    pub created_at: i64,
}

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
