//! The timestamps of every object we answer with: ISO 8601 in UTC with exactly three fractional
//! digits and `Z`, as WorkOS writes them.

use auditlog_domain::timestamp::{format_millis, from_micros};
use serde::Serialize;
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// From microseconds since the epoch, as stored.
    pub fn from_micros(micros: i64) -> Timestamp {
        Timestamp(format_millis(from_micros(micros)))
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .pattern(Some(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"))
            .description(Some(
                "ISO 8601 in UTC with exactly three fractional digits and `Z`, e.g. \
                 `2026-01-15T12:00:00.000Z`.",
            ))
            .examples(["2026-01-15T12:00:00.000Z"])
            .into()
    }
}

impl ToSchema for Timestamp {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timestamp")
    }
}
