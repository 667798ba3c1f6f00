//! The bodies of `POST /organizations` and `PUT /organizations/{organization_id}`, for the
//! OpenAPI document. `fields.rs` validates them field by field, so that a client learns every
//! bad field at once; these types describe what it accepts.

use super::view::{DomainState, OrganizationMetadata};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Acme", "domain_data": [{"domain": "acme.com", "state": "verified"}], "metadata": {"tier": "gold"}}))]
#[allow(dead_code)]
pub struct CreateOrganizationRequest {
    #[schema(min_length = 1, max_length = 1000)]
    name: String,
    #[serde(flatten)]
    fields: OrganizationFields,
}

/// Only the fields present change.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Acme Inc."}))]
#[allow(dead_code)]
pub struct UpdateOrganizationRequest {
    #[schema(min_length = 1, max_length = 1000)]
    name: Option<String>,
    #[serde(flatten)]
    fields: OrganizationFields,
}

/// What creating and updating an organization share besides its name.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrganizationFields {
    allow_profiles_outside_organization: Option<bool>,
    /// Deprecated: use `domain_data`. Each becomes a `pending` domain. Ignored when
    /// `domain_data` is given.
    #[deprecated]
    #[schema(max_items = 100)]
    domains: Option<Vec<String>>,
    #[schema(max_items = 100)]
    domain_data: Option<Vec<DomainData>>,
    #[schema(min_length = 1, max_length = 256)]
    stripe_customer_id: Option<String>,
    /// `null` clears it.
    #[schema(value_type = Option<OrganizationMetadata>)]
    metadata: Option<serde_json::Value>,
    /// Unique per environment (409 on reuse).
    #[schema(min_length = 1, max_length = 256)]
    external_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DomainData {
    #[schema(min_length = 1, max_length = 253)]
    domain: String,
    #[schema(inline)]
    state: DomainState,
}
