//! `POST /organizations/{id}/legal_hold` places a hold, `DELETE` releases it (extension). Both
//! take `{"reason": "…"}` and are recorded with the API key that did it. While a hold is on,
//! retention deletes nothing of the organization and its export files do not expire.

use super::get::load_legal_hold;
use super::view::{LegalHoldChangeRequest, LegalHoldView};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::{Conflict, NotFound};
use crate::routes::organizations::view::OrganizationPath;
use crate::state::AppState;
use auditlog_domain::ids::new_id;
use auditlog_domain::FieldErrors;
use auditlog_store::{LegalHoldChange, LegalHoldEntry};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::Value;

const MAX_REASON_CHARS: usize = 1000;

fn reason(body: &Value) -> Result<String, ApiError> {
    match body.get("reason").and_then(Value::as_str).map(str::trim) {
        Some(reason) if !reason.is_empty() && reason.chars().count() <= MAX_REASON_CHARS => {
            Ok(reason.to_string())
        }
        _ => {
            let mut errors = FieldErrors::default();
            errors.push(
                "reason",
                "required",
                format!("reason is required (1 to {MAX_REASON_CHARS} characters)"),
            );
            Err(ApiError::Validation(errors))
        }
    }
}

async fn change(
    state: &AppState,
    environment: &Environment,
    id: &str,
    action: &str,
    body: &Value,
) -> Result<Json<LegalHoldView>, ApiError> {
    let entry = LegalHoldEntry {
        id: new_id("lgh"),
        environment: environment.name().to_string(),
        organization_id: id.to_string(),
        action: action.to_string(),
        reason: reason(body)?,
        actor: environment.key_id().to_string(),
        at: now_micros(),
    };
    match state.store.change_legal_hold(&entry).await? {
        LegalHoldChange::Changed => {
            tracing::info!(organization_id = id, action, actor = %entry.actor, "legal hold changed");
            Ok(Json(load_legal_hold(state, environment.name(), id).await?))
        }
        LegalHoldChange::Unchanged => Err(ApiError::Conflict {
            code: "legal_hold_unchanged",
            message: if action == "placed" {
                format!("Organization '{id}' is already on legal hold.")
            } else {
                format!("Organization '{id}' is not on legal hold.")
            },
        }),
        LegalHoldChange::OrganizationNotFound => Err(ApiError::organization_not_found(id)),
    }
}

/// Place a legal hold
///
/// While a hold is on, retention deletes nothing of the organization and its export files do
/// not expire. Placing a hold that is already on is a 409.
#[utoipa::path(
    post,
    path = "/organizations/{organization_id}/legal_hold",
    operation_id = "placeLegalHold",
    tag = "legal hold",
    extensions(("x-auditlog-extension" = json!(true))),
    params(OrganizationPath),
    request_body = LegalHoldChangeRequest,
    responses(
        (status = 201, description = "Placed.", body = LegalHoldView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn place_legal_hold(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<LegalHoldView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        change(&state, &environment, &id, "placed", &body).await?,
    ))
}

/// Release the legal hold
///
/// Releasing a hold that is not on is a 409.
#[utoipa::path(
    delete,
    path = "/organizations/{organization_id}/legal_hold",
    operation_id = "releaseLegalHold",
    tag = "legal hold",
    extensions(("x-auditlog-extension" = json!(true))),
    params(OrganizationPath),
    request_body = LegalHoldChangeRequest,
    responses(
        (status = 200, description = "Released.", body = LegalHoldView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn release_legal_hold(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Json<LegalHoldView>, ApiError> {
    change(&state, &environment, &id, "released", &body).await
}
