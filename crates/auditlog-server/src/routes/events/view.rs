//! The AuditLogEvent object of the read API (an extension): the canonical payload's fields plus
//! where the event sits (`sequence`) and when it arrived (`received_at`). `occurred_at` is the
//! canonical text, so a verifier can rebuild the event's leaf hash from this object.

use crate::routes::list::ListObject;
use crate::routes::timestamp::Timestamp;
use auditlog_store::StoredEvent;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use utoipa::openapi::schema::{AdditionalProperties, AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// At most 50 keys matching `^[a-zA-Z0-9_-]{0,40}$`; values are strings of at most 500
/// characters, numbers or booleans.
pub struct EventMetadata;

impl PartialSchema for EventMetadata {
    fn schema() -> RefOr<Schema> {
        let value = AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(500)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .max_properties(Some(50))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(value.into()))))
            .description(Some(
                "At most 50 keys matching `^[a-zA-Z0-9_-]{0,40}$`; values are strings of at most \
                 500 characters, numbers or booleans.",
            ))
            .examples([serde_json::json!({"plan": "enterprise", "seats": 25, "trial": false})])
            .into()
    }
}

impl ToSchema for EventMetadata {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventMetadata")
    }
}

/// The actor or one target of a stored event; absent optional members are omitted.
#[derive(ToSchema)]
#[schema(as = AuditLogEventActor)]
#[allow(dead_code)] // Describes the stored payload's actor and targets.
pub struct EventActorView {
    id: String,
    #[schema(rename = "type")]
    actor_type: String,
    #[schema(required = false)]
    name: String,
    #[schema(required = false)]
    metadata: EventMetadata,
}

#[derive(ToSchema)]
#[schema(as = AuditLogEventContext)]
#[allow(dead_code)] // Describes the stored payload's context.
pub struct EventContextView {
    location: String,
    #[schema(required = false)]
    user_agent: String,
}

#[derive(Debug, Serialize, ToSchema)]
enum EventObject {
    #[serde(rename = "audit_log_event")]
    AuditLogEvent,
}

/// A stored event. Its payload fields are the canonical JSON as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogEvent)]
pub struct EventView {
    #[schema(inline)]
    object: EventObject,
    /// `audit_log_event_<ULID>`
    #[schema(example = "audit_log_event_01J9Z6W3X4Y5Z6A7B8C9D0E1F2")]
    id: String,
    organization_id: String,
    /// Per-organization position, assigned at commit: 0, 1, 2, … without gaps (the leaf index
    /// of the organization's Merkle log).
    #[schema(minimum = 0)]
    sequence: i64,
    /// UTC, milliseconds, or microseconds when finer.
    #[schema(value_type = String, format = DateTime,
        pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$")]
    occurred_at: Value,
    received_at: Timestamp,
    #[schema(value_type = String)]
    action: Value,
    #[schema(value_type = i64, minimum = 1)]
    version: Value,
    #[schema(value_type = EventActorView)]
    actor: Value,
    #[schema(value_type = Vec<EventActorView>)]
    targets: Value,
    #[schema(value_type = EventContextView)]
    context: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<EventMetadata>)]
    metadata: Option<Value>,
}

impl EventView {
    pub fn new(event: &StoredEvent) -> EventView {
        let mut payload: Value = event
            .payload
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        let mut take = |name: &str| payload.get_mut(name).map(Value::take);
        EventView {
            object: EventObject::AuditLogEvent,
            id: event.id.clone(),
            organization_id: event.organization_id.clone(),
            sequence: event.sequence,
            occurred_at: take("occurred_at").unwrap_or_default(),
            received_at: Timestamp::from_micros(event.received_at),
            action: take("action").unwrap_or_default(),
            version: take("version").unwrap_or_default(),
            actor: take("actor").unwrap_or_default(),
            targets: take("targets").unwrap_or_default(),
            context: take("context").unwrap_or_default(),
            metadata: take("metadata"),
        }
    }
}

/// A page of events; in tail mode, `last_sequence` says where to go on from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogEventList)]
pub struct EventListView {
    #[schema(inline)]
    pub object: ListObject,
    pub data: Vec<EventView>,
    pub list_metadata: EventListMetadata,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventListMetadata {
    /// An opaque cursor; pass it back as `before`.
    #[schema(required = true)]
    pub before: Option<String>,
    /// An opaque cursor; pass it back as `after`.
    #[schema(required = true)]
    pub after: Option<String>,
    /// Tail mode only (`after_sequence` given): the sequence to pass as `after_sequence` next
    /// time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1)]
    pub last_sequence: Option<i64>,
}
