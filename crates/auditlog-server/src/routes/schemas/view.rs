//! The AuditLogSchema and AuditLogAction objects.

use crate::routes::timestamp::Timestamp;
use auditlog_store::{ActionRecord, SchemaRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A JSON Schema (drafts 4 to 2020-12, detected from `$schema`) as an object; at most 64 KiB;
/// no `$ref` to other documents.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object, example = json!({"type": "object", "properties": {"role": {"type": "string"}}}))]
pub struct JsonSchemaObject(Value);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[allow(dead_code)] // Describes the stored document's parts; the domain parses them.
pub struct SchemaTarget {
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 1000)]
    target_type: String,
    metadata: Option<JsonSchemaObject>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[allow(dead_code)] // Describes the stored document's parts; the domain parses them.
pub struct SchemaActor {
    metadata: JsonSchemaObject,
}

/// One version of an action's schema. `actor` and `metadata` are present when the version
/// constrains them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogSchema)]
pub struct SchemaView {
    #[schema(inline)]
    object: SchemaObject,
    #[schema(minimum = 1)]
    version: i64,
    #[schema(value_type = Vec<SchemaTarget>)]
    targets: Value,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SchemaActor>)]
    actor: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<JsonSchemaObject>)]
    metadata: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
enum SchemaObject {
    #[serde(rename = "audit_log_schema")]
    AuditLogSchema,
}

/// An action with its latest schema version.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogAction)]
pub struct ActionView {
    #[schema(inline)]
    object: ActionObject,
    name: String,
    schema: SchemaView,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
enum ActionObject {
    #[serde(rename = "audit_log_action")]
    AuditLogAction,
}

impl SchemaView {
    pub fn new(schema: &SchemaRecord) -> SchemaView {
        SchemaView {
            object: SchemaObject::AuditLogSchema,
            version: schema.version,
            targets: schema.document["targets"].clone(),
            created_at: Timestamp::from_micros(schema.created_at),
            actor: schema.document.get("actor").cloned(),
            metadata: schema.document.get("metadata").cloned(),
        }
    }
}

impl ActionView {
    pub fn new(action: &ActionRecord) -> ActionView {
        ActionView {
            object: ActionObject::AuditLogAction,
            name: action.name.clone(),
            schema: SchemaView::new(&action.latest),
            created_at: Timestamp::from_micros(action.created_at),
            updated_at: Timestamp::from_micros(action.updated_at),
        }
    }
}

/// The action a schema route is about.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Describes the parameter; `PathId` extracts it.
pub struct ActionPath {
    /// The action name, one percent-encoded path segment (1 to 1000 printable characters).
    #[param(min_length = 1, max_length = 1000, example = "user.signed_in")]
    action: String,
}

/// Action names arrive as one percent-decoded path segment; keep them printable and bounded.
pub fn valid_action_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 1000 && !name.chars().any(char::is_control)
}
