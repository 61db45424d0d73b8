//! Workspaces, projects and memberships at every scope.

use async_trait::async_trait;
use orgbase_domain::{
    Member, Membership, MembershipStatus, OrgId, Page, PageRequest, Project, ProjectId, Role,
    RoleChain, Scope, Slug, Timestamp, User, UserId, Workspace, WorkspaceId,
};

use crate::Result;

#[async_trait]
pub trait HierarchyReads: Send + Sync {
    async fn workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>>;
    async fn workspaces(&self, org: OrgId, page: PageRequest) -> Result<Page<Workspace>>;
    async fn project(&self, id: ProjectId) -> Result<Option<Project>>;
    async fn projects(&self, ws: WorkspaceId, page: PageRequest) -> Result<Page<Project>>;

    async fn membership(&self, scope: Scope, user: UserId) -> Result<Option<Membership>>;
    /// Active memberships of `user` on the path org > workspace > project.
    async fn role_chain(
        &self,
        user: UserId,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        project: Option<ProjectId>,
    ) -> Result<RoleChain>;
    /// The user with, in the same round trip, their role chain on that path (`None`:
    /// no such user).
    async fn user_roles(
        &self,
        user: UserId,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        project: Option<ProjectId>,
    ) -> Result<Option<(User, RoleChain)>>;
    /// Members of a scope, paged by user id.
    async fn members(&self, scope: Scope, page: PageRequest) -> Result<Page<Member>>;
    /// Members of a scope whose e-mail or name contains `search`, paged by user id.
    async fn search_members(
        &self,
        scope: Scope,
        search: &str,
        page: PageRequest,
    ) -> Result<Page<Member>>;
    /// The user's active org memberships in orgs that are not deleted (for `GET /me`).
    async fn memberships_of(&self, user: UserId) -> Result<Vec<(Membership, Slug)>>;
    /// The user's active workspace and project memberships: (org, workspace name,
    /// project name for a project, role), for the OpenID Connect `groups` claim.
    async fn deep_memberships_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(OrgId, String, Option<String>, Role)>>;
}

#[async_trait]
pub trait HierarchyWrites: Send {
    /// Inserts unless the org has a workspace of that name; false when it had.
    async fn insert_workspace(&mut self, ws: &Workspace) -> Result<bool>;
    /// Inserts unless the workspace has a project of that name; false when it had.
    async fn insert_project(&mut self, p: &Project) -> Result<bool>;

    /// Inserts or replaces the membership of (scope, user).
    async fn upsert_membership(&mut self, m: &Membership) -> Result<()>;
    /// Inserts or replaces many memberships, a few statements for all (bulk imports and
    /// the benchmark's seeding). Each (scope, user) at most once in `ms`.
    async fn upsert_memberships(&mut self, ms: &[Membership]) -> Result<()>;
    /// Sets role and status of an existing membership; false when there is none.
    async fn set_membership_role(
        &mut self,
        scope: Scope,
        user: UserId,
        role: Role,
        status: MembershipStatus,
        now: Timestamp,
    ) -> Result<bool>;
    /// Removes the user from the org and from all its workspaces and projects.
    async fn delete_org_memberships(&mut self, org: OrgId, user: UserId) -> Result<bool>;
    async fn delete_membership(&mut self, scope: Scope, user: UserId) -> Result<bool>;
}
