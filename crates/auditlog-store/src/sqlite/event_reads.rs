use super::event_filter::{EventQuery, SqlValue};
use super::{events, organizations, SqliteStore};
use crate::error::StoreResult;
use crate::types::{ExportQuery, Organization, StoredEvent};
use crate::EventReadStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[async_trait]
impl EventReadStore for SqliteStore {
    async fn list_events(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        ascending: bool,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let mut page = EventQuery::new(&format!("SELECT {} FROM events e", events::COLUMNS));
        let direction = if ascending { "ASC" } else { "DESC" };
        page.page(query, after, ascending)
            .push(&format!(
                " ORDER BY e.occurred_at {direction}, e.id {direction} LIMIT "
            ))
            .bind(SqlValue::Int(limit));
        let rows = page.sqlx().fetch_all(&self.readers).await?;
        Ok(rows.iter().map(events::from_row).collect())
    }

    async fn tail_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        // Sequence numbers become visible in commit order (one writer), so everything above
        // `after_sequence` that is visible now stays the complete set below the next one seen.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE organization_id = ? AND environment = ? AND sequence > ?
               AND payload IS NOT NULL ORDER BY sequence LIMIT ?",
            events::COLUMNS
        )))
        .bind(organization_id)
        .bind(environment)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.iter().map(events::from_row).collect())
    }

    async fn find_organization_by_external_id(
        &self,
        environment: &str,
        external_id: &str,
    ) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM organizations WHERE environment = ? AND external_id = ? AND deleted_at IS NULL",
            organizations::COLUMNS
        )))
        .bind(environment)
        .bind(external_id)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(organizations::from_row).transpose()
    }
}
