//! `POST /audit_logs/exports` → 201 with a pending export; a background job produces the file.

use super::view::export_json;
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::jobs::{export, EXPORT_JOB};
use crate::meta_audit::MetaActor;
use crate::state::AppState;
use auditlog_domain::export::{ExportRequest, ExportRequestError};
use auditlog_domain::ids::new_id;
use auditlog_store::{ExportRecord, ExportState, NewJob};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn create_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = ExportRequest::parse(&body).map_err(|error| match error {
        ExportRequestError::Fields(errors) => ApiError::Validation(errors),
        ExportRequestError::Range(message) => ApiError::BadRequest {
            code: "invalid_audit_log_export_range_date",
            message,
        },
    })?;
    if state
        .store
        .get_organization(environment.name(), &request.organization_id)
        .await?
        .is_none()
    {
        return Err(ApiError::organization_not_found(&request.organization_id));
    }
    // The export's cut: the events stored so far, whatever commits while it runs.
    let mut filters = request.filters;
    let stored = state.store.log_leaf_count(&request.organization_id).await?;
    filters.max_sequence = Some(stored.unwrap_or(0) - 1);
    let now = now_micros();
    let record = ExportRecord {
        id: new_id("audit_log_export"),
        environment: environment.name().to_string(),
        organization_id: request.organization_id,
        state: ExportState::Pending,
        filters,
        blob_key: None,
        row_count: None,
        byte_count: None,
        error: None,
        created_at: now,
        updated_at: now,
        file_expires_at: None,
    };
    let job = NewJob {
        id: new_id("job"),
        kind: EXPORT_JOB.to_string(),
        payload: export::payload(environment.name(), &record.id),
        run_after: now,
    };
    state.store.create_export(&record, &job).await?;
    state.jobs_wakeup.notify_one();
    let actor = MetaActor {
        id: environment.key_id(),
        kind: "api_key",
    };
    let targets = [
        (record.organization_id.as_str(), "organization"),
        (record.id.as_str(), "audit_log_export"),
    ];
    let filters = serde_json::to_string(&record.filters).unwrap_or_default();
    state
        .meta_audit
        .record(
            environment.name(),
            "auditlog.export.created",
            actor,
            &targets,
            &[("filters", filters)],
        )
        .await?;
    Ok((StatusCode::CREATED, Json(export_json(&record, None))))
}
