use super::{keyset, SqliteStore};
use crate::error::{classify_organization_write as classify, StoreResult};
use crate::rows::{convert_all, OrganizationRow, ORGANIZATION_COLUMNS};
use crate::types::Organization;
use crate::OrganizationStore;
use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use sqlx::AssertSqlSafe;

#[async_trait]
impl OrganizationStore for SqliteStore {
    async fn create_organization(&self, org: &Organization) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations ({ORGANIZATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        let row = sqlx::query_as::<_, OrganizationRow>(AssertSqlSafe(format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE environment = ? AND id = ? AND deleted_at IS NULL"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(Organization::try_from).transpose()
    }

    async fn list_organizations(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<Organization>> {
        let (bound, direction) = keyset(plan, "id");
        let sql = format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE environment = ? AND deleted_at IS NULL {bound}
             ORDER BY id {direction} LIMIT ?"
        );
        let mut query = sqlx::query_as::<_, OrganizationRow>(AssertSqlSafe(sql)).bind(environment);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query
            .bind(plan.fetch_limit() as i64)
            .fetch_all(&self.readers)
            .await?;
        convert_all(rows)
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
