//! The WorkOS list envelope: `{"object":"list","data":[…],"list_metadata":{"before","after"}}`.

use auditlog_domain::pagination::Page;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// One page of `T`s.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T: ToSchema> {
    #[schema(inline)]
    object: ListObject,
    data: Vec<T>,
    list_metadata: ListMetadata,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) enum ListObject {
    #[serde(rename = "list")]
    List,
}

/// `after` is set when more items follow this page, `before` when items precede it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMetadata {
    /// An opaque cursor; pass it back as `before`.
    #[schema(required = true)]
    before: Option<String>,
    /// An opaque cursor; pass it back as `after`.
    #[schema(required = true)]
    after: Option<String>,
}

impl<T: ToSchema> List<T> {
    /// The page, each item rendered as its view.
    pub fn of<R>(page: &Page<R>, render: impl Fn(&R) -> T) -> List<T> {
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

/// The paging parameters every list takes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; `auditlog_domain::pagination` parses them.
pub struct PageParams {
    /// Page size; an empty value means the default.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
    /// Opaque cursor: the items before this one. Not with `after`; an empty or literal `null`
    /// value is ignored.
    before: Option<String>,
    /// Opaque cursor: the items after this one. Not with `before`; an empty or literal `null`
    /// value is ignored.
    after: Option<String>,
    /// `desc` (newest first, default), `asc`, or `normal` (newest first with reversed cursors:
    /// `after` fetches newer items, `before` older ones). An empty value means the default.
    #[param(value_type = Option<String>, pattern = "^(desc|asc|normal)?$", default = "desc")]
    order: Option<String>,
}
