//! The audit trail.

use async_trait::async_trait;
use orgbase_domain::{AuditEvent, Page, PageRequest};
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::{audit_from, overfetch};
use super::{DbConn, SqlTx};
use crate::{AuditFilter, Result};

pub(crate) async fn audit(
    c: &mut DbConn,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEvent>> {
    // Built from fixed fragments only; values are always bound.
    let mut sql = String::from(
        "SELECT id, at, actor_user_id, actor_api_key_id, org_id, action, target_type, target_id, \
         details, client_addr, request_id FROM audit_events WHERE id < $1",
    );
    let mut n = 1;
    if filter.org_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND org_id = ${n}"));
    }
    if filter.action.is_some() {
        n += 1;
        sql.push_str(&format!(" AND action = ${n}"));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
    let mut q = sqlx::query(&sql).bind(page.after.unwrap_or(Uuid::max()));
    if let Some(org) = filter.org_id {
        q = q.bind(org.0);
    }
    if let Some(action) = &filter.action {
        q = q.bind(action.as_str());
    }
    let rows = q.bind(overfetch(page)).fetch_all(c).await?;
    let items = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |a| a.id.0))
}

reads!(AuditReads {
    fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Page<AuditEvent>;
});

#[async_trait]
impl crate::AuditWrites for SqlTx {
    async fn insert_audit(&mut self, a: &AuditEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor_user_id, actor_api_key_id, org_id, action, \
             target_type, target_id, details, client_addr, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.0)
        .bind(a.at.as_millis())
        .bind(a.actor_user_id.map(|u| u.0))
        .bind(a.actor_api_key_id.map(|k| k.0))
        .bind(a.org_id.map(|o| o.0))
        .bind(a.action.as_str())
        .bind(&a.target_type)
        .bind(&a.target_id)
        .bind(Json(&a.details))
        .bind(&a.client_addr)
        .bind(&a.request_id)
        .execute(self.c())
        .await?;
        Ok(())
    }
}
