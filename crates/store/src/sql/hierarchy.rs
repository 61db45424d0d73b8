//! Workspaces, projects and memberships.

use async_trait::async_trait;
use orgbase_domain::{
    Email, Member, Membership, MembershipStatus, OrgId, Page, PageRequest, Project, ProjectId,
    Role, RoleChain, Scope, Slug, Timestamp, User, UserId, Workspace, WorkspaceId,
};
use sqlx::Row;

use super::super::Db;
use super::rows::{
    DbRow, MEMBER_COLS, PROJECT_COLS, USER_COLS, WS_COLS, after, membership_from, overfetch,
    project_from, scope_table, user_from, workspace_from,
};
use super::{DbConn, SqlTx};
use crate::{Result, StoreError};

pub(crate) async fn workspace(c: &mut DbConn, id: WorkspaceId) -> Result<Option<Workspace>> {
    let sql = format!("SELECT {WS_COLS} FROM workspaces WHERE id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(workspace_from)
        .transpose()
}

pub(crate) async fn workspaces(
    c: &mut DbConn,
    org: OrgId,
    page: PageRequest,
) -> Result<Page<Workspace>> {
    let sql = format!(
        "SELECT {WS_COLS} FROM workspaces WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(c)
        .await?;
    let items = rows
        .iter()
        .map(workspace_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |w| w.id.0))
}

pub(crate) async fn project(c: &mut DbConn, id: ProjectId) -> Result<Option<Project>> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(project_from)
        .transpose()
}

