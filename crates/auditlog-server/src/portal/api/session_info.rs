//! `GET /portal/api/session`: what the page needs to know about its session (never the cookie);
//! `POST /portal/api/logout`: ends it.

use crate::portal::session::{cookie, cookie_token};
use crate::routes::timestamp::Timestamp;
use crate::state::AppState;
use crate::tokens;
use auditlog_store::PortalSession;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

#[derive(Serialize)]
pub struct SessionView {
    organization: OrganizationSummary,
    intent: String,
    /// Sent back in `X-CSRF-Token` on every state-changing request.
    csrf_token: String,
    return_url: Option<String>,
    success_url: Option<String>,
    /// When the session ends at the latest.
    expires_at: Timestamp,
    /// Seconds without a request after which it ends.
    idle_timeout_secs: i64,
    /// The organization's newest sequence now (-1: no events): where the viewer's live tail
    /// starts.
    last_sequence: i64,
}

#[derive(Serialize)]
struct OrganizationSummary {
    id: String,
    name: String,
}

pub async fn get_session(
    State(state): State<AppState>,
    Extension(session): Extension<PortalSession>,
) -> Result<Json<SessionView>, crate::error::ApiError> {
    let name = state
        .store
        .get_organization(&session.environment, &session.organization_id)
        .await?
        .map(|organization| organization.name)
        .unwrap_or_default();
    let stored = state
        .store
        .log_leaf_count(&session.organization_id)
        .await?
        .unwrap_or(0);
    Ok(Json(SessionView {
        organization: OrganizationSummary {
            id: session.organization_id,
            name,
        },
        intent: session.intent,
        csrf_token: session.csrf_token,
        return_url: session.return_url,
        success_url: session.success_url,
        expires_at: Timestamp::from_micros(session.expires_at),
        idle_timeout_secs: state.config.portal.portal_session_idle_secs,
        last_sequence: stored - 1,
    }))
}

pub async fn end_session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie_token(&headers) {
        if let Err(error) = state
            .store
            .delete_portal_session(&tokens::hash(value))
            .await
        {
            return crate::error::ApiError::from(error).into_response();
        }
    }
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie(&state, "", 0))],
    )
        .into_response()
}
