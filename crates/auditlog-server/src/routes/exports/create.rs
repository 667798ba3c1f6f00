//! `POST /audit_logs/exports` → 201 with a pending export; a background job produces the file.

use super::view::ExportView;
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::jobs::{export, EXPORT_JOB};
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use auditlog_domain::export::{ExportRequest, ExportRequestError};
use auditlog_domain::ids::new_id;
use auditlog_store::{ExportRecord, ExportState, NewJob};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;

/// The body of `POST /audit_logs/exports`. Filters combine with AND across fields, OR within
/// one; an empty or absent list is no filter. The domain (`ExportRequest::parse`) validates it
/// field by field, so that a client learns every bad field at once.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"organization_id": "org_01EHZNVPK3SFK441A1RGBFSHRT", "range_start": "2026-01-01T00:00:00.000Z", "range_end": "2026-02-01T00:00:00.000Z", "actions": ["user.signed_in"]}))]
#[allow(dead_code)] // Describes the body; the domain parses it.
pub struct CreateExportRequest {
    #[schema(min_length = 1)]
    organization_id: String,
    /// Inclusive; RFC 3339, any offset.
    #[schema(format = DateTime)]
    range_start: String,
    /// Exclusive; RFC 3339, any offset. Must not be before `range_start`.
    #[schema(format = DateTime)]
    range_end: String,
    /// Only these actions (OR). Empty or absent: no filter.
    #[schema(max_items = 100)]
    actions: Option<Vec<String>>,
    /// Only these actor names (OR).
    #[schema(max_items = 100)]
    actor_names: Option<Vec<String>>,
    /// Deprecated alias of `actor_names` (merged into it).
    #[schema(max_items = 100)]
    #[deprecated]
    actors: Option<Vec<String>>,
    /// Only these actor ids (OR).
    #[schema(max_items = 100)]
    actor_ids: Option<Vec<String>>,
    /// Only events with a target of one of these types (OR).
    #[schema(max_items = 100)]
    targets: Option<Vec<String>>,
}

/// Create an export
///
/// 201 with `state: pending`; a background job writes the CSV and the export becomes `ready`
/// (or `error`). Range `[range_start, range_end)`; an export matching nothing is `ready` with a
/// header-only file.
#[utoipa::path(
    post,
    path = "/audit_logs/exports",
    operation_id = "createExport",
    tag = "exports",
    extensions(("x-workos-operation-id" = json!("AuditLogExportsController_exports"))),
    request_body = CreateExportRequest,
    responses(
        (status = 201, description = "Created (pending).", body = ExportView,
            example = json!({"object": "audit_log_export", "id": "audit_log_export_01GBZK5MP7TD1YCFQHFR22180V", "state": "pending", "url": null, "created_at": "2026-01-15T12:00:00.000Z", "updated_at": "2026-01-15T12:00:00.000Z"})),
        (status = 404, response = NotFound),
    ),
)]
pub async fn create_export(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
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
    let actor = environment.meta_actor();
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
    Ok((StatusCode::CREATED, Json(ExportView::new(&record, None))))
}
