//! Assistants and the orgs they belong to (`assistant_orgs`: the home row and one per
//! org it is shared with), so an org's list is one range of that table's key.

use async_trait::async_trait;
use orgbase_domain::{
    Assistant, AssistantId, OrgId, Page, PageRequest, ProjectId, Role, Timestamp, UserId,
};
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::{DbRow, after, overfetch, parsed, ts};
use super::{DbConn, SqlTx};
use crate::{AssistantFilter, Result};

const COLS: &str = "a.id, a.org_id, a.owner_id, a.project_id, a.name, a.description, \
    a.framework, a.framework_source, a.language_model, a.language_model_source, a.metadata, \
    a.created_at, a.updated_at";

fn assistant_from(r: &DbRow) -> Result<Assistant> {
    Ok(Assistant {
        id: AssistantId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        owner_id: r.try_get::<Option<Uuid>, _>("owner_id")?.map(UserId),
        project_id: r.try_get::<Option<Uuid>, _>("project_id")?.map(ProjectId),
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        framework: r.try_get("framework")?,
        framework_source: parsed(r, "framework_source")?,
        language_model: r.try_get("language_model")?,
        language_model_source: parsed(r, "language_model_source")?,
        metadata: r.try_get::<Json<serde_json::Value>, _>("metadata")?.0,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub(crate) async fn assistant(c: &mut DbConn, id: AssistantId) -> Result<Option<Assistant>> {
    let sql = format!("SELECT {COLS} FROM assistants a WHERE a.id = $1");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(c).await?;
    row.as_ref().map(assistant_from).transpose()
}

pub(crate) async fn assistants_in(
    c: &mut DbConn,
    org: OrgId,
    filter: AssistantFilter,
    page: PageRequest,
) -> Result<Page<Assistant>> {
    let sql = format!(
        "SELECT {COLS} FROM assistant_orgs ao JOIN assistants a ON a.id = ao.assistant_id \
         JOIN orgs h ON h.id = a.org_id \
         WHERE ao.org_id = $1 AND ao.assistant_id > $2 \
           AND ((h.deleted_at IS NULL AND h.status = 'active') OR a.org_id = $1) \
           AND ($3 IS NULL OR a.owner_id = $3) AND ($4 IS NULL OR a.project_id = $4) \
         ORDER BY ao.assistant_id LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(after(page))
        .bind(filter.owner.map(|u| u.0))
        .bind(filter.project.map(|p| p.0))
        .bind(overfetch(page))
        .fetch_all(c)
        .await?;
    let items = rows
        .iter()
        .map(assistant_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |a| a.id.0))
}

pub(crate) async fn assistant_orgs(c: &mut DbConn, id: AssistantId) -> Result<Vec<OrgId>> {
    let rows = sqlx::query(
        "SELECT org_id FROM assistant_orgs WHERE assistant_id = $1 ORDER BY home DESC, org_id",
    )
    .bind(id.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(OrgId(r.try_get("org_id")?)))
        .collect()
}

pub(crate) async fn assistant_roles(
    c: &mut DbConn,
    id: AssistantId,
    user: UserId,
) -> Result<Vec<(OrgId, Role)>> {
    let rows = sqlx::query(
        "SELECT m.org_id, m.role FROM assistant_orgs ao \
         JOIN org_members m ON m.org_id = ao.org_id AND m.user_id = $2 AND m.status = 'active' \
         JOIN orgs o ON o.id = ao.org_id AND o.deleted_at IS NULL \
         WHERE ao.assistant_id = $1 AND (o.status = 'active' OR ao.home = TRUE)",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((OrgId(r.try_get("org_id")?), parsed(r, "role")?)))
        .collect()
}

pub(crate) async fn assistant_in(c: &mut DbConn, id: AssistantId, org: OrgId) -> Result<bool> {
    let row =
        sqlx::query("SELECT 1 AS x FROM assistant_orgs WHERE org_id = $1 AND assistant_id = $2")
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(c)
            .await?;
    Ok(row.is_some())
}

pub(crate) async fn count_assistants(c: &mut DbConn, org: OrgId) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM assistants WHERE org_id = $1")
            .bind(org.0)
            .fetch_one(c)
            .await?
            .try_get("n")?,
    )
}

pub(crate) async fn count_assistants_owned(
    c: &mut DbConn,
    org: OrgId,
    owner: UserId,
) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM assistants WHERE org_id = $1 AND owner_id = $2")
            .bind(org.0)
            .bind(owner.0)
            .fetch_one(c)
            .await?
            .try_get("n")?,
    )
}

