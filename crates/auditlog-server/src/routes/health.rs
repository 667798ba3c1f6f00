//! `GET /health`: 200 once the server accepts requests. No authentication.

use axum::Json;
use serde_json::{json, Value};

pub async fn handler() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
