//! `GET /audit_logs/actions/{action}/schemas`: versions of one action, newest first by default.

use super::view::schema_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::routes::list::list_json;
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn list_schemas(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(action): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(&query).map_err(ApiError::Validation)?;
    if state
        .store
        .get_action(environment.name(), &action)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "Audit Log Action not found: '{action}'."
        )));
    }
    let plan = params.plan();
    let rows = state
        .store
        .list_schemas(environment.name(), &action, &plan)
        .await?;
    let page = plan.finish(rows, |schema| schema.id.clone());
    Ok(list_json(&page, schema_json))
}
