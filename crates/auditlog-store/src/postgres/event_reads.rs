use super::exports::push_filters;
use super::PostgresStore;
use crate::error::StoreResult;
use crate::rows::{EventRow, OrganizationRow, EVENT_COLUMNS, ORGANIZATION_COLUMNS};
use crate::types::{ExportQuery, Organization, StoredEvent};
use crate::EventReadStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};

#[async_trait]
impl EventReadStore for PostgresStore {
    async fn list_events(
        &self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        ascending: bool,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let mut builder: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {} FROM events e", EVENT_COLUMNS));
        push_filters(&mut builder, query);
        let (comparison, direction) = if ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some((occurred_at, id)) = after {
            builder.push(format!(" AND (e.occurred_at, e.id) {comparison} ("));
            builder.push_bind(*occurred_at);
            builder.push(", ");
            builder.push_bind(id.clone());
            builder.push(")");
        }
        builder.push(format!(
            " ORDER BY e.occurred_at {direction}, e.id {direction} LIMIT "
        ));
        builder.push_bind(limit);
        let rows: Vec<EventRow> = builder.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn tail_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        // Sequence numbers become visible in commit order (the organization row lock serializes batches), so everything above
        // `after_sequence` that is visible now stays the complete set below the next one seen.
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE organization_id = $1 AND environment = $2 AND sequence > $3
               AND payload IS NOT NULL ORDER BY sequence LIMIT $4",
            EVENT_COLUMNS
        )))
        .bind(organization_id)
        .bind(environment)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn redacted_events(
        &self,
        environment: &str,
        organization_id: &str,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE organization_id = $1 AND environment = $2
               AND sequence > $3 AND payload IS NULL ORDER BY sequence LIMIT $4"
        )))
        .bind(organization_id)
        .bind(environment)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn find_organization_by_external_id(
        &self,
        environment: &str,
        external_id: &str,
    ) -> StoreResult<Option<Organization>> {
        let row = sqlx::query_as::<_, OrganizationRow>(AssertSqlSafe(format!(
            "SELECT {} FROM organizations WHERE environment = $1 AND external_id = $2 AND deleted_at IS NULL",
            ORGANIZATION_COLUMNS
        )))
        .bind(environment)
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organization::try_from).transpose()
    }
}
