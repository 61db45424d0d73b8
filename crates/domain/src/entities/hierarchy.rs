//! The hierarchy inside an org (workspaces, projects) and who belongs where
//! (memberships at org, workspace or project scope).

use uuid::Uuid;

use crate::email::Email;
use crate::ids::{OrgId, ProjectId, UserId, WorkspaceId};
use crate::role::{
    MembershipStatus, Permission, Role, ScopeKind, effective_project_role,
    effective_workspace_role, role_for,
};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    /// The workspace every org starts with.
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// The project the default workspace starts with.
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The name of the default workspace and project.
pub const DEFAULT_NAME: &str = "Default";

/// The default workspace and project every org starts with.
pub fn default_tree(org: OrgId, now: Timestamp) -> (Workspace, Project) {
    let ws = Workspace {
        id: WorkspaceId::new(now),
        org_id: org,
        name: DEFAULT_NAME.to_string(),
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    let project = Project {
        id: ProjectId::new(now),
        org_id: org,
        workspace_id: ws.id,
        name: DEFAULT_NAME.to_string(),
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    (ws, project)
}

/// Where a membership applies. The id is the org's, workspace's or project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Org(OrgId),
    Workspace(WorkspaceId),
    Project(ProjectId),
}

impl Scope {
    pub fn kind(self) -> ScopeKind {
        match self {
            Scope::Org(_) => ScopeKind::Org,
            Scope::Workspace(_) => ScopeKind::Workspace,
            Scope::Project(_) => ScopeKind::Project,
        }
    }

    pub fn uuid(self) -> Uuid {
        match self {
            Scope::Org(id) => id.0,
            Scope::Workspace(id) => id.0,
            Scope::Project(id) => id.0,
        }
    }
}

/// One user's place at one scope: exactly one per (user, scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub scope: Scope,
    /// The org the scope belongs to (for an org scope, the org itself).
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub status: MembershipStatus,
    pub invited_by: Option<UserId>,
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Membership {
    /// An active membership starting now.
    pub fn active(
        scope: Scope,
        org: OrgId,
        user: UserId,
        role: Role,
        invited_by: Option<UserId>,
        now: Timestamp,
    ) -> Self {
        Self {
            scope,
            org_id: org,
            user_id: user,
            role,
            status: MembershipStatus::Active,
            invited_by,
            joined_at: now,
            updated_at: now,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == MembershipStatus::Active
    }
}

/// A membership with the member's e-mail and name, for member lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub membership: Membership,
    pub email: Email,
    pub name: String,
}

/// The roles a user holds on the way down to a project (active memberships only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleChain {
    pub org: Option<Role>,
    pub workspace: Option<Role>,
    pub project: Option<Role>,
}

impl RoleChain {
    /// The role that counts at a scope of this kind (SPEC §3): the org role at org
    /// scope; below it, the highest of the org role (from admin up) and the deeper ones.
    pub fn effective(&self, at: ScopeKind) -> Option<Role> {
        match at {
            ScopeKind::Org => self.org,
            ScopeKind::Workspace => effective_workspace_role(self.org, self.workspace),
            ScopeKind::Project => effective_project_role(self.org, self.workspace, self.project),
        }
    }

    /// The role that decides permission `p` at a scope of this kind (see [`role_for`]).
    pub fn role_for(&self, p: Permission, at: ScopeKind) -> Option<Role> {
        role_for(p, at, self.org, self.workspace, self.project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tree_hangs_together() {
        let now = Timestamp::from_millis(1_000);
        let org = OrgId::new(now);
        let (ws, p) = default_tree(org, now);
        assert_eq!((ws.org_id, p.org_id, p.workspace_id), (org, org, ws.id));
        assert!(ws.is_default && p.is_default);
    }

    #[test]
    fn an_active_membership_starts_now() {
        let now = Timestamp::from_millis(1_000);
        let org = OrgId::new(now);
        let m = Membership::active(
            Scope::Org(org),
            org,
            UserId::new(now),
            Role::Editor,
            None,
            now,
        );
        assert!(m.is_active());
        assert_eq!((m.joined_at, m.updated_at), (now, now));
        assert_eq!(m.scope.kind(), ScopeKind::Org);
    }

    #[test]
    fn the_effective_role_takes_the_org_role_only_from_admin_up() {
        let chain = RoleChain {
            org: Some(Role::Editor),
            workspace: None,
            project: Some(Role::Viewer),
        };
        assert_eq!(chain.effective(ScopeKind::Org), Some(Role::Editor));
        assert_eq!(chain.effective(ScopeKind::Workspace), None);
        assert_eq!(chain.effective(ScopeKind::Project), Some(Role::Viewer));
        let admin = RoleChain {
            org: Some(Role::Admin),
            ..chain
        };
        assert_eq!(admin.effective(ScopeKind::Project), Some(Role::Admin));
    }
}
