//! Types every resource's answers share: the WorkOS list envelope
//! (`{"object":"list","data":[…],"list_metadata":{"before","after"}}`) and timestamps.

use auditlog_domain::pagination::Page;
use auditlog_domain::timestamp::{format_millis, from_micros};
use serde::Serialize;
use utoipa::ToSchema;

/// ISO 8601 in UTC with exactly three fractional digits and `Z`, e.g. `2026-01-15T12:00:00.000Z`.
#[derive(Serialize, ToSchema, Clone, Debug)]
#[schema(
    value_type = String,
    format = DateTime,
    pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
    example = "2026-01-15T12:00:00.000Z"
)]
pub struct Timestamp(String);

impl Timestamp {
    /// From the store's microseconds since the epoch.
    pub fn from_micros(micros: i64) -> Timestamp {
        Timestamp(format_millis(from_micros(micros)))
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListObject {
    List,
}

/// `after` is set when more items follow this page, `before` when items precede it. Both are
/// opaque cursors to pass back as `before`/`after`.
#[derive(Serialize, ToSchema)]
pub struct ListMetadata {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub object: ListObject,
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

impl<T> List<T> {
    /// A page of stored items, each rendered as its API object.
    pub fn of<S>(page: &Page<S>, render: impl Fn(&S) -> T) -> List<T> {
        List {
            object: ListObject::List,
            data: page.data.iter().map(render).collect(),
            list_metadata: ListMetadata {
                before: page.before.clone(),
                after: page.after.clone(),
            },
        }
    }
}
