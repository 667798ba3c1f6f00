//! `GET /health`: 200 once the server accepts requests. No authentication.

use crate::state::AppState;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

/// Liveness
///
/// 200 `{"status":"ok"}` once the server accepts requests.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "getHealth",
    tag = "meta",
    security(()),
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "The server is up.", body = Health))
)]
pub async fn get_health() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_health))
}
