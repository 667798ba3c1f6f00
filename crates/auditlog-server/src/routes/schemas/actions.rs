//! `GET /audit_logs/actions`: every action with its latest schema, newest first by default.

use super::view::ActionView;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::routes::list::{List, PageParams};
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use axum::extract::State;
use axum::{Extension, Json};

/// List actions
///
/// Every action with its latest schema, newest first by default.
#[utoipa::path(
    get,
    path = "/audit_logs/actions",
    operation_id = "listActions",
    tag = "schemas",
    extensions(("x-workos-operation-id" = json!("AuditLogValidatorsController_list"))),
    params(PageParams),
    responses((status = 200, description = "A page of actions.", body = List<ActionView>)),
)]
pub async fn list_actions(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    QueryMap(query): QueryMap,
) -> Result<Json<List<ActionView>>, ApiError> {
    let params = ListParams::parse(&query).map_err(ApiError::Validation)?;
    let plan = params.plan();
    let rows = state.store.list_actions(environment.name(), &plan).await?;
    let page = plan.finish(rows, |action| action.id.clone());
    Ok(Json(List::of(&page, ActionView::new)))
}
