use super::{keyset, PostgresStore};
use crate::error::{classify_organization_write as classify, StoreResult};
use crate::rows::{convert_all, OrganizationRow, ORGANIZATION_COLUMNS};
use crate::types::Organization;
use crate::OrganizationStore;
use async_trait::async_trait;
use auditlog_domain::pagination::PagePlan;
use sqlx::AssertSqlSafe;

#[async_trait]
impl OrganizationStore for PostgresStore {
    async fn create_organization(&self, org: &Organization) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations ({ORGANIZATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
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
        .execute(&self.pool)
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
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE environment = $1 AND id = $2 AND deleted_at IS NULL"
        )))
        .bind(environment)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organization::try_from).transpose()
    }

    async fn list_organizations(
        &self,
        environment: &str,
        plan: &PagePlan,
    ) -> StoreResult<Vec<Organization>> {
        let (bound, direction) = keyset(plan, "id", 3);
        let sql = format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE environment = $1 AND deleted_at IS NULL {bound}
             ORDER BY id {direction} LIMIT $2"
        );
        let mut query = sqlx::query_as::<_, OrganizationRow>(AssertSqlSafe(sql))
            .bind(environment)
            .bind(plan.fetch_limit() as i64);
        if let Some(cursor) = &plan.start_after {
            query = query.bind(cursor);
        }
        let rows = query.fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn update_organization(&self, org: &Organization) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE organizations SET name = $1, external_id = $2, metadata = $3, domains = $4,
                 stripe_customer_id = $5, allow_profiles_outside_organization = $6, updated_at = $7
             WHERE environment = $8 AND id = $9 AND deleted_at IS NULL",
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
        .execute(&self.pool)
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
        let result = sqlx::query(
            "UPDATE organizations SET deleted_at = $1
             WHERE environment = $2 AND id = $3 AND deleted_at IS NULL",
        )
        .bind(at_micros)
        .bind(environment)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