pub(crate) async fn assistants_homed_in(c: &mut DbConn, org: OrgId) -> Result<Vec<Assistant>> {
    let sql = format!("SELECT {COLS} FROM assistants a WHERE a.org_id = $1 ORDER BY a.id");
    let rows = sqlx::query(&sql).bind(org.0).fetch_all(c).await?;
    rows.iter().map(assistant_from).collect()
}

reads!(AssistantReads {
    fn assistant(&self, id: AssistantId) -> Option<Assistant>;
    fn assistants_in(&self, org: OrgId, filter: AssistantFilter, page: PageRequest) -> Page<Assistant>;
    fn assistant_orgs(&self, id: AssistantId) -> Vec<OrgId>;
    fn assistant_roles(&self, id: AssistantId, user: UserId) -> Vec<(OrgId, Role)>;
    fn assistant_in(&self, id: AssistantId, org: OrgId) -> bool;
    fn count_assistants(&self, org: OrgId) -> i64;
    fn count_assistants_owned(&self, org: OrgId, owner: UserId) -> i64;
    fn assistants_homed_in(&self, org: OrgId) -> Vec<Assistant>;
});

#[async_trait]
impl crate::AssistantWrites for SqlTx {
    async fn insert_assistant(&mut self, a: &Assistant) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO assistants ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            COLS.replace("a.", "")
        ))
        .bind(a.id.0)
        .bind(a.org_id.0)
        .bind(a.owner_id.map(|u| u.0))
        .bind(a.project_id.map(|p| p.0))
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.framework)
        .bind(a.framework_source.as_str())
        .bind(&a.language_model)
        .bind(a.language_model_source.as_str())
        .bind(Json(&a.metadata))
        .bind(a.created_at.as_millis())
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await?;
        sqlx::query(
            "INSERT INTO assistant_orgs (org_id, assistant_id, home, shared_by, created_at) \
             VALUES ($1, $2, TRUE, $3, $4)",
        )
        .bind(a.org_id.0)
        .bind(a.id.0)
        .bind(a.owner_id.map(|u| u.0))
        .bind(a.created_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn update_assistant(&mut self, a: &Assistant) -> Result<()> {
        sqlx::query(
            "UPDATE assistants SET owner_id = $2, project_id = $3, name = $4, description = $5, \
             framework = $6, framework_source = $7, language_model = $8, \
             language_model_source = $9, metadata = $10, updated_at = $11 WHERE id = $1",
        )
        .bind(a.id.0)
        .bind(a.owner_id.map(|u| u.0))
        .bind(a.project_id.map(|p| p.0))
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.framework)
        .bind(a.framework_source.as_str())
        .bind(&a.language_model)
        .bind(a.language_model_source.as_str())
        .bind(Json(&a.metadata))
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn delete_assistant(&mut self, id: AssistantId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM assistants WHERE id = $1")
            .bind(id.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn share_assistant(
        &mut self,
        id: AssistantId,
        org: OrgId,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO assistant_orgs (org_id, assistant_id, home, shared_by, created_at) \
             VALUES ($1, $2, FALSE, $3, $4) ON CONFLICT (org_id, assistant_id) DO NOTHING",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(by.map(|u| u.0))
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn unshare_assistant(&mut self, id: AssistantId, org: OrgId) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM assistant_orgs WHERE org_id = $1 AND assistant_id = $2 AND home = FALSE",
        )
        .bind(org.0)
        .bind(id.0)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
