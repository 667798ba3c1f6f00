//! `GET /audit_logs/actions`: every action with its latest schema, newest first by default.

use super::view::action_json;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::routes::list::list_json;
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn list_actions(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    QueryMap(query): QueryMap,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(&query).map_err(ApiError::Validation)?;
    let plan = params.plan();
    let rows = state.store.list_actions(environment.name(), &plan).await?;
    let page = plan.finish(rows, |action| action.id.clone());
    Ok(list_json(&page, action_json))
}
