use super::PostgresStore;
use crate::error::StoreResult;
use crate::portal_sql::{self, bind_link, bind_session};
use crate::stream_sql::numbered;
use crate::types::{PortalLink, PortalSession};
use crate::PortalStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[async_trait]
impl PortalStore for PostgresStore {
    async fn create_portal_link(&self, link: &PortalLink) -> StoreResult<()> {
        bind_link!(
            sqlx::query(AssertSqlSafe(numbered(portal_sql::INSERT_LINK))),
            link
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn redeem_portal_link(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<PortalLink>> {
        let link = sqlx::query_as(AssertSqlSafe(numbered(portal_sql::REDEEM_LINK)))
            .bind(now)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(link)
    }

    async fn create_portal_session(&self, session: &PortalSession) -> StoreResult<()> {
        bind_session!(
            sqlx::query(AssertSqlSafe(numbered(portal_sql::INSERT_SESSION))),
            session
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_portal_session(&self, token_hash: &str) -> StoreResult<Option<PortalSession>> {
        let sql = format!(
            "SELECT {} {}",
            portal_sql::SESSION_COLUMNS,
            portal_sql::GET_SESSION
        );
        let session = sqlx::query_as(AssertSqlSafe(numbered(&sql)))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(session)
    }

    async fn touch_portal_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(numbered(portal_sql::TOUCH_SESSION)))
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_portal_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(numbered(portal_sql::DELETE_SESSION)))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_portal_access(
        &self,
        environment: &str,
        organization_id: &str,
        external_user_id: &str,
    ) -> StoreResult<u64> {
        let mut removed = 0;
        for statement in [portal_sql::REVOKE_LINKS, portal_sql::REVOKE_SESSIONS] {
            removed += sqlx::query(AssertSqlSafe(numbered(statement)))
                .bind(environment)
                .bind(organization_id)
                .bind(external_user_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    async fn delete_expired_portal_rows(&self, now: i64, idle_cutoff: i64) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(numbered(portal_sql::DELETE_EXPIRED_LINKS)))
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(AssertSqlSafe(numbered(portal_sql::DELETE_EXPIRED_SESSIONS)))
            .bind(now)
            .bind(idle_cutoff)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
