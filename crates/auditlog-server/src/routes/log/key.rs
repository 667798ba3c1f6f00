//! `GET /.well-known/auditlog/log-key` (extension, no API key): the deployment's signed-note
//! verifier key, `<name>+<key id>+<base64 key>`, as plain text. Checkpoints and export
//! manifests verify against it (`auditlog verify --key`).

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// The log's verifier key
///
/// The deployment's signed-note verifier key, `<name>+<key id>+<base64 key>` and a newline, as
/// plain text. Checkpoints and export bundles verify against it (`auditlog verify --key`). No
/// API key.
#[utoipa::path(
    get,
    path = "/.well-known/auditlog/log-key",
    operation_id = "getLogKey",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    responses((
        status = 200,
        description = "The verifier key.",
        content_type = "text/plain",
        body = String,
    )),
)]
pub async fn get_log_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", state.tlog.verifier_key()),
    )
}
