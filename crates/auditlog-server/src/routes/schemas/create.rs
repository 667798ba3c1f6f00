//! `POST /audit_logs/actions/{action}/schemas`: 201 with a new version, or 200 with the latest
//! version when the submitted schema is identical to it (versions are immutable).

use super::view::{schema_json, valid_action_name};
use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;
use auditlog_domain::ids::new_id;
use auditlog_domain::schema::ActionSchema;
use auditlog_domain::FieldErrors;
use auditlog_store::NewSchema;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::Value;

pub async fn create_schema(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(action): PathId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    Ok((status, Json(schema_json(&record))))
}
