use super::{keyset, PostgresStore};
use crate::error::StoreResult;
use crate::rows::{convert_all, ActionRow, SchemaRow, ACTION_COLUMNS, SCHEMA_COLUMNS};
use crate::types::{ActionRecord, NewSchema, SchemaRecord};
use crate::SchemaStore;
use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Row};

/// The action's row id and latest version with its fingerprint, the action row locked until
/// the end of the transaction (so versions are added one at a time across nodes).
async fn lock_latest(
    tx: &mut PgConnection,
    environment: &str,
    action: &str,
) -> StoreResult<Option<(String, SchemaRecord, Vec<u8>)>> {
    // The action row alone is locked first: with a join, the re-check PostgreSQL does after
    // waiting for a concurrent writer would pair the new action row with the old schema row.
    let locked: Option<(String, i64)> = sqlx::query_as(
        "SELECT id, latest_version FROM audit_log_actions
         WHERE environment = $1 AND name = $2 FOR UPDATE",
    )
    .bind(environment)
    .bind(action)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((action_id, version)) = locked else {
        return Ok(None);
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SCHEMA_COLUMNS}, s.fingerprint FROM audit_log_schemas s
         WHERE s.environment = $1 AND s.action = $2 AND s.version = $3"
    )))
    .bind(environment)
    .bind(action)
    .bind(version)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Some((
        action_id,
        SchemaRecord::try_from(SchemaRow::from_row(&row)?)?,
        row.try_get("fingerprint")?,
    )))
}

#[async_trait]
impl SchemaStore for PostgresStore {
    async fn add_schema_version(&self, new: &NewSchema) -> StoreResult<(SchemaRecord, bool)> {
        let mut tx = self.pool.begin().await?;
        let version = loop {
            match lock_latest(&mut tx, &new.environment, &new.action).await? {
                Some((_, latest, fingerprint)) if fingerprint == new.fingerprint => {
                    return Ok((latest, false))
                }
                Some((action_id, latest, _)) => {
                    sqlx::query(
                        "UPDATE audit_log_actions SET latest_version = $1, updated_at = $2
                         WHERE id = $3",
                    )
                    .bind(latest.version + 1)
                    .bind(new.now)
                    .bind(action_id)
                    .execute(&mut *tx)
                    .await?;
                    break latest.version + 1;
                }
                None => {
                    // A concurrent first version of the same action makes this INSERT wait
                    // for it, then do nothing: go round and version on top of it instead.
                    let created = sqlx::query(
                        "INSERT INTO audit_log_actions
                             (id, environment, name, latest_version, created_at, updated_at)
                         VALUES ($1, $2, $3, 1, $4, $4)
                         ON CONFLICT (environment, name) DO NOTHING",
                    )
                    .bind(&new.action_id)
                    .bind(&new.environment)
                    .bind(&new.action)
                    .bind(new.now)
                    .execute(&mut *tx)
                    .await?;
                    if created.rows_affected() == 1 {
                        break 1;
                    }
                }
            }
        };
        sqlx::query(
            "INSERT INTO audit_log_schemas
                 (id, environment, action, version, document, fingerprint, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&new.schema_id)
        .bind(&new.environment)
        .bind(&new.action)
        .bind(version)
        .bind(serde_json::to_string(&new.document)?)
        .bind(&new.fingerprint)
        .bind(new.now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let record = SchemaRecord {
            id: new.schema_id.clone(),
            environment: new.environment.clone(),
            action: new.action.clone(),
            version,
            document: new.document.clone(),
            created_at: new.now,
        };
        Ok((record, true))
    }

    async fn get_action(&self, environment: &str, name: &str) -> StoreResult<Option<ActionRecord>> {
        let row = sqlx::query_as::<_, ActionRow>(AssertSqlSafe(format!(
            "SELECT {ACTION_COLUMNS}, {SCHEMA_COLUMNS} FROM audit_log_actions a
             JOIN audit_log_schemas s ON s.environment = a.environment AND s.action = a.name
                 AND s.version = a.latest_version
             WHERE a.environment = $1 AND a.name = $2"
        )))
        .bind(environment)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ActionRecord::try_from).transpose()
    }

    async fn get_schema(
        &self,
        environment: &str,
        action: &str,
        version: i64,
    ) -> StoreResult<Option<SchemaRecord>> {
        let row = sqlx::query_as::<_, SchemaRow>(AssertSqlSafe(format!(
            "SELECT {SCHEMA_COLUMNS} FROM audit_log_schemas s
             WHERE s.environment = $1 AND s.action = $2 AND s.version = $3"
        )))
        .bind(environment)
        .bind(action)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(SchemaRecord::try_from).transpose()
    }

    async fn list_actions(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<ActionRecord>> {
        let (bound, direction) = keyset(plan, "a.id", 3);
        let sql = format!(
            "SELECT {ACTION_COLUMNS}, {SCHEMA_COLUMNS} FROM audit_log_actions a
             JOIN audit_log_schemas s ON s.environment = a.environment AND s.action = a.name
                 AND s.version = a.latest_version
             WHERE a.environment = $1 {bound} ORDER BY a.id {direction} LIMIT $2"
        );
        let mut query = sqlx::query_as::<_, ActionRow>(AssertSqlSafe(sql))
            .bind(environment)
            .bind(plan.fetch_limit() as i64);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query.fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn list_schemas(
        &self,
        environment: &str,
        action: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<SchemaRecord>> {
        let (bound, direction) = keyset(plan, "s.id", 4);
        let sql = format!(
            "SELECT {SCHEMA_COLUMNS} FROM audit_log_schemas s
             WHERE s.environment = $1 AND s.action = $2 {bound} ORDER BY s.id {direction} LIMIT $3"
        );
        let mut query = sqlx::query_as::<_, SchemaRow>(AssertSqlSafe(sql))
            .bind(environment)
            .bind(action)
            .bind(plan.fetch_limit() as i64);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query.fetch_all(&self.pool).await?;
        convert_all(rows)
    }
}
