use super::{keyset, SqliteStore};
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::types::Organization;
use crate::OrganizationStore;
use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use sqlx::sqlite::SqliteRow;
use sqlx::AssertSqlSafe;
use sqlx::Row;

pub(super) const COLUMNS: &str =
    "id, environment, name, external_id, metadata, domains, stripe_customer_id,
    allow_profiles_outside_organization, created_at, updated_at";

const EXTERNAL_ID_TAKEN: &str = "an organization with this external_id already exists";

pub(super) fn from_row(row: &SqliteRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: row.get("id"),
        environment: row.get("environment"),
        name: row.get("name"),
        external_id: row.get("external_id"),
        metadata: serde_json::from_str(row.get("metadata"))?,
        domains: serde_json::from_str(row.get("domains"))?,
        stripe_customer_id: row.get("stripe_customer_id"),
        allow_profiles_outside_organization: row.get("allow_profiles_outside_organization"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

fn classify(error: sqlx::Error) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Conflict(EXTERNAL_ID_TAKEN)
    } else {
        error.into()
    }
}

#[async_trait]
impl OrganizationStore for SqliteStore {
    async fn create_organization(&self, org: &Organization) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(&org.id)
        .bind(&org.environment)
        .bind(&org.name)
        .bind(&org.external_id)
        .bind(serde_json::to_string(&org.metadata)?)
        .bind(serde_json::to_string(&org.domains)?)
        .bind(&org.stripe_customer_id)
        .bind(org.allow_profiles_outside_organization)
        .bind(org.created_at)
        .bind(org.updated_at)
        .execute(&mut *writer)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn get_organization(
        &self,
        environment: &str,
        id: &str,
    ) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM organizations WHERE environment = ? AND id = ? AND deleted_at IS NULL"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_organizations(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<Organization>> {
        let (bound, direction) = keyset(plan, "id");
        let sql = format!(
            "SELECT {COLUMNS} FROM organizations WHERE environment = ? AND deleted_at IS NULL {bound}
             ORDER BY id {direction} LIMIT ?"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(environment);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query
            .bind(plan.fetch_limit() as i64)
            .fetch_all(&self.readers)
            .await?;
        rows.iter().map(from_row).collect()
    }

    async fn update_organization(&self, org: &Organization) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE organizations SET name = ?, external_id = ?, metadata = ?, domains = ?,
                 stripe_customer_id = ?, allow_profiles_outside_organization = ?, updated_at = ?
             WHERE environment = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(&org.name)
        .bind(&org.external_id)
        .bind(serde_json::to_string(&org.metadata)?)
        .bind(serde_json::to_string(&org.domains)?)
        .bind(&org.stripe_customer_id)
        .bind(org.allow_profiles_outside_organization)
        .bind(org.updated_at)
        .bind(&org.environment)
        .bind(&org.id)
        .execute(&mut *writer)
        .await
        .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_organization(
        &self,
        environment: &str,
        id: &str,
        at_micros: i64,
    ) -> StoreResult<bool> {
        let mut writer = self.lock_writer().await?;
        let result = sqlx::query(
            "UPDATE organizations SET deleted_at = ? WHERE environment = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(at_micros)
        .bind(environment)
        .bind(id)
        .execute(&mut *writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
