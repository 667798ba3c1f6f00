//! `GET /health`: 200 once the server accepts requests. No authentication.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = Health)]
pub struct Health {
    #[schema(inline)]
    status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
enum HealthStatus {
    #[serde(rename = "ok")]
    Ok,
}

/// Liveness
///
/// 200 once the server accepts requests. No API key.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "getHealth",
    tag = "meta",
    extensions(("x-auditlog-extension" = json!(true))),
    responses((status = 200, description = "Up.", body = Health, example = json!({"status": "ok"}))),
)]
pub async fn get_health() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}
