//! `POST /portal/revoke_link` → 204: ends every Admin Portal link and session generated for an
//! admin (`external_user_id`) of an organization, as when that admin leaves the application.

use crate::auth::Environment;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"organization": "org_01EHZNVPK3SFK441A1RGBFSHRT", "external_user_id": "user_2941"}))]
#[allow(dead_code)] // Describes the body; `revoke_portal_link` reads it field by field.
pub struct RevokeLinkRequest {
    #[schema(min_length = 1)]
    organization: String,
    /// The id the links were generated with.
    #[schema(min_length = 1)]
    external_user_id: String,
}

fn required_text(body: &Value, name: &str, errors: &mut FieldErrors) -> String {
    match body.get(name) {
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            errors.push(name, "required", format!("{name} is required"));
            String::new()
        }
        Some(_) => {
            errors.push(name, "invalid_type", format!("{name} must be a string"));
            String::new()
        }
    }
}

/// Revoke an admin's portal links and sessions
///
/// Every link generated with this `external_user_id` for the organization stops working, and
/// every session opened from one ends at once. 204 also when there was none. Recorded in the
/// meta-audit trail.
#[utoipa::path(
    post,
    path = "/portal/revoke_link",
    operation_id = "revokePortalLink",
    tag = "admin portal",
    request_body = RevokeLinkRequest,
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, response = NotFound),
    ),
)]
pub async fn revoke_portal_link(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let mut errors = FieldErrors::default();
    if !body.is_object() {
        errors.push("body", "invalid_type", "the body must be a JSON object");
        return Err(ApiError::Validation(errors));
    }
    let organization_id = required_text(&body, "organization", &mut errors);
    let external_user_id = required_text(&body, "external_user_id", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let env = environment.name();
    if state
        .store
        .get_organization(env, &organization_id)
        .await?
        .is_none()
    {
        return Err(ApiError::organization_not_found(&organization_id));
    }
    let removed = state
        .store
        .revoke_portal_access(env, &organization_id, &external_user_id)
        .await?;
    let targets = [(organization_id.as_str(), "organization")];
    state
        .meta_audit
        .record(
            env,
            "auditlog.portal_access.revoked",
            environment.meta_actor(),
            &targets,
            &[
                ("external_user_id", external_user_id),
                ("links_and_sessions", removed.to_string()),
            ],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
