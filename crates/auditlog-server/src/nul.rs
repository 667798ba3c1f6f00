//! The NUL rule: no string the API accepts contains U+0000, on either store.
//!
//! PostgreSQL cannot store U+0000 in text at all, and SQLite would store it but many tools cut
//! strings there; accepting it on one store only would make the two disagree. So every request
//! is refused before it reaches the store: a JSON body with 422 naming each offending field
//! (object keys included), a query parameter with 422 naming the parameter, a path id with 404
//! (no stored id can contain it).

use auditlog_domain::FieldErrors;
use serde_json::Value;

/// How JSON carries U+0000: only as this escape, since a raw 0x00 byte is not valid JSON.
const NUL_ESCAPE: &[u8] = br"\u0000";
/// Most offending fields named in one answer.
const MAX_REPORTED: usize = 20;
pub const CODE: &str = "invalid";
pub const MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// True when `text` contains U+0000.
pub fn contains_nul(text: &str) -> bool {
    text.as_bytes().contains(&0)
}

/// A name for a field path segment that itself contains U+0000: the NUL written as its JSON
/// escape, so that error messages never carry the character.
fn printable(segment: &str) -> String {
    segment.replace('\0', "\\u0000")
}

/// Whether a JSON text may hold U+0000 in a string or key: only if it contains the escape.
pub fn may_contain_nul(raw: &[u8]) -> bool {
    memchr::memmem::find(raw, NUL_ESCAPE).is_some()
}

/// The fields of a parsed body whose strings or keys contain U+0000 (empty for nearly every
/// body: unless the raw bytes hold the escape, the parsed value is not walked at all).
pub fn body_errors(raw: &[u8], value: &Value) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if may_contain_nul(raw) {
        let mut path = Vec::new();
        walk(value, &mut path, &mut errors);
    }
    errors
}

fn field(path: &[String]) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path.join(".")
    }
}

fn walk(value: &Value, path: &mut Vec<String>, errors: &mut FieldErrors) {
    if errors.0.len() >= MAX_REPORTED {
        return;
    }
    match value {
        Value::String(text) if contains_nul(text) => errors.push(field(path), CODE, MESSAGE),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk(item, path, errors);
                path.pop();
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                path.push(printable(key));
                if contains_nul(key) && errors.0.len() < MAX_REPORTED {
                    errors.push(field(path), CODE, format!("names {MESSAGE}"));
                }
                walk(member, path, errors);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The query parameters whose name or value contains U+0000.
pub fn query_errors<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for (name, value) in pairs {
        if (contains_nul(name) || contains_nul(value)) && errors.0.len() < MAX_REPORTED {
            errors.push(printable(name), CODE, MESSAGE);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(raw: &str) -> Vec<(String, String)> {
        let value: Value = serde_json::from_str(raw).unwrap();
        body_errors(raw.as_bytes(), &value)
            .0
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn names_every_string_and_key_with_nul() {
        let raw = r#"{"organization_id":"org_1","event":{"actor":{"id":"u\u0000"},
            "targets":[{"id":"t"},{"id":"\u0000x"}],"metadata":{"k\u0000":"v"}}}"#;
        assert_eq!(
            fields(raw),
            vec![
                ("event.actor.id".into(), MESSAGE.into()),
                ("event.targets.1.id".into(), MESSAGE.into()),
                ("event.metadata.k\\u0000".into(), format!("names {MESSAGE}")),
            ]
        );
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_nul() {
        // The text `\u0000` (backslash, u, zeros) written with an escaped backslash.
        assert!(fields(r#"{"name":"a\\u0000b"}"#).is_empty());
        assert!(fields(r#"{"name":"plain","n":[1,2,{"x":null}]}"#).is_empty());
    }

    #[test]
    fn a_top_level_string_is_the_body() {
        assert_eq!(fields(r#""\u0000""#), vec![("body".into(), MESSAGE.into())]);
    }

    #[test]
    fn reports_at_most_a_bounded_number_of_fields() {
        let many: Vec<Value> = (0..1000).map(|_| json!("\u{0}")).collect();
        let raw = serde_json::to_string(&json!({ "a": many })).unwrap();
        assert_eq!(fields(&raw).len(), MAX_REPORTED);
    }

    #[test]
    fn names_query_parameters_with_nul() {
        let errors = query_errors([("organization_id", "org\0"), ("limit", "10"), ("a\0", "")]);
        let names: Vec<String> = errors.0.into_iter().map(|e| e.field).collect();
        assert_eq!(names, vec!["organization_id", "a\\u0000"]);
    }
}
