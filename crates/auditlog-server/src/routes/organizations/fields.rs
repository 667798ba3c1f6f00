//! Parsing the create/update body of an organization into changes to apply.
//!
//! Organization metadata follows WorkOS: at most 10 keys of at most 40 characters, string values
//! of at most 600 characters (the SDKs type it as a string map).

use auditlog_domain::ids::new_id;
use auditlog_domain::timestamp::{format_millis, from_micros};
use auditlog_domain::FieldErrors;
use auditlog_store::Organization;
use serde_json::{json, Map, Value};

const MAX_NAME_CHARS: usize = 1000;
const MAX_METADATA_KEYS: usize = 10;
const MAX_METADATA_KEY_CHARS: usize = 40;
const MAX_METADATA_VALUE_CHARS: usize = 600;
const MAX_DOMAINS: usize = 100;
const MAX_DOMAIN_CHARS: usize = 253;
const MAX_ID_CHARS: usize = 256;

/// Fields present in the body; `Some(None)` means "set to null".
#[derive(Debug, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub allow_profiles_outside_organization: Option<bool>,
    /// (domain, state) pairs, replacing the current domains.
    pub domains: Option<Vec<(String, String)>>,
    pub stripe_customer_id: Option<Option<String>>,
    pub metadata: Option<Map<String, Value>>,
    pub external_id: Option<Option<String>>,
}

fn text(value: &Value, field: &str, max: usize, errors: &mut FieldErrors) -> Option<String> {
    match value.as_str() {
        Some("") => errors.push(field, "required", format!("{field} must not be empty")),
        Some(s) if s.chars().count() > max => errors.push(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ),
        Some(s) => return Some(s.to_string()),
        None => errors.push(field, "invalid_type", format!("{field} must be a string")),
    }
    None
}

