//! Action schemas: what events of one action must look like.
//!
//! A schema declares target types (each must appear at least once in an event's targets) and
//! optional JSON Schemas for actor metadata, event metadata and each target type's metadata.
//! Choices where WorkOS is silent: target types not declared in the schema are allowed; a part
//! without a metadata schema accepts any metadata (within the general limits); absent metadata
//! is validated as `{}` so a schema's `required` keys are enforced.

use crate::canonical::canonical_bytes;
use crate::event::{Actor, EventInput};
use crate::field_error::FieldErrors;
use jsonschema::Validator;
use serde::Serialize;
use serde_json::{json, Map, Value};

pub const MAX_TARGET_TYPES: usize = 50;
const MAX_TYPE_CHARS: usize = 1000;
/// Largest accepted JSON Schema document, serialized, per part.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Largest accepted schema (all parts together), serialized. A compiled schema takes roughly
/// 50 times its JSON in memory (patterns become regular expressions), so this bounds what one
/// schema version can cost the server's cache: about 12 MB.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct TargetSchema {
    pub kind: String,
    pub metadata: Option<Value>,
}

/// A validated schema document, as submitted (without version or timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSchema {
    pub targets: Vec<TargetSchema>,
    pub actor_metadata: Option<Value>,
    pub metadata: Option<Value>,
}

/// Compiles one JSON Schema, reporting problems under `field`. Remote `$ref`s cannot resolve:
/// the `jsonschema` crate is built without its HTTP and file retrievers, so the server never
/// fetches a URL on behalf of a schema author.
fn compile(schema: &Value, field: &str, errors: &mut FieldErrors) -> Option<Validator> {
    if !schema.is_object() {
        errors.push(
            field,
            "invalid_schema",
            format!("{field} must be a JSON Schema object"),
        );
        return None;
    }
    if serde_json::to_vec(schema)
        .map(|b| b.len())
        .unwrap_or(usize::MAX)
        > MAX_SCHEMA_BYTES
    {
        errors.push(
            field,
            "invalid_schema",
            format!("{field} is larger than {MAX_SCHEMA_BYTES} bytes"),
        );
        return None;
    }
    // A `$schema` we do not ship would make the meta-schema lookup fail (or panic inside the
    // crate); only the bundled drafts are accepted.
    if let Some(draft) = schema.get("$schema") {
        let known = draft.as_str().is_some_and(|uri| {
            uri.starts_with("http://json-schema.org/")
                || uri.starts_with("https://json-schema.org/")
        });
        if !known {
            errors.push(
                field,
                "invalid_schema",
                format!("{field}: unsupported $schema {draft}"),
            );
            return None;
        }
    }
    let meta_ok =
        std::panic::catch_unwind(|| jsonschema::meta::validate(schema).map_err(|e| e.to_string()));
    match meta_ok {
        Ok(Ok(())) => {}
        Ok(Err(message)) => {
            errors.push(
                field,
                "invalid_schema",
                format!("{field} is not a valid JSON Schema: {message}"),
            );
            return None;
        }
        Err(_) => {
            errors.push(
                field,
                "invalid_schema",
                format!("{field}: unsupported $schema"),
            );
            return None;
        }
    }
    match jsonschema::validator_for(schema) {
        Ok(validator) => Some(validator),
        Err(error) => {
            errors.push(
                field,
                "invalid_schema",
                format!("{field} is not a usable JSON Schema: {error}"),
            );
            None
        }
    }
}