pub(crate) async fn projects(
    c: &mut DbConn,
    ws: WorkspaceId,
    page: PageRequest,
) -> Result<Page<Project>> {
    let sql = format!(
        "SELECT {PROJECT_COLS} FROM projects WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(ws.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(project_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |p| p.id.0))
}

pub(crate) async fn membership(
    c: &mut DbConn,
    scope: Scope,
    user: UserId,
) -> Result<Option<Membership>> {
    let (table, key) = scope_table(scope);
    let sql = format!("SELECT {MEMBER_COLS} FROM {table} m WHERE m.{key} = $1 AND m.user_id = $2");
    let row = sqlx::query(&sql)
        .bind(scope.uuid())
        .bind(user.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(|r| membership_from(r, scope)).transpose()
}

/// The columns `o`, `w` and `p` of a user's (`$2`) active roles in the org (`$1`),
/// workspace (`$3`) and project (`$4`); one text for `role_chain` and `user_roles`.
macro_rules! chain_cols {
    () => {
        "(SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2 AND status = 'active') AS o, \
         (SELECT role FROM workspace_members WHERE workspace_id = $3 AND user_id = $2 AND status = 'active') AS w, \
         (SELECT role FROM project_members WHERE project_id = $4 AND user_id = $2 AND status = 'active') AS p"
    };
}

pub(crate) async fn role_chain(
    c: &mut DbConn,
    user: UserId,
    org: OrgId,
    workspace: Option<WorkspaceId>,
    project: Option<ProjectId>,
) -> Result<RoleChain> {
    let r = sqlx::query(concat!("SELECT ", chain_cols!()))
        .bind(org.0)
        .bind(user.0)
        .bind(workspace.map(|w| w.0))
        .bind(project.map(|p| p.0))
        .fetch_one(c)
        .await?;
    chain_from(&r)
}

/// The roles of a row with columns `o`, `w` and `p`.
fn chain_from(r: &DbRow) -> Result<RoleChain> {
    let role = |col: &'static str| -> Result<Option<Role>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|s| s.parse().map_err(|_| StoreError::Corrupt(col)))
            .transpose()
    };
    Ok(RoleChain {
        org: role("o")?,
        workspace: role("w")?,
        project: role("p")?,
    })
}

/// The user with, in the same query, their role chain (for `POST /check`).
pub(crate) async fn user_roles(
    c: &mut DbConn,
    user: UserId,
    org: OrgId,
    workspace: Option<WorkspaceId>,
    project: Option<ProjectId>,
) -> Result<Option<(User, RoleChain)>> {
    let sql = format!(
        concat!(
            "SELECT {USER_COLS}, ",
            chain_cols!(),
            " FROM users u WHERE u.id = $2"
        ),
        USER_COLS = USER_COLS
    );
    let row = sqlx::query(&sql)
        .bind(org.0)
        .bind(user.0)
        .bind(workspace.map(|w| w.0))
        .bind(project.map(|p| p.0))
        .fetch_optional(c)
        .await?;
    row.map(|r| Ok((user_from(&r)?, chain_from(&r)?)))
        .transpose()
}

/// Members of a scope: each backend pages them its own way (see its `members_page`).
pub(crate) async fn members(
    c: &mut DbConn,
    scope: Scope,
    page: PageRequest,
) -> Result<Page<Member>> {
    super::super::members_page(c, scope, page).await
}

/// Members whose e-mail or name contains `search` (any case, for ASCII): plain rows on
/// both backends (a search is rare; the unfiltered list keeps its fast path).
pub(crate) async fn search_members(
    c: &mut DbConn,
    scope: Scope,
    search: &str,
    page: PageRequest,
) -> Result<Page<Member>> {
    member_rows_where(c, scope, Some(search), page).await
}

/// Members as plain rows (PostgreSQL streams them cheaply; SQLite pages members through
/// `sqlite::members_page` instead, one row per page).
#[allow(dead_code)]
pub(crate) async fn member_rows(
    c: &mut DbConn,
    scope: Scope,
    page: PageRequest,
) -> Result<Page<Member>> {
    member_rows_where(c, scope, None, page).await
}

async fn member_rows_where(
    c: &mut DbConn,
    scope: Scope,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<Member>> {
    let (table, key) = scope_table(scope);
    let filter = if search.is_some() {
        "AND (LOWER(u.email) LIKE $4 ESCAPE '\\' OR LOWER(u.name) LIKE $4 ESCAPE '\\') "
    } else {
        ""
    };
    let sql = format!(
        "SELECT {MEMBER_COLS}, u.email AS member_email, u.name AS member_name \
         FROM {table} m JOIN users u ON u.id = m.user_id \
         WHERE m.{key} = $1 AND m.user_id > $2 {filter}ORDER BY m.user_id LIMIT $3"
    );
    let mut q = sqlx::query(&sql)
        .bind(scope.uuid())
        .bind(after(page))
        .bind(overfetch(page));
    if let Some(s) = search {
        q = q.bind(super::contains_pattern(s));
    }
    let rows = q.fetch_all(c).await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Member {
                membership: membership_from(r, scope)?,
                email: Email::from_trusted(r.try_get("member_email")?),
                name: r.try_get("member_name")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |m| {
        m.membership.user_id.0
    }))
}

pub(crate) async fn memberships_of(
    c: &mut DbConn,
    user: UserId,
) -> Result<Vec<(Membership, Slug)>> {
    let sql = format!(
        "SELECT {MEMBER_COLS}, o.slug AS org_slug FROM org_members m JOIN orgs o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND m.status = 'active' AND o.deleted_at IS NULL ORDER BY m.user_id, m.org_id LIMIT 1000"
    );
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(c).await?;
    rows.iter()
        .map(|r| {
            let org = OrgId(r.try_get("org_id")?);
            Ok((
                membership_from(r, Scope::Org(org))?,
                Slug::from_trusted(r.try_get("org_slug")?),
            ))
        })
        .collect()
}

pub(crate) async fn deep_memberships_of(
    c: &mut DbConn,
    user: UserId,
) -> Result<Vec<(OrgId, String, Option<String>, Role)>> {
    let rows = sqlx::query(
        "SELECT w.org_id, w.name AS ws, NULL AS project, wm.role FROM workspace_members wm \
         JOIN workspaces w ON w.id = wm.workspace_id WHERE wm.user_id = $1 AND wm.status = 'active' \
         UNION ALL \
         SELECT p.org_id, w.name AS ws, p.name AS project, pm.role FROM project_members pm \
         JOIN projects p ON p.id = pm.project_id JOIN workspaces w ON w.id = p.workspace_id \
         WHERE pm.user_id = $1 AND pm.status = 'active' LIMIT 1000",
    )
    .bind(user.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok((
                OrgId(r.try_get("org_id")?),
                r.try_get("ws")?,
                r.try_get("project")?,
                role.parse().map_err(|_| StoreError::Corrupt("role"))?,
            ))
        })
        .collect()
}

