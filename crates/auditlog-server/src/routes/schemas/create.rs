//! `POST /audit_logs/actions/{action}/schemas`: 201 with a new version, or 200 with the latest
//! version when the submitted schema is identical to it (versions are immutable).

use super::view::{
    valid_action_name, ActionPath, JsonSchemaObject, SchemaActor, SchemaTarget, SchemaView,
};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use auditlog_domain::ids::new_id;
use auditlog_domain::schema::ActionSchema;
use auditlog_domain::FieldErrors;
use auditlog_store::NewSchema;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;

/// The body of a new schema version. `ActionSchema::parse` validates it field by field, so a
/// client learns every bad field at once.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"targets": [{"type": "team", "metadata": {"type": "object", "properties": {"plan": {"type": "string"}}}}], "actor": {"metadata": {"type": "object", "properties": {"role": {"type": "string"}}}}}))]
#[allow(dead_code)] // Describes the body; the domain parses it.
pub struct CreateSchemaRequest {
    /// Unique target types.
    #[schema(min_items = 1, max_items = 50)]
    targets: Vec<SchemaTarget>,
    actor: Option<SchemaActor>,
    metadata: Option<JsonSchemaObject>,
}

/// Create a schema version
///
/// Creates the action if new. A schema different from the latest becomes version N+1 (201);
/// one identical to the latest (compared as canonical JSON) creates nothing and answers 200
/// with the latest.
#[utoipa::path(
    post,
    path = "/audit_logs/actions/{action}/schemas",
    operation_id = "createSchema",
    tag = "schemas",
    extensions(("x-workos-operation-id" = json!("AuditLogValidatorVersionsController_create"))),
    params(ActionPath),
    request_body = CreateSchemaRequest,
    responses(
        (status = 201, description = "A new version.", body = SchemaView),
        (status = 200, description = "Identical to the latest version, which is returned.",
            body = SchemaView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn create_schema(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(action): PathId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<SchemaView>), ApiError> {
    if !valid_action_name(&action) {
        let mut errors = FieldErrors::default();
        errors.push(
            "action",
            "invalid_value",
            "action names are 1 to 1000 printable characters",
        );
        return Err(ApiError::Validation(errors));
    }
    let schema = ActionSchema::parse(&body).map_err(ApiError::Validation)?;
    let new = NewSchema {
        environment: environment.name().to_string(),
        action: action.clone(),
        document: schema.to_json(),
        fingerprint: schema.fingerprint(),
        action_id: new_id("ala"),
        schema_id: new_id("als"),
        now: now_micros(),
    };
    let (record, created) = state.store.add_schema_version(&new).await?;
    state
        .schema_cache
        .schema_created(environment.name(), &action);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(SchemaView::new(&record))))
}
