//! Field-level validation errors, reported as WorkOS does: `{"field": "event.action", "code": "required"}`.

use serde::Serialize;

/// One problem with one field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `event.actor.id` or `targets.0.type`.
    pub field: String,
    /// `required`, `invalid_type`, `invalid_value`, `too_long`, `too_many_items`,
    /// `invalid_key`, …
    pub code: String,
    /// A human sentence saying what is wrong.
    pub message: String,
}

/// Every problem found in one request body (validation does not stop at the first one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, the errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}