reads!(HierarchyReads {
    fn workspace(&self, id: WorkspaceId) -> Option<Workspace> => workspaces(id);
    fn workspaces(&self, org: OrgId, page: PageRequest) -> Page<Workspace>;
    fn project(&self, id: ProjectId) -> Option<Project> => projects(id);
    fn projects(&self, ws: WorkspaceId, page: PageRequest) -> Page<Project>;
    fn membership(&self, scope: Scope, user: UserId) -> Option<Membership>;
    fn role_chain(&self, user: UserId, org: OrgId, workspace: Option<WorkspaceId>, project: Option<ProjectId>) -> RoleChain
        => role_chains((user, org, workspace, project));
    fn user_roles(&self, user: UserId, org: OrgId, workspace: Option<WorkspaceId>, project: Option<ProjectId>) -> Option<(User, RoleChain)>
        => user_roles((user, org, workspace, project));
    fn members(&self, scope: Scope, page: PageRequest) -> Page<Member> => members((scope, page));
    fn search_members(&self, scope: Scope, search: &str, page: PageRequest) -> Page<Member>;
    fn memberships_of(&self, user: UserId) -> Vec<(Membership, Slug)>;
    fn deep_memberships_of(&self, user: UserId) -> Vec<(OrgId, String, Option<String>, Role)>;
});

#[async_trait]
impl crate::HierarchyWrites for SqlTx {
    async fn insert_workspace(&mut self, w: &Workspace) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO workspaces (id, org_id, name, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, name) DO NOTHING",
        )
        .bind(w.id.0)
        .bind(w.org_id.0)
        .bind(&w.name)
        .bind(w.is_default)
        .bind(w.created_at.as_millis())
        .bind(w.updated_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_project(&mut self, p: &Project) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO projects (id, org_id, workspace_id, name, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, name) DO NOTHING",
        )
        .bind(p.id.0)
        .bind(p.org_id.0)
        .bind(p.workspace_id.0)
        .bind(&p.name)
        .bind(p.is_default)
        .bind(p.created_at.as_millis())
        .bind(p.updated_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn upsert_membership(&mut self, m: &Membership) -> Result<()> {
        self.upsert_memberships(std::slice::from_ref(m)).await
    }

    async fn upsert_memberships(&mut self, ms: &[Membership]) -> Result<()> {
        // One statement per run of rows of one table, of at most this many rows (8 binds
        // each: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters).
        const ROWS_PER_STATEMENT: usize = 1000;
        for run in ms.chunk_by(|a, b| scope_table(a.scope) == scope_table(b.scope)) {
            for chunk in run.chunks(ROWS_PER_STATEMENT) {
                let Some(first) = chunk.first() else { continue };
                let (table, key) = scope_table(first.scope);
                // org_members is keyed by org_id itself; the deeper tables carry org_id besides.
                let deeper = !matches!(first.scope, Scope::Org(_));
                let org_col = if deeper { ", org_id" } else { "" };
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "INSERT INTO {table} ({key}, user_id{org_col}, role, status, invited_by, joined_at, updated_at) "
                ));
                q.push_values(chunk, |mut b, m| {
                    b.push_bind(m.scope.uuid()).push_bind(m.user_id.0);
                    if deeper {
                        b.push_bind(m.org_id.0);
                    }
                    b.push_bind(m.role.as_str())
                        .push_bind(m.status.as_str())
                        .push_bind(m.invited_by.map(|u| u.0))
                        .push_bind(m.joined_at.as_millis())
                        .push_bind(m.updated_at.as_millis());
                });
                q.push(format!(
                    " ON CONFLICT ({key}, user_id) DO UPDATE SET role = excluded.role, \
                     status = excluded.status, invited_by = excluded.invited_by, updated_at = excluded.updated_at"
                ));
                q.build().execute(self.c()).await?;
            }
        }
        Ok(())
    }

    async fn set_membership_role(
        &mut self,
        scope: Scope,
        user: UserId,
        role: Role,
        status: MembershipStatus,
        now: Timestamp,
    ) -> Result<bool> {
        let (table, key) = scope_table(scope);
        let sql = format!(
            "UPDATE {table} SET role = $1, status = $2, updated_at = $3 WHERE {key} = $4 AND user_id = $5"
        );
        let r = sqlx::query(&sql)
            .bind(role.as_str())
            .bind(status.as_str())
            .bind(now.as_millis())
            .bind(scope.uuid())
            .bind(user.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_org_memberships(&mut self, org: OrgId, user: UserId) -> Result<bool> {
        for table in ["project_members", "workspace_members"] {
            let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND user_id = $2");
            sqlx::query(&sql)
                .bind(org.0)
                .bind(user.0)
                .execute(self.c())
                .await?;
        }
        let r = sqlx::query("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_membership(&mut self, scope: Scope, user: UserId) -> Result<bool> {
        let (table, key) = scope_table(scope);
        let sql = format!("DELETE FROM {table} WHERE {key} = $1 AND user_id = $2");
        let r = sqlx::query(&sql)
            .bind(scope.uuid())
            .bind(user.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
