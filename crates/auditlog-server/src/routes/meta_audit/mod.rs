//! `GET /audit_logs/meta_audit` (extension): where this environment's meta-audit trail is.

use crate::auth::Environment;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json};
use serde_json::{json, Value};

pub async fn get_meta_audit_trail(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
) -> Result<Json<Value>, ApiError> {
    let organization_id = if state.meta_audit.enabled() {
        Some(state.meta_audit.organization(environment.name()).await?)
    } else {
        None
    };
    Ok(Json(json!({
        "object": "meta_audit_trail",
        "enabled": state.meta_audit.enabled(),
        "organization_id": organization_id,
    })))
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/audit_logs/meta_audit", get(get_meta_audit_trail))
}
