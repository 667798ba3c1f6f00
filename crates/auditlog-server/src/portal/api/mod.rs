//! The JSON routes the portal's pages call, under `/portal/api`. Every one passes
//! [`super::session::require`] first, which pins it to the session's organization and intent;
//! most then run the API's own handler in the session's environment, so the portal reads,
//! exports and configures exactly as the API does and is recorded the same way.

mod events;
mod exports;
mod log;
mod search;
mod session_info;
mod tail;

use super::session::{require, Guard};
use crate::routes::log_streams::{create, delete, get, test_event, update};
use crate::state::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::{get as get_route, post};
use axum::Router;

const ORG: &str = "/portal/api/organizations/{organization_id}";

/// Records a listing of the session's organization on the meta-audit trail, as the read API
/// records its own (`auditlog.events.listed`), with what was asked.
async fn record_listing(
    state: &AppState,
    environment: &crate::auth::Environment,
    organization_id: &str,
    details: &[(&str, String)],
) -> Result<(), crate::error::ApiError> {
    state
        .meta_audit
        .record(
            environment.name(),
            "auditlog.events.listed",
            environment.meta_actor(),
            &[(organization_id, "organization")],
            details,
        )
        .await
}

fn guarded(
    router: Router<AppState>,
    state: &AppState,
    intent: Option<&'static str>,
) -> Router<AppState> {
    let guard = Guard {
        state: state.clone(),
        intent,
    };
    router.route_layer(from_fn_with_state(guard, require))
}

pub fn router(state: &AppState) -> Router<AppState> {
    let session = Router::new()
        .route("/portal/api/session", get_route(session_info::get_session))
        .route("/portal/api/logout", post(session_info::end_session));
    let audit_logs = Router::new()
        .route(&format!("{ORG}/events"), get_route(events::list_events))
        .route(
            &format!("{ORG}/events/{{event_id}}"),
            get_route(events::get_event),
        )
        .route(
            &format!("{ORG}/events/{{event_id}}/inclusion_proof"),
            get_route(events::get_inclusion_proof),
        )
        .route(
            &format!("{ORG}/log/checkpoint"),
            get_route(log::get_checkpoint),
        )
        .route(
            &format!("{ORG}/log/consistency_proof"),
            get_route(log::get_consistency_proof),
        )
        .route(
            &format!("{ORG}/log/redactions"),
            get_route(log::list_redactions),
        )
        .route(
            &format!("{ORG}/log/tlog/tile/{{*tile_path}}"),
            get_route(log::get_tile),
        )
        .route(&format!("{ORG}/exports"), post(exports::create_export))
        .route(
            &format!("{ORG}/exports/{{export_id}}"),
            get_route(exports::get_export),
        );
    let log_streams = Router::new()
        .route(
            &format!("{ORG}/log_streams"),
            get_route(get::list_log_streams).post(create::create_log_stream),
        )
        .route(
            &format!("{ORG}/log_streams/{{stream_id}}"),
            get_route(get::get_log_stream)
                .patch(update::update_log_stream)
                .delete(delete::delete_log_stream),
        )
        .route(
            &format!("{ORG}/log_streams/{{stream_id}}/test"),
            post(test_event::send_log_stream_test),
        );
    guarded(session, state, None)
        .merge(guarded(audit_logs, state, Some("audit_logs")))
        .merge(guarded(log_streams, state, Some("log_streams")))
}
