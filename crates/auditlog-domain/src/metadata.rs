//! WorkOS metadata limits, applied to event, actor and target metadata alike:
//! at most 50 keys, keys matching `^[a-zA-Z0-9_-]{0,40}$`, values a string of at most 500
//! characters, a number or a boolean.

use crate::field_error::FieldErrors;
use serde_json::{Map, Value};
use std::fmt::Display;

pub const MAX_KEYS: usize = 50;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 500;

fn key_is_valid(key: &str) -> bool {
    key.len() <= MAX_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// More than `max` characters? The byte length bounds the character count, so short strings
/// are never walked.
pub(crate) fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

/// Checks one metadata object found at `path`; records every violation and hands the object
/// back (moved, not copied) when it is acceptable.
pub fn parse_metadata(
    value: Value,
    path: &dyn Display,
    errors: &mut FieldErrors,
) -> Option<Map<String, Value>> {
    let Value::Object(object) = value else {
        errors.push(
            path.to_string(),
            "invalid_type",
            format!("{path} must be an object"),
        );
        return None;
    };
    let before = errors.0.len();
    if object.len() > MAX_KEYS {
        errors.push(
            path.to_string(),
            "too_many_keys",
            format!(
                "{path} has {} keys; at most {MAX_KEYS} are allowed",
                object.len()
            ),
        );
    }
    for (key, entry) in &object {
        // The field's path is only spelled out for an error.
        let field = || format!("{path}.{key}");
        if !key_is_valid(key) {
            errors.push(
                field(),
                "invalid_key",
                format!("metadata key '{key}' must match ^[a-zA-Z0-9_-]{{0,40}}$"),
            );
        }
        match entry {
            Value::String(text) => {
                if longer_than(text, MAX_VALUE_CHARS) {
                    let chars = text.chars().count();
                    let field = field();
                    errors.push(
                        field.clone(),
                        "value_too_long",
                        format!("{field} is {chars} characters long; at most {MAX_VALUE_CHARS} are allowed"),
                    );
                }
            }
            Value::Number(_) | Value::Bool(_) => {}
            _ => {
                let field = field();
                errors.push(
                    field.clone(),
                    "invalid_value",
                    format!("{field} must be a string, a number or a boolean"),
                )
            }
        }
    }
    (errors.0.len() == before).then_some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value) -> FieldErrors {
        let mut errors = FieldErrors::default();
        parse_metadata(value, &"event.metadata", &mut errors);
        errors
    }

    #[test]
    fn accepts_scalars_within_limits() {
        let mut map = Map::new();
        for i in 0..50 {
            map.insert(format!("k_{i}"), json!("x".repeat(500)));
        }
        assert!(check(Value::Object(map)).is_empty());
        assert!(check(json!({"n": 1.5, "b": true, "": "empty key allowed"})).is_empty());
    }

    #[test]
    fn rejects_each_limit_with_its_field() {
        let mut map = Map::new();
        for i in 0..51 {
            map.insert(format!("k{i}"), json!(1));
        }
        assert_eq!(check(Value::Object(map)).0[0].code, "too_many_keys");
        let errors = check(
            json!({"bad key": 1, "long": "é".repeat(501), "obj": {}, "nul": null, "arr": [1]}),
        );
        let fields: Vec<_> = errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert!(fields.contains(&("event.metadata.bad key", "invalid_key")));
        assert!(fields.contains(&("event.metadata.long", "value_too_long")));
        assert!(fields.contains(&("event.metadata.obj", "invalid_value")));
        assert!(fields.contains(&("event.metadata.nul", "invalid_value")));
        assert!(fields.contains(&("event.metadata.arr", "invalid_value")));
        assert_eq!(check(json!({ "k".repeat(41): 1 })).0[0].code, "invalid_key");
        assert_eq!(check(json!([1])).0[0].code, "invalid_type");
    }
}
