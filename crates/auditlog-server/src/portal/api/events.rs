//! The viewer's reads: a page of events (or a search), one event, and its inclusion proof. The
//! API's handlers answer, with the session's organization put in place of any the page sent.

use super::{search, tail};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathIds, QueryMap, QueryPairs};
use crate::routes::events::{get, list};
use crate::routes::log::inclusion_proof;
use crate::state::AppState;
use auditlog_store::PortalSession;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// 404 unless the event exists in the session's organization: an id from another organization
/// looks exactly like one that does not exist.
async fn ensure_in_organization(
    state: &AppState,
    environment: &Environment,
    session: &PortalSession,
    event_id: &str,
) -> Result<(), ApiError> {
    let event = state.store.get_event(environment.name(), event_id).await?;
    match event {
        Some(event) if event.organization_id == session.organization_id => Ok(()),
        _ => Err(ApiError::NotFound(format!(
            "Audit Log Event not found: '{event_id}'."
        ))),
    }
}

/// `GET …/events`: the read API's pages, or with `search=` a bounded search, or with
/// `after_sequence=` the live tail.
pub async fn list_events(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(name, _)| name != "organization_id")
        .collect();
    let needle = pairs
        .iter()
        .find(|(name, _)| name == "search")
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty());
    pairs.retain(|(name, _)| name != "search");
    if let Some((_, after)) = pairs.iter().find(|(name, _)| name == "after_sequence") {
        let after = after.clone();
        return tail::tail_events(&state, &environment, &session, &after, &pairs)
            .await
            .into_response();
    }
    if let Some(needle) = needle {
        return search::search_events(&state, &environment, &session, pairs, &needle)
            .await
            .into_response();
    }
    pairs.push(("organization_id".into(), session.organization_id.clone()));
    list::list_events(State(state), Extension(environment), QueryPairs(pairs))
        .await
        .into_response()
}

pub async fn get_event(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    PathIds(_, event_id): PathIds,
) -> Response {
    if let Err(error) = ensure_in_organization(&state, &environment, &session, &event_id).await {
        return error.into_response();
    }
    get::get_event(
        State(state),
        Extension(environment),
        crate::extract::PathId(event_id),
    )
    .await
    .into_response()
}

pub async fn get_inclusion_proof(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    Extension(session): Extension<PortalSession>,
    PathIds(_, event_id): PathIds,
    query: QueryMap,
) -> Response {
    if let Err(error) = ensure_in_organization(&state, &environment, &session, &event_id).await {
        return error.into_response();
    }
    inclusion_proof::get_inclusion_proof(
        State(state),
        Extension(environment),
        crate::extract::PathId(event_id),
        query,
    )
    .await
    .into_response()
}