fn nullable_text(
    value: &Value,
    field: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<Option<String>> {
    if value.is_null() {
        Some(None)
    } else {
        text(value, field, max, errors).map(Some)
    }
}

fn metadata(value: &Value, errors: &mut FieldErrors) -> Option<Map<String, Value>> {
    let object = match value {
        Value::Null => return Some(Map::new()),
        Value::Object(object) => object,
        _ => {
            errors.push(
                "metadata",
                "invalid_type",
                "metadata must be an object of strings",
            );
            return None;
        }
    };
    let before = errors.0.len();
    if object.len() > MAX_METADATA_KEYS {
        errors.push(
            "metadata",
            "too_many_keys",
            format!("metadata may hold at most {MAX_METADATA_KEYS} keys"),
        );
    }
    for (key, entry) in object {
        let field = format!("metadata.{key}");
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_CHARS {
            errors.push(
                field.clone(),
                "invalid_key",
                format!("metadata keys must be 1 to {MAX_METADATA_KEY_CHARS} characters"),
            );
        }
        match entry.as_str() {
            Some(s) if s.chars().count() > MAX_METADATA_VALUE_CHARS => errors.push(
                field,
                "value_too_long",
                format!("metadata values must be at most {MAX_METADATA_VALUE_CHARS} characters"),
            ),
            Some(_) => {}
            None => errors.push(field, "invalid_value", "metadata values must be strings"),
        }
    }
    (errors.0.len() == before).then(|| object.clone())
}

fn domain_list(
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> Option<Vec<(String, String)>> {
    let mut domains = Vec::new();
    if let Some(value) = body.get("domain_data").filter(|v| !v.is_null()) {
        let Some(items) = value.as_array().filter(|items| items.len() <= MAX_DOMAINS) else {
            errors.push(
                "domain_data",
                "invalid_type",
                format!("domain_data must be an array of at most {MAX_DOMAINS} objects"),
            );
            return None;
        };
        for (index, item) in items.iter().enumerate() {
            let field = format!("domain_data.{index}");
            let domain = text(
                &item["domain"],
                &format!("{field}.domain"),
                MAX_DOMAIN_CHARS,
                errors,
            );
            let state = match item["state"].as_str() {
                Some(state @ ("verified" | "pending")) => Some(state.to_string()),
                _ => {
                    errors.push(
                        format!("{field}.state"),
                        "invalid_value",
                        "state must be verified or pending",
                    );
                    None
                }
            };
            if let (Some(domain), Some(state)) = (domain, state) {
                domains.push((domain.to_ascii_lowercase(), state));
            }
        }
        return Some(domains);
    }
    let value = body.get("domains").filter(|v| !v.is_null())?;
    let Some(items) = value.as_array().filter(|items| items.len() <= MAX_DOMAINS) else {
        errors.push(
            "domains",
            "invalid_type",
            format!("domains must be an array of at most {MAX_DOMAINS} strings"),
        );
        return None;
    };
    for (index, item) in items.iter().enumerate() {
        if let Some(domain) = text(item, &format!("domains.{index}"), MAX_DOMAIN_CHARS, errors) {
            domains.push((domain.to_ascii_lowercase(), "pending".to_string()));
        }
    }
    Some(domains)
}

impl OrganizationChanges {
    /// Whether these changes set the external id to `value`.
    pub fn sets_external_id(&self, value: &str) -> bool {
        matches!(&self.external_id, Some(Some(id)) if id == value)
    }

    /// Parses a create (`name` required) or update body.
    pub fn parse(body: &Value, creating: bool) -> Result<OrganizationChanges, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(object) = body.as_object() else {
            errors.push(
                "body",
                "invalid_type",
                "the request body must be a JSON object",
            );
            return Err(errors);
        };
        let mut changes = OrganizationChanges::default();
        match object.get("name") {
            None | Some(Value::Null) if creating => {
                errors.push("name", "required", "name is required")
            }
            None | Some(Value::Null) => {}
            Some(value) => changes.name = text(value, "name", MAX_NAME_CHARS, &mut errors),
        }
        if let Some(value) = object
            .get("allow_profiles_outside_organization")
            .filter(|v| !v.is_null())
        {
            match value.as_bool() {
                Some(flag) => changes.allow_profiles_outside_organization = Some(flag),
                None => errors.push(
                    "allow_profiles_outside_organization",
                    "invalid_type",
                    "must be a boolean",
                ),
            }
        }
        changes.domains = domain_list(object, &mut errors);
        if let Some(value) = object.get("stripe_customer_id") {
            changes.stripe_customer_id =
                nullable_text(value, "stripe_customer_id", MAX_ID_CHARS, &mut errors);
        }
        if let Some(value) = object.get("metadata") {
            changes.metadata = metadata(value, &mut errors);
        }
        if let Some(value) = object.get("external_id") {
            changes.external_id = nullable_text(value, "external_id", MAX_ID_CHARS, &mut errors);
        }
        errors.into_result(changes)
    }

    /// Applies the changes to `organization` at time `now` (µs).
    pub fn apply(self, organization: &mut Organization, now: i64) {
        if let Some(name) = self.name {
            organization.name = name;
        }
        if let Some(flag) = self.allow_profiles_outside_organization {
            organization.allow_profiles_outside_organization = flag;
        }
        if let Some(domains) = self.domains {
            organization.domains = domains
                .into_iter()
                .map(|(domain, state)| domain_object(organization, &domain, &state, now))
                .collect();
        }
        if let Some(stripe_customer_id) = self.stripe_customer_id {
            organization.stripe_customer_id = stripe_customer_id;
        }
        if let Some(metadata) = self.metadata {
            organization.metadata = metadata;
        }
        if let Some(external_id) = self.external_id {
            organization.external_id = external_id;
        }
        organization.updated_at = now;
    }
}

/// A WorkOS organization-domain object; an existing domain keeps its id and creation time.
fn domain_object(organization: &Organization, domain: &str, state: &str, now: i64) -> Value {
    let existing = organization.domains.iter().find(|d| d["domain"] == domain);
    let id = existing
        .and_then(|d| d["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| new_id("org_domain"));
    let created_at = existing
        .and_then(|d| d["created_at"].as_str().map(str::to_string))
        .unwrap_or_else(|| format_millis(from_micros(now)));
    json!({
        "object": "organization_domain",
        "id": id,
        "organization_id": organization.id,
        "domain": domain,
        "state": state,
        "created_at": created_at,
        "updated_at": format_millis(from_micros(now)),
    })
}
