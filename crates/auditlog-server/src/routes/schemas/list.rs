//! `GET /audit_logs/actions/{action}/schemas`: versions of one action, newest first by default.

use super::view::{ActionPath, SchemaView};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::openapi::responses::NotFound;
use crate::routes::list::{List, PageParams};
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use axum::extract::State;
use axum::{Extension, Json};

/// List an action's schema versions
///
/// Newest first by default; 404 for an unknown action.
#[utoipa::path(
    get,
    path = "/audit_logs/actions/{action}/schemas",
    operation_id = "listSchemas",
    tag = "schemas",
    extensions(("x-workos-operation-id" = json!("AuditLogValidatorVersionsController_schemas"))),
    params(ActionPath, PageParams),
    responses(
        (status = 200, description = "A page of schema versions.", body = List<SchemaView>),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list_schemas(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(action): PathId,
    QueryMap(query): QueryMap,
) -> Result<Json<List<SchemaView>>, ApiError> {
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
    Ok(Json(List::of(&page, SchemaView::new)))
}