impl ActionSchema {
    /// Parses and checks a `POST /audit_logs/actions/{action}/schemas` body.
    pub fn parse(body: &Value) -> Result<ActionSchema, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(object) = body.as_object() else {
            errors.push(
                "body",
                "invalid_type",
                "the request body must be a JSON object",
            );
            return Err(errors);
        };
        // Checked before anything is compiled: compiling is what costs memory.
        if serde_json::to_vec(body).map_or(usize::MAX, |b| b.len()) > MAX_DOCUMENT_BYTES {
            errors.push(
                "body",
                "too_large",
                format!("a schema may be at most {MAX_DOCUMENT_BYTES} bytes of JSON"),
            );
            return Err(errors);
        }
        let mut targets = Vec::new();
        match object.get("targets") {
            Some(Value::Array(items)) if items.is_empty() => errors.push(
                "targets",
                "required",
                "targets must declare at least one target type",
            ),
            Some(Value::Array(items)) if items.len() > MAX_TARGET_TYPES => errors.push(
                "targets",
                "too_many_items",
                format!("targets may declare at most {MAX_TARGET_TYPES} types"),
            ),
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let field = format!("targets.{index}");
                    let kind = match item.get("type").and_then(Value::as_str) {
                        Some(kind)
                            if !kind.is_empty() && kind.chars().count() <= MAX_TYPE_CHARS =>
                        {
                            kind.to_string()
                        }
                        _ => {
                            errors.push(
                                format!("{field}.type"),
                                "required",
                                "each target needs a non-empty string type",
                            );
                            continue;
                        }
                    };
                    if targets.iter().any(|t: &TargetSchema| t.kind == kind) {
                        errors.push(
                            format!("{field}.type"),
                            "duplicate",
                            format!("target type '{kind}' is declared twice"),
                        );
                        continue;
                    }
                    let metadata = item.get("metadata").filter(|v| !v.is_null()).cloned();
                    if let Some(schema) = &metadata {
                        compile(schema, &format!("{field}.metadata"), &mut errors);
                    }
                    targets.push(TargetSchema { kind, metadata });
                }
            }
            None | Some(Value::Null) => errors.push("targets", "required", "targets is required"),
            Some(_) => errors.push("targets", "invalid_type", "targets must be an array"),
        }
        let actor_metadata = match object.get("actor") {
            None | Some(Value::Null) => None,
            Some(Value::Object(actor)) => match actor.get("metadata") {
                Some(schema) if !schema.is_null() => {
                    compile(schema, "actor.metadata", &mut errors);
                    Some(schema.clone())
                }
                _ => {
                    errors.push(
                        "actor.metadata",
                        "required",
                        "actor.metadata is required when actor is given",
                    );
                    None
                }
            },
            Some(_) => {
                errors.push("actor", "invalid_type", "actor must be an object");
                None
            }
        };
        let metadata = object.get("metadata").filter(|v| !v.is_null()).cloned();
        if let Some(schema) = &metadata {
            compile(schema, "metadata", &mut errors);
        }
        errors.into_result(ActionSchema {
            targets,
            actor_metadata,
            metadata,
        })
    }

    /// The stored document: `{"targets": […], "actor"?: {"metadata"}, "metadata"?}`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|target| match &target.metadata {
                Some(metadata) => json!({"type": target.kind, "metadata": metadata}),
                None => json!({"type": target.kind}),
            })
            .collect();
        object.insert("targets".into(), Value::Array(targets));
        if let Some(metadata) = &self.actor_metadata {
            object.insert("actor".into(), json!({"metadata": metadata}));
        }
        if let Some(metadata) = &self.metadata {
            object.insert("metadata".into(), metadata.clone());
        }
        Value::Object(object)
    }

    /// Reads back a stored document (already validated when it was created).
    pub fn from_json(document: &Value) -> Option<ActionSchema> {
        let targets = document["targets"]
            .as_array()?
            .iter()
            .map(|t| {
                Some(TargetSchema {
                    kind: t["type"].as_str()?.to_string(),
                    metadata: t.get("metadata").cloned(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ActionSchema {
            targets,
            actor_metadata: document
                .get("actor")
                .and_then(|a| a.get("metadata"))
                .cloned(),
            metadata: document.get("metadata").cloned(),
        })
    }

    /// Bytes that are equal exactly when two schemas mean the same (key order ignored).
    pub fn fingerprint(&self) -> Vec<u8> {
        canonical_bytes(&self.to_json())
    }
}

/// One way an event fails its schema, in the Ajv shape WorkOS returns.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SchemaViolation {
    /// JSON Pointer into the event, e.g. `/targets` or `/actor/metadata/role`.
    #[serde(rename = "instancePath")]
    pub instance_path: String,
    /// Where in the compiled schema the check failed (may be empty).
    #[serde(rename = "schemaPath")]
    pub schema_path: String,
    /// The failed JSON Schema keyword (`const`, `type`, `required`, …; `configured` for an
    /// unknown action/version).
    pub keyword: String,
    pub message: String,
}

/// A schema ready to check events; built once per (environment, action, version) and cached.
pub struct CompiledSchema {
    targets: Vec<(String, Option<Validator>)>,
    actor_metadata: Option<Validator>,
    metadata: Option<Validator>,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("targets", &self.targets.len())
            .finish_non_exhaustive()
    }
}

fn metadata_value(metadata: &Option<Map<String, Value>>) -> Value {
    Value::Object(metadata.clone().unwrap_or_default())
}

fn check(
    validator: &Validator,
    instance: &Value,
    instance_prefix: &str,
    schema_prefix: &str,
    out: &mut Vec<SchemaViolation>,
) {
    for error in validator.iter_errors(instance) {
        out.push(SchemaViolation {
            instance_path: format!("{instance_prefix}{}", error.instance_path().as_str()),
            schema_path: format!("{schema_prefix}{}", error.schema_path().as_str()),
            keyword: error.kind().keyword().to_string(),
            message: error.to_string(),
        });
    }
}

impl CompiledSchema {
    pub fn compile(schema: &ActionSchema) -> Result<CompiledSchema, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut targets = Vec::new();
        for (index, target) in schema.targets.iter().enumerate() {
            let validator = target
                .metadata
                .as_ref()
                .and_then(|s| compile(s, &format!("targets.{index}.metadata"), &mut errors));
            targets.push((target.kind.clone(), validator));
        }
        let actor_metadata = schema
            .actor_metadata
            .as_ref()
            .and_then(|s| compile(s, "actor.metadata", &mut errors));
        let metadata = schema
            .metadata
            .as_ref()
            .and_then(|s| compile(s, "metadata", &mut errors));
        errors.into_result(CompiledSchema {
            targets,
            actor_metadata,
            metadata,
        })
    }

    /// Every violation of `event` against this schema; empty when it conforms.
    pub fn validate(&self, event: &EventInput) -> Vec<SchemaViolation> {
        let mut violations = Vec::new();
        for (index, (kind, _)) in self.targets.iter().enumerate() {
            if !event.targets.iter().any(|t| &t.kind == kind) {
                violations.push(SchemaViolation {
                    instance_path: "/targets".into(),
                    schema_path: format!(
                        "#/properties/targets/allOf/{index}/contains/properties/type/const"
                    ),
                    keyword: "contains".into(),
                    message: format!("must contain at least one target of type '{kind}'"),
                });
            }
        }
        if let Some(validator) = &self.actor_metadata {
            check(
                validator,
                &metadata_value(&event.actor.metadata),
                "/actor/metadata",
                "#/properties/actor/properties/metadata",
                &mut violations,
            );
        }
        for (position, target) in event.targets.iter().enumerate() {
            if let Some((index, (_, Some(validator)))) = self
                .targets
                .iter()
                .enumerate()
                .find(|(_, (k, _))| k == &target.kind)
            {
                check_target(validator, target, position, index, &mut violations);
            }
        }
        if let Some(validator) = &self.metadata {
            check(
                validator,
                &metadata_value(&event.metadata),
                "/metadata",
                "#/properties/metadata",
                &mut violations,
            );
        }
        violations
    }
}

