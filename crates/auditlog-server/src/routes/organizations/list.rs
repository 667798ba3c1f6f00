//! `GET /organizations`: the WorkOS list envelope, newest first by default.
//! The `domains` and `search` filters of WorkOS are not supported and answer 422, rather than
//! silently returning unfiltered results.

use super::view::OrganizationView;
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::routes::list::{List, PageParams};
use crate::state::AppState;
use auditlog_domain::pagination::ListParams;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::{Extension, Json};

/// List organizations
///
/// The WorkOS `domains` and `search` filters are not supported and answer 422.
#[utoipa::path(
    get,
    path = "/organizations",
    operation_id = "listOrganizations",
    tag = "organizations",
    params(PageParams),
    responses((status = 200, description = "A page of organizations.", body = List<OrganizationView>)),
)]
pub async fn list_organizations(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    QueryMap(query): QueryMap,
) -> Result<Json<List<OrganizationView>>, ApiError> {
    for unsupported in ["domains", "search"] {
        if query.contains_key(unsupported) {
            let mut errors = FieldErrors::default();
            errors.push(
                unsupported,
                "unsupported",
                format!("filtering organizations by {unsupported} is not supported"),
            );
            return Err(ApiError::Validation(errors));
        }
    }
    let params = ListParams::parse(&query).map_err(ApiError::Validation)?;
    let plan = params.plan();
    let rows = state
        .store
        .list_organizations(environment.name(), &plan)
        .await?;
    let page = plan.finish(rows, |organization| organization.id.clone());
    Ok(Json(List::of(&page, OrganizationView::new)))
}
