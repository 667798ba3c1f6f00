//! The viewer's export: the page's filters, cut and written by the API's export job; its
//! progress (rows written so far) and, once ready, its download link.

use crate::auth::Environment;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::extract::PathIds;
use crate::routes::exports::{create, view::download_url};
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use auditlog_store::PortalSession;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;

/// `POST …/exports` with the export body's filters; the organization is the session's.
pub async fn create_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    JsonBody(mut body): JsonBody,
) -> Response {
    let Value::Object(members) = &mut body else {
        let mut errors = FieldErrors::default();
        errors.push("body", "invalid_type", "the body must be a JSON object");
        return ApiError::Validation(errors).into_response();
    };
    members.insert(
        "organization_id".into(),
        Value::String(session.organization_id.clone()),
    );
    create::create_export(State(state), Extension(environment), JsonBody(body))
        .await
        .into_response()
}

#[derive(Serialize)]
pub struct PortalExportView {
    id: String,
    /// `pending`, `ready`, `error` or `expired`.
    state: &'static str,
    /// Rows written so far while pending; all of them once ready.
    rows: Option<i64>,
    bytes: Option<i64>,
    url: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

pub async fn get_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    PathIds(_, export_id): PathIds,
) -> Result<Json<PortalExportView>, ApiError> {
    let export = state
        .store
        .get_export(environment.name(), &export_id)
        .await?
        .filter(|export| export.organization_id == session.organization_id)
        .ok_or_else(|| ApiError::NotFound(format!("Audit Log Export not found: '{export_id}'.")))?;
    let url = download_url(&state, &export).await?;
    Ok(Json(PortalExportView {
        id: export.id.clone(),
        state: export.state.as_str(),
        rows: export.row_count,
        bytes: export.byte_count,
        url,
        created_at: Timestamp::from_micros(export.created_at),
        updated_at: Timestamp::from_micros(export.updated_at),
    }))
}
