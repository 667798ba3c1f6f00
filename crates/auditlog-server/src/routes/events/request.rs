//! What `POST /audit_logs/events` takes and answers, for the OpenAPI document. The domain
//! (`EventInput::from_value`) validates the body field by field, so a client learns every bad
//! field at once; these types describe what it accepts. Unknown fields are ignored.

use super::view::EventMetadata;
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

#[derive(ToSchema)]
#[schema(example = json!({"organization_id": "org_01EHZNVPK3SFK441A1RGBFSHRT", "event": {"action": "user.signed_in", "occurred_at": "2026-01-15T12:00:00.000Z", "actor": {"id": "user_1", "type": "user", "name": "Jon Smith"}, "targets": [{"id": "team_1", "type": "team"}], "context": {"location": "203.0.113.7", "user_agent": "curl"}, "metadata": {"plan": "enterprise"}}}))]
#[allow(dead_code)]
pub struct CreateEventRequest {
    #[schema(min_length = 1, max_length = 1000)]
    organization_id: String,
    event: EventInput,
}

/// Unknown fields are ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventInput {
    #[schema(min_length = 1, max_length = 1000)]
    action: String,
    /// RFC 3339 with any offset; a value without offset is taken as UTC. Stored at microsecond
    /// precision.
    #[schema(format = DateTime)]
    occurred_at: String,
    /// Schema version of the action; default 1.
    #[schema(minimum = 1, default = 1)]
    version: Option<i64>,
    actor: EventActorInput,
    /// May be empty; at most 100.
    #[schema(max_items = 100)]
    targets: Vec<EventActorInput>,
    context: EventContextInput,
    metadata: Option<EventMetadata>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventActorInput {
    #[schema(min_length = 1, max_length = 1000)]
    id: String,
    #[schema(rename = "type", min_length = 1, max_length = 1000)]
    actor_type: String,
    /// Optional; an empty string or null is ignored.
    #[schema(max_length = 1000)]
    name: Option<String>,
    metadata: Option<EventMetadata>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventContextInput {
    #[schema(min_length = 1, max_length = 1000)]
    location: String,
    /// Optional; an empty string or null is ignored.
    #[schema(max_length = 1000)]
    user_agent: Option<String>,
}

/// The event is committed and on disk. The handler answers these exact bytes,
/// `{"success":true}`, and records them for idempotent replay.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateEventResponse {
    #[schema(schema_with = always_true)]
    success: bool,
}

/// `true`, always: failures are error answers.
fn always_true() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
}

/// Every event of the bulk is committed and on disk. The handler answers these exact bytes,
/// `{"success":true,"count":N}`, and records them for idempotent replay.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct BulkCreateEventsResponse {
    #[schema(schema_with = always_true)]
    success: bool,
    /// How many events were stored: all of the request's.
    #[schema(minimum = 1, maximum = 1000)]
    count: u32,
}

/// The JSON-array body of `POST /audit_logs/events/bulk`: 1 to 1,000 create-event requests
/// (written by hand: the derive cannot bound the items of a top-level array).
pub struct BulkCreateEventsRequest;

impl PartialSchema for BulkCreateEventsRequest {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(CreateEventRequest::name()))
            .min_items(Some(1))
            .max_items(Some(crate::config::defaults::MAX_BULK_EVENTS))
            .description(Some("1 to 1,000 create-event requests."))
            .into()
    }
}

impl ToSchema for BulkCreateEventsRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            CreateEventRequest::name().into(),
            CreateEventRequest::schema(),
        ));
        CreateEventRequest::schemas(schemas);
    }
}
