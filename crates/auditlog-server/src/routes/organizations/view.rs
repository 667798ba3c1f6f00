//! The Organization object as the SDKs deserialize it.

use crate::routes::timestamp::Timestamp;
use auditlog_store::Organization;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The organization a route is about.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Describes the parameter; `PathId` extracts it.
pub struct OrganizationPath {
    #[param(example = "org_01EHZNVPK3SFK441A1RGBFSHRT")]
    organization_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
enum OrganizationObject {
    #[serde(rename = "organization")]
    Organization,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Organization)]
pub struct OrganizationView {
    #[schema(inline)]
    object: OrganizationObject,
    /// `org_<ULID>`
    #[schema(example = "org_01EHZNVPK3SFK441A1RGBFSHRT")]
    id: String,
    name: String,
    allow_profiles_outside_organization: bool,
    #[schema(value_type = Vec<OrganizationDomain>)]
    domains: Vec<Value>,
    #[schema(value_type = OrganizationMetadata)]
    metadata: Map<String, Value>,
    #[schema(required = true)]
    external_id: Option<String>,
    #[schema(required = true)]
    stripe_customer_id: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl OrganizationView {
    pub fn new(organization: &Organization) -> OrganizationView {
        OrganizationView {
            object: OrganizationObject::Organization,
            id: organization.id.clone(),
            name: organization.name.clone(),
            allow_profiles_outside_organization: organization.allow_profiles_outside_organization,
            domains: organization.domains.clone(),
            metadata: organization.metadata.clone(),
            external_id: organization.external_id.clone(),
            stripe_customer_id: organization.stripe_customer_id.clone(),
            created_at: Timestamp::from_micros(organization.created_at),
            updated_at: Timestamp::from_micros(organization.updated_at),
        }
    }
}

/// One of an organization's domains, as stored from the request (`fields.rs` builds it).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OrganizationDomain {
    #[schema(inline)]
    object: DomainObject,
    /// `org_domain_<ULID>`
    id: String,
    organization_id: String,
    domain: String,
    #[schema(inline)]
    state: DomainState,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(ToSchema)]
#[allow(dead_code)]
enum DomainObject {
    #[schema(rename = "organization_domain")]
    OrganizationDomain,
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DomainState {
    Pending,
    Verified,
}

/// At most 10 keys of 1 to 40 characters; string values of at most 600 characters.
pub struct OrganizationMetadata;

impl PartialSchema for OrganizationMetadata {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(600));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .max_properties(Some(10))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(value.into()))))
            .description(Some(
                "At most 10 keys of 1 to 40 characters; string values of at most 600 characters.",
            ))
            .into()
    }
}

impl ToSchema for OrganizationMetadata {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OrganizationMetadata")
    }
}
