use super::{keyset, SqliteStore};
use crate::error::StoreResult;
use crate::rows::{convert_all, ActionRow, SchemaRow, ACTION_COLUMNS, SCHEMA_COLUMNS};
use crate::types::{ActionRecord, NewSchema, SchemaRecord};
use crate::SchemaStore;
use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use sqlx::{AssertSqlSafe, FromRow, Row, SqliteConnection};

async fn latest_of(
    tx: &mut SqliteConnection,
    environment: &str,
    action: &str,
) -> StoreResult<Option<(String, SchemaRecord, Vec<u8>)>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SCHEMA_COLUMNS}, s.fingerprint, a.id AS action_id FROM audit_log_actions a
         JOIN audit_log_schemas s ON s.environment = a.environment AND s.action = a.name AND s.version = a.latest_version
         WHERE a.environment = ? AND a.name = ?"
    )))
    .bind(environment)
    .bind(action)
    .fetch_optional(tx)
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("action_id")?,
            SchemaRecord::try_from(SchemaRow::from_row(&row)?)?,
            row.try_get("fingerprint")?,
        ))
    })
    .transpose()
}

#[async_trait]
impl SchemaStore for SqliteStore {
    async fn add_schema_version(&self, new: &NewSchema) -> StoreResult<(SchemaRecord, bool)> {
        let mut writer = self.lock_writer().await?;
        let mut tx = super::begin_write(&mut writer).await?;
        let version = match latest_of(&mut tx, &new.environment, &new.action).await? {
            Some((_, latest, fingerprint)) if fingerprint == new.fingerprint => {
                return Ok((latest, false))
            }
            Some((action_id, latest, _)) => {
                sqlx::query(
                    "UPDATE audit_log_actions SET latest_version = ?, updated_at = ? WHERE id = ?",
                )
                .bind(latest.version + 1)
                .bind(new.now)
                .bind(action_id)
                .execute(&mut *tx)
                .await?;
                latest.version + 1
            }
            None => {
                sqlx::query(
                    "INSERT INTO audit_log_actions (id, environment, name, latest_version, created_at, updated_at)
                     VALUES (?, ?, ?, 1, ?, ?)",
                )
                .bind(&new.action_id)
                .bind(&new.environment)
                .bind(&new.action)
                .bind(new.now)
                .bind(new.now)
                .execute(&mut *tx)
                .await?;
                1
            }
        };
        sqlx::query(
            "INSERT INTO audit_log_schemas (id, environment, action, version, document, fingerprint, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
             JOIN audit_log_schemas s ON s.environment = a.environment AND s.action = a.name AND s.version = a.latest_version
             WHERE a.environment = ? AND a.name = ?"
        )))
        .bind(environment)
        .bind(name)
        .fetch_optional(&self.readers)
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
            "SELECT {SCHEMA_COLUMNS} FROM audit_log_schemas s WHERE s.environment = ? AND s.action = ? AND s.version = ?"
        )))
        .bind(environment)
        .bind(action)
        .bind(version)
        .fetch_optional(&self.readers)
        .await?;
        row.map(SchemaRecord::try_from).transpose()
    }

    async fn list_actions(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<ActionRecord>> {
        let (bound, direction) = keyset(plan, "a.id");
        let sql = format!(
            "SELECT {ACTION_COLUMNS}, {SCHEMA_COLUMNS} FROM audit_log_actions a
             JOIN audit_log_schemas s ON s.environment = a.environment AND s.action = a.name AND s.version = a.latest_version
             WHERE a.environment = ? {bound} ORDER BY a.id {direction} LIMIT ?"
        );
        let mut query = sqlx::query_as::<_, ActionRow>(AssertSqlSafe(sql)).bind(environment);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query
            .bind(plan.fetch_limit() as i64)
            .fetch_all(&self.readers)
            .await?;
        convert_all(rows)
    }

    async fn list_schemas(
        &self,
        environment: &str,
        action: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<SchemaRecord>> {
        let (bound, direction) = keyset(plan, "s.id");
        let sql = format!(
            "SELECT {SCHEMA_COLUMNS} FROM audit_log_schemas s
             WHERE s.environment = ? AND s.action = ? {bound} ORDER BY s.id {direction} LIMIT ?"
        );
        let mut query = sqlx::query_as::<_, SchemaRow>(AssertSqlSafe(sql))
            .bind(environment)
            .bind(action);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query
            .bind(plan.fetch_limit() as i64)
            .fetch_all(&self.readers)
            .await?;
        convert_all(rows)
    }
}
