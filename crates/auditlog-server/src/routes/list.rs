//! The WorkOS list envelope: `{"object":"list","data":[…],"list_metadata":{"before","after"}}`.

use auditlog_domain::pagination::Page;
use axum::Json;
use serde_json::{json, Value};

pub fn list_json<T>(page: &Page<T>, render: impl Fn(&T) -> Value) -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": page.data.iter().map(render).collect::<Vec<_>>(),
        "list_metadata": {"before": page.before, "after": page.after},
    }))
}
