//! `POST /organizations` → 201 Organization.

use super::fields::OrganizationChanges;
use super::request::CreateOrganizationRequest;
use super::view::OrganizationView;
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::meta_audit::{reserved_external_id, META_EXTERNAL_ID};
use crate::openapi::responses::Conflict;
use crate::state::AppState;
use auditlog_domain::ids::{new_id, ORGANIZATION_PREFIX};
use auditlog_store::Organization;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::Map;

/// Create an organization
#[utoipa::path(
    post,
    path = "/organizations",
    operation_id = "createOrganization",
    tag = "organizations",
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created.", body = OrganizationView),
        (status = 409, response = Conflict),
    ),
)]
pub async fn create_organization(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<OrganizationView>), ApiError> {
    let changes = OrganizationChanges::parse(&body, true).map_err(ApiError::Validation)?;
    if changes.sets_external_id(META_EXTERNAL_ID) {
        return Err(reserved_external_id());
    }
    let now = now_micros();
    let mut organization = Organization {
        id: new_id(ORGANIZATION_PREFIX),
        environment: environment.name().to_string(),
        name: String::new(),
        external_id: None,
        metadata: Map::new(),
        domains: Vec::new(),
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: now,
        updated_at: now,
    };
    changes.apply(&mut organization, now);
    state.store.create_organization(&organization).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrganizationView::new(&organization)),
    ))
}
