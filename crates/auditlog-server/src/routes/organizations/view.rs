//! The Organization object as the SDKs deserialize it.

use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_store::Organization;
use serde_json::{json, Value};

pub fn organization_json(organization: &Organization) -> Value {
    json!({
        "object": "organization",
        "id": organization.id,
        "name": organization.name,
        "allow_profiles_outside_organization": organization.allow_profiles_outside_organization,
        "domains": organization.domains,
        "metadata": organization.metadata,
        "external_id": organization.external_id,
        "stripe_customer_id": organization.stripe_customer_id,
        "created_at": format_millis(from_micros(organization.created_at)),
        "updated_at": format_millis(from_micros(organization.updated_at)),
    })
}
