//! Portal sessions: the cookie a link's opening sets, the checks every portal request passes
//! (idle and absolute timeouts, the session's organization and intent, CSRF), and the
//! `Environment` a session acts in, so that the API's own handlers serve it.

use crate::auth::Environment;
use crate::clock::now_micros;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::tokens;
use auditlog_store::PortalSession;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "auditlog_portal";
/// The header a page sends its session's CSRF token in, on every state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Activity is written at most this often, so browsing is not a write per request.
const TOUCH_EVERY_MICROS: i64 = 15_000_000;
/// Sent by the pages' timers (live tail, stream refresh): such requests are not activity, so
/// a tab left open still ends its session after the idle timeout.
pub const BACKGROUND_HEADER: &str = "x-portal-background";

/// Why a request has no usable session.
pub enum SessionRefusal {
    /// No cookie, an unknown one, or one whose session timed out.
    Ended,
    Store(ApiError),
}

impl From<auditlog_store::StoreError> for SessionRefusal {
    fn from(error: auditlog_store::StoreError) -> Self {
        SessionRefusal::Store(error.into())
    }
}

pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The session the request's cookie belongs to, if it is still open; records activity.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<PortalSession, SessionRefusal> {
    let token = cookie_token(headers).ok_or(SessionRefusal::Ended)?;
    let hash = tokens::hash(token);
    let session = state
        .store
        .get_portal_session(&hash)
        .await?
        .ok_or(SessionRefusal::Ended)?;
    let now = now_micros();
    let idle = state.config.portal.portal_session_idle_secs * 1_000_000;
    if now >= session.expires_at || now - session.last_seen_at >= idle {
        state.store.delete_portal_session(&hash).await?;
        return Err(SessionRefusal::Ended);
    }
    let background = headers.contains_key(BACKGROUND_HEADER);
    if !background && now - session.last_seen_at >= TOUCH_EVERY_MICROS.min(idle / 4) {
        state.store.touch_portal_session(&hash, now).await?;
    }
    Ok(session)
}

/// The `Set-Cookie` value of a new session: HttpOnly, scoped to the portal's paths, `Secure`
/// when the server is reached over HTTPS. SameSite is Lax (the link arrives by a top-level
/// navigation from the app), or None when the portal may be framed by another site, which
/// browsers allow only with Secure.
pub fn cookie(state: &AppState, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = state.public_url.starts_with("https://");
    let framed = !state.config.portal.portal_frame_ancestors.is_empty();
    let same_site = if secure && framed { "None" } else { "Lax" };
    let mut text = format!(
        "{COOKIE}={value}; Path=/portal; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}"
    );
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are URL-safe base64")
}

pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        message: message.to_string(),
        code: code.to_string(),
    };
    (status, Json(body)).into_response()
}

pub fn ended() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "portal_session_ended",
        "The portal session has ended; open a new link from your application.",
    )
}

fn not_found() -> Response {
    ApiError::NotFound("Not found.".into()).into_response()
}

/// State-changing requests carry the session's CSRF token, and come from this origin when the
/// browser says where they come from.
fn csrf_ok(request: &Request, session: &PortalSession) -> bool {
    let headers = request.headers();
    let token = headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let token_ok: bool = token.ct_eq(session.csrf_token.as_bytes()).into();
    let origin_ok = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, rest)| rest.as_bytes() == host.as_bytes()),
        (Some(_), None) => false,
    };
    token_ok && origin_ok
}

/// What a group of portal routes requires: a session of this intent (`None`: of any).
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub intent: Option<&'static str>,
}

/// Middleware on the portal's JSON routes: a live session of the route's intent, whose
/// organization is the one in the path (any other gets 404, as if it did not exist), and for
/// state-changing methods the CSRF token. Inserts the session and its `Environment`.
pub async fn require(
    State(guard): State<Guard>,
    path: Result<Path<HashMap<String, String>>, PathRejection>,
    mut request: Request,
    next: Next,
) -> Response {
    let session = match current(&guard.state, request.headers()).await {
        Ok(session) => session,
        Err(SessionRefusal::Ended) => return ended(),
        Err(SessionRefusal::Store(error)) => return error.into_response(),
    };
    if guard.intent.is_some_and(|intent| intent != session.intent) {
        return not_found();
    }
    let path = path.map(|Path(params)| params).unwrap_or_default();
    if let Some(organization_id) = path.get("organization_id") {
        if *organization_id != session.organization_id {
            return ApiError::organization_not_found(organization_id).into_response();
        }
    }
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && !csrf_ok(&request, &session) {
        return error(
            StatusCode::FORBIDDEN,
            "csrf_check_failed",
            "This request did not come from the portal page (missing or wrong CSRF token).",
        );
    }
    let environment = Environment::portal_session(&session.environment, &session.id);
    tracing::Span::current().record("environment", environment.name());
    request.extensions_mut().insert(environment);
    request.extensions_mut().insert(session);
    next.run(request).await
}
