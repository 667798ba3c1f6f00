//! `GET /audit_logs/meta_audit` (extension): where this environment's meta-audit trail is.

use crate::auth::Environment;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, ToSchema)]
enum MetaAuditObject {
    #[serde(rename = "meta_audit_trail")]
    MetaAuditTrail,
}

/// Reading events, creating exports and downloading export files are recorded as ordinary
/// audit events of a per-environment organization, read through the same API
/// (`GET /audit_logs/events?organization_id=…`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MetaAuditTrail)]
pub struct MetaAuditTrailView {
    #[schema(inline)]
    object: MetaAuditObject,
    /// `false` when the server runs with `--meta-audit false`.
    enabled: bool,
    /// The environment's meta-audit organization (external id `auditlog-meta-audit`), created
    /// on first use; null when disabled.
    #[schema(required = true)]
    organization_id: Option<String>,
}

/// Where the meta-audit trail is
///
/// The organization whose events record reads of events, export creations and export
/// downloads in this environment. Reads of the meta-audit trail itself are not recorded.
#[utoipa::path(
    get,
    path = "/audit_logs/meta_audit",
    operation_id = "getMetaAuditTrail",
    tag = "events",
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "The meta-audit trail.", body = MetaAuditTrailView)),
)]
pub async fn get_meta_audit_trail(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
) -> Result<Json<MetaAuditTrailView>, ApiError> {
    let organization_id = if state.meta_audit.enabled() {
        Some(state.meta_audit.organization(environment.name()).await?)
    } else {
        None
    };
    Ok(Json(MetaAuditTrailView {
        object: MetaAuditObject::MetaAuditTrail,
        enabled: state.meta_audit.enabled(),
        organization_id,
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(get_meta_audit_trail))
}
