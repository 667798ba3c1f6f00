use super::SqliteStore;
use crate::error::StoreResult;
use crate::portal_sql::{self, bind_link, bind_session};
use crate::types::{PortalLink, PortalSession};
use crate::PortalStore;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[async_trait]
impl PortalStore for SqliteStore {
    async fn create_portal_link(&self, link: &PortalLink) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        bind_link!(sqlx::query(portal_sql::INSERT_LINK), link)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }

    async fn redeem_portal_link(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<PortalLink>> {
        let mut writer = self.lock_writer().await?;
        let link = sqlx::query_as(portal_sql::REDEEM_LINK)
            .bind(now)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *writer)
            .await?;
        Ok(link)
    }

    async fn create_portal_session(&self, session: &PortalSession) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        bind_session!(sqlx::query(portal_sql::INSERT_SESSION), session)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }

    async fn get_portal_session(&self, token_hash: &str) -> StoreResult<Option<PortalSession>> {
        let sql = format!(
            "SELECT {} {}",
            portal_sql::SESSION_COLUMNS,
            portal_sql::GET_SESSION
        );
        let session = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.readers)
            .await?;
        Ok(session)
    }

    async fn touch_portal_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(portal_sql::TOUCH_SESSION)
            .bind(now)
            .bind(token_hash)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }

    async fn delete_portal_session(&self, token_hash: &str) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(portal_sql::DELETE_SESSION)
            .bind(token_hash)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }

    async fn revoke_portal_access(
        &self,
        environment: &str,
        organization_id: &str,
        external_user_id: &str,
    ) -> StoreResult<u64> {
        let mut writer = self.lock_writer().await?;
        let mut removed = 0;
        for statement in [portal_sql::REVOKE_LINKS, portal_sql::REVOKE_SESSIONS] {
            removed += sqlx::query(statement)
                .bind(environment)
                .bind(organization_id)
                .bind(external_user_id)
                .execute(&mut *writer)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    async fn delete_expired_portal_rows(&self, now: i64, idle_cutoff: i64) -> StoreResult<()> {
        let mut writer = self.lock_writer().await?;
        sqlx::query(portal_sql::DELETE_EXPIRED_LINKS)
            .bind(now)
            .execute(&mut *writer)
            .await?;
        sqlx::query(portal_sql::DELETE_EXPIRED_SESSIONS)
            .bind(now)
            .bind(idle_cutoff)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }
}
