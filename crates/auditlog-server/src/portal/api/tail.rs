//! The viewer's live tail: the events after a sequence number, as the read API's tail mode
//! answers them. The page asks every few seconds; only an answer that holds events is a read
//! of data, so only those go on the meta-audit trail (an open viewer would otherwise write a
//! record every few seconds that says nothing).

use crate::auth::Environment;
use crate::error::ApiError;
use crate::routes::events::list::after_sequence;
use crate::routes::events::view::{EventListMetadata, EventListView, EventView};
use crate::routes::list::ListObject;
use crate::state::AppState;
use auditlog_domain::FieldErrors;
use auditlog_store::PortalSession;
use axum::Json;

const MAX_LIMIT: i64 = 100;

pub async fn tail_events(
    state: &AppState,
    environment: &Environment,
    session: &PortalSession,
    after: &str,
    pairs: &[(String, String)],
) -> Result<Json<EventListView>, ApiError> {
    let mut errors = FieldErrors::default();
    let after = after_sequence(after, &mut errors);
    let limit = match pairs
        .iter()
        .find(|(name, _)| name == "limit")
        .map(|(_, v)| v.parse::<i64>())
    {
        None => MAX_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            errors.push(
                "limit",
                "invalid_value",
                format!("limit must be 1 to {MAX_LIMIT}"),
            );
            MAX_LIMIT
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let organization_id = session.organization_id.as_str();
    let events = state
        .store
        .tail_events(environment.name(), organization_id, after, limit)
        .await?;
    if !events.is_empty() {
        let details = [(
            "query",
            format!("{{\"after_sequence\":{after},\"limit\":{limit}}}"),
        )];
        super::record_listing(state, environment, organization_id, &details).await?;
    }
    let last = events.last().map(|e| e.sequence).unwrap_or(after);
    Ok(Json(EventListView {
        object: ListObject::List,
        data: events.iter().map(EventView::new).collect(),
        list_metadata: EventListMetadata {
            before: None,
            after: None,
            last_sequence: Some(last),
        },
    }))
}
