//! The portal's pages: opening a link (which becomes a session cookie and a redirect to a URL
//! without the token), the viewer and stream pages, and the notices shown instead when a link
//! or session no longer works. Pages are HTML from the binary; their scripts fill them.

use super::assets::{AUDIT_LOGS_PAGE, LOG_STREAMS_PAGE, NOTICE_PAGE};
use super::session::{self, SessionRefusal};
use crate::clock::now_micros;
use crate::extract::QueryMap;
use crate::state::AppState;
use crate::tokens;
use auditlog_domain::ids::new_id;
use auditlog_store::PortalSession;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

fn page_for(intent: &str) -> &'static str {
    if intent == "log_streams" {
        "/portal/log-streams"
    } else {
        "/portal/audit-logs"
    }
}

/// Replaces the characters that could start markup; the notices' texts are our own, but
/// nothing reaches a page unescaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn notice(status: StatusCode, title: &str, text: &str) -> Response {
    let body = NOTICE_PAGE
        .replace("{{title}}", &escape(title))
        .replace("{{text}}", &escape(text));
    (status, Html(body)).into_response()
}

fn session_ended() -> Response {
    notice(
        StatusCode::UNAUTHORIZED,
        "Your session has ended",
        "Portal sessions end after a period without activity, and at the latest some hours \
         after they start. Open the portal again from your application to get a new link.",
    )
}

/// `GET /portal/launch?secret=…`: opens a link once. The answer sets the session cookie and
/// sends the browser on to the page without the token in its URL.
pub async fn launch(State(state): State<AppState>, QueryMap(query): QueryMap) -> Response {
    let refused = || {
        notice(
            StatusCode::FORBIDDEN,
            "This link cannot be used",
            "Portal links work once and only for a few minutes, and this one has expired or \
             was already used. Open the portal again from your application to get a new link.",
        )
    };
    let Some(secret) = query.get("secret").filter(|s| !s.is_empty()) else {
        return refused();
    };
    let now = now_micros();
    let link = match state
        .store
        .redeem_portal_link(&tokens::hash(secret), now)
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => return refused(),
        Err(error) => return crate::error::ApiError::from(error).into_response(),
    };
    let portal = &state.config.portal;
    let cookie_value = tokens::new_token();
    let session = PortalSession {
        token_hash: tokens::hash(&cookie_value),
        id: new_id("portal_session"),
        environment: link.environment,
        organization_id: link.organization_id,
        intent: link.intent,
        return_url: link.return_url,
        success_url: link.success_url,
        external_user_id: link.external_user_id,
        csrf_token: tokens::new_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + portal.portal_session_max_secs * 1_000_000,
    };
    if let Err(error) = state.store.create_portal_session(&session).await {
        return crate::error::ApiError::from(error).into_response();
    }
    let targets = [(session.organization_id.as_str(), "organization")];
    let caller = crate::auth::Environment::portal_session(&session.environment, &session.id);
    if let Err(error) = state
        .meta_audit
        .record(
            &session.environment,
            "auditlog.portal_session.started",
            caller.meta_actor(),
            &targets,
            &[("intent", session.intent.clone())],
        )
        .await
    {
        return error.into_response();
    }
    (
        [(
            header::SET_COOKIE,
            session::cookie(&state, &cookie_value, portal.portal_session_max_secs),
        )],
        Redirect::to(page_for(&session.intent)),
    )
        .into_response()
}

/// The page of `intent`, if the request has a live session of that intent.
async fn intent_page(
    state: &AppState,
    headers: &HeaderMap,
    intent: &str,
    page: &'static str,
) -> Response {
    match session::current(state, headers).await {
        Ok(session) if session.intent == intent => Html(page).into_response(),
        Ok(session) => Redirect::to(page_for(&session.intent)).into_response(),
        Err(SessionRefusal::Ended) => session_ended(),
        Err(SessionRefusal::Store(error)) => error.into_response(),
    }
}

pub async fn audit_logs_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    intent_page(&state, &headers, "audit_logs", AUDIT_LOGS_PAGE).await
}

pub async fn log_streams_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    intent_page(&state, &headers, "log_streams", LOG_STREAMS_PAGE).await
}

/// `GET /portal`: the session's page, or the notice that it has ended.
pub async fn open_portal(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::current(&state, &headers).await {
        Ok(session) => Redirect::to(page_for(&session.intent)).into_response(),
        Err(SessionRefusal::Ended) => session_ended(),
        Err(SessionRefusal::Store(error)) => error.into_response(),
    }
}

pub async fn signed_out_page() -> Response {
    notice(
        StatusCode::OK,
        "You are signed out",
        "Your portal session has ended. Open the portal again from your application to \
         continue.",
    )
}