fn check_target(
    validator: &Validator,
    target: &Actor,
    position: usize,
    index: usize,
    out: &mut Vec<SchemaViolation>,
) {
    check(
        validator,
        &metadata_value(&target.metadata),
        &format!("/targets/{position}/metadata"),
        &format!("#/properties/targets/items/{index}/properties/metadata"),
        out,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(body: Value) -> ActionSchema {
        ActionSchema::parse(&body).unwrap()
    }

    fn event(targets: Value, actor_metadata: Value, metadata: Value) -> EventInput {
        EventInput::parse(&json!({
            "organization_id": "org_1",
            "event": {
                "action": "invoice.paid", "occurred_at": "2026-01-01T00:00:00Z",
                "actor": {"id": "u", "type": "user", "metadata": actor_metadata},
                "targets": targets, "context": {"location": "::1"}, "metadata": metadata
            }
        }))
        .unwrap()
    }

    fn string_props(required: &[&str]) -> Value {
        json!({"type": "object", "properties": {"role": {"type": "string"}, "amount": {"type": "number"}}, "required": required})
    }

    #[test]
    fn rejects_malformed_schema_documents() {
        let cases = [
            (json!({}), "targets"),
            (json!({"targets": []}), "targets"),
            (json!({"targets": [{"type": ""}]}), "targets.0.type"),
            (
                json!({"targets": [{"type": "a"}, {"type": "a"}]}),
                "targets.1.type",
            ),
            (
                json!({"targets": [{"type": "a", "metadata": {"type": "nonsense"}}]}),
                "targets.0.metadata",
            ),
            (
                json!({"targets": [{"type": "a"}], "actor": {}}),
                "actor.metadata",
            ),
            (
                json!({"targets": [{"type": "a"}], "metadata": {"$ref": "https://example.com/s.json"}}),
                "metadata",
            ),
            (
                json!({"targets": [{"type": "a"}], "metadata": {"$schema": "https://evil.example/meta"}}),
                "metadata",
            ),
            (
                json!({"targets": [{"type": "a"}], "metadata": 5}),
                "metadata",
            ),
        ];
        for (body, field) in cases {
            let errors = ActionSchema::parse(&body).unwrap_err();
            assert!(
                errors.0.iter().any(|e| e.field == field),
                "{body}: {errors:?}"
            );
        }
    }

    #[test]
    fn refuses_a_schema_larger_than_the_document_limit() {
        // Each part is under the per-part limit; together they are over the document limit.
        let part = |t: usize| {
            let properties: Map<String, Value> = (0..600)
                .map(|i| {
                    (
                        format!("p{t}_{i}"),
                        json!({"type": "string", "maxLength": 100}),
                    )
                })
                .collect();
            json!({"type": "object", "properties": properties})
        };
        let targets: Vec<Value> = (0..20)
            .map(|t| json!({"type": format!("t{t}"), "metadata": part(t)}))
            .collect();
        let body = json!({ "targets": targets });
        assert!(serde_json::to_vec(&body).unwrap().len() > MAX_DOCUMENT_BYTES);
        let errors = ActionSchema::parse(&body).unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors:?}");
        assert_eq!(errors.0[0].field, "body");
        assert_eq!(errors.0[0].code, "too_large");
        let small = json!({ "targets": targets[..2] });
        assert!(ActionSchema::parse(&small).is_ok());
    }

    #[test]
    fn fingerprint_ignores_key_order() {
        let a = schema(
            json!({"targets": [{"type": "t"}], "metadata": {"type": "object", "properties": {}}}),
        );
        let b = schema(
            json!({"metadata": {"properties": {}, "type": "object"}, "targets": [{"type": "t"}]}),
        );
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(ActionSchema::from_json(&a.to_json()).unwrap(), a);
    }

    #[test]
    fn validates_targets_and_every_metadata() {
        let compiled = CompiledSchema::compile(&schema(json!({
            "targets": [{"type": "invoice", "metadata": string_props(&["amount"])}, {"type": "team"}],
            "actor": {"metadata": string_props(&["role"])},
            "metadata": string_props(&[])
        })))
        .unwrap();
        let good = event(
            json!([{"id": "i", "type": "invoice", "metadata": {"amount": 5}}, {"id": "t", "type": "team"}, {"id": "x", "type": "extra"}]),
            json!({"role": "admin"}),
            json!({"role": "x"}),
        );
        assert_eq!(compiled.validate(&good), vec![]);

        let bad = event(
            json!([{"id": "i", "type": "invoice", "metadata": {"amount": "five"}}]),
            json!({}),
            json!({"amount": "lots"}),
        );
        let paths: Vec<String> = compiled
            .validate(&bad)
            .into_iter()
            .map(|v| v.instance_path)
            .collect();
        assert!(paths.contains(&"/targets".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"/targets/0/metadata/amount".to_string()),
            "{paths:?}"
        );
        assert!(paths.contains(&"/actor/metadata".to_string()), "{paths:?}");
        assert!(paths.contains(&"/metadata/amount".to_string()), "{paths:?}");
    }
}
