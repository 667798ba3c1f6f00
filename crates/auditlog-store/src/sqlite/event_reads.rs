use super::event_filter::{EventQuery, SqlValue};
use super::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{EventRow, OrganizationRow, EVENT_COLUMNS, ORGANIZATION_COLUMNS};
use crate::types::{ExportQuery, Organization, StoredEvent};
use crate::EventReadStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow};

#[async_trait]
impl EventReadStore for SqliteStore {
    async fn list_events(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        ascending: bool,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let mut page = EventQuery::new(&format!("SELECT {} FROM events e", EVENT_COLUMNS));
        let direction = if ascending { "ASC" } else { "DESC" };
        page.page(query, after, ascending)
            .push(&format!(
                " ORDER BY e.occurred_at {direction}, e.id {direction} LIMIT "
            ))
            .bind(SqlValue::Int(limit));
        let rows = page
            .sqlx()
            .try_map(|row: SqliteRow| EventRow::from_row(&row))
            .fetch_all(&self.readers)
            .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
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
        // Read straight off the statement (see `raw_readers`): log streams read every event
        // through here, at the rate they are ingested.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE organization_id = ?1 AND environment = ?2 \
             AND sequence > ?3 AND payload IS NOT NULL ORDER BY sequence LIMIT ?4"
        );
        let (environment, organization_id) = (environment.to_string(), organization_id.to_string());
        self.raw_readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&sql)?;
                let rows = statement.query_map(
                    rusqlite::params![organization_id, environment, after_sequence, limit],
                    |row| {
                        Ok(StoredEvent {
                            id: row.get(0)?,
                            environment: row.get(1)?,
                            organization_id: row.get(2)?,
                            sequence: row.get(3)?,
                            occurred_at: row.get(4)?,
                            received_at: row.get(5)?,
                            action: row.get(6)?,
                            actor_id: row.get(7)?,
                            actor_name: row.get(8)?,
                            payload: row.get(9)?,
                            leaf_hash: crate::rows::hash32(row.get_ref(10)?.as_blob()?),
                        })
                    },
                )?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn redacted_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        // A walk of the (organization_id, sequence) key like the tail's. Retention removes the
        // oldest events, so the redacted rows sit at the low end of it, where the walk starts.
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE organization_id = ?1 AND environment = ?2 \
             AND sequence > ?3 AND payload IS NULL ORDER BY sequence LIMIT ?4"
        )))
        .bind(organization_id)
        .bind(environment)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn find_organization_by_external_id(
        &self,
        environment: &str,
        external_id: &str,
    ) -> StoreResult<Option<Organization>> {
        let row = sqlx::query_as::<_, OrganizationRow>(AssertSqlSafe(format!(
            "SELECT {} FROM organizations WHERE environment = ? AND external_id = ? AND deleted_at IS NULL",
            ORGANIZATION_COLUMNS
        )))
        .bind(environment)
        .bind(external_id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(Organization::try_from).transpose()
    }
}
