//! `GET /.well-known/auditlog/log-key` (extension, no API key): the deployment's signed-note
//! verifier key, `<name>+<key id>+<base64 key>`, as plain text. Checkpoints and export
//! manifests verify against it (`auditlog verify --key`).

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn get_log_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", state.tlog.verifier_key()),
    )
}
