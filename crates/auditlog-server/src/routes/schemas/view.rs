//! The AuditLogSchema and AuditLogAction objects.

use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::{ActionRecord, SchemaRecord};
use serde_json::{json, Value};

pub fn schema_json(schema: &SchemaRecord) -> Value {
    let mut object = json!({
        "object": "audit_log_schema",
        "version": schema.version,
        "targets": schema.document["targets"],
        "created_at": format_millis(from_micros(schema.created_at)),
    });
    for part in ["actor", "metadata"] {
        if let Some(value) = schema.document.get(part) {
            object[part] = value.clone();
        }
    }
    object
}

pub fn action_json(action: &ActionRecord) -> Value {
    json!({
        "object": "audit_log_action",
        "name": action.name,
        "schema": schema_json(&action.latest),
        "created_at": format_millis(from_micros(action.created_at)),
        "updated_at": format_millis(from_micros(action.updated_at)),
    })
}

/// Action names arrive as one percent-decoded path segment; keep them printable and bounded.
pub fn valid_action_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 1000 && !name.chars().any(char::is_control)
}
