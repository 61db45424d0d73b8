//! Workspaces, projects and memberships at the three scopes.

use orgbase_domain::{Email, MembershipStatus, Name, ProjectId, Role, UserId, WorkspaceId};
use orgbase_store::{Member, Page, PageRequest, Project, Scope, Workspace};
use serde_json::json;

use crate::audit::AuditCtx;
use crate::authz::{OrgAccess, Perm, perm};
use crate::error::{Error, Result};
use crate::orgs::member;
use crate::{Actor, Services};

/// Whom to add: an existing user, by id or by e-mail.
#[derive(Debug, Clone)]
pub struct MemberInput {
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub role: String,
}

/// A scope below the org, named by path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopePath {
    pub workspace: Option<WorkspaceId>,
    pub project: Option<ProjectId>,
}

impl Services {
    pub async fn list_workspaces(
        &self,
        access: &OrgAccess<perm::WorkspacesRead>,
        page: PageRequest,
    ) -> Result<Page<Workspace>> {
        Ok(self.store.workspaces(access.org.id, page).await?)
    }

    pub async fn create_workspace(
        &self,
        access: &OrgAccess<perm::WorkspacesManage>,
        actor: &Actor,
        name: &str,
    ) -> Result<Workspace> {
        let name = Name::parse(name, "name")?;
        let now = self.clock.now();
        let ws = Workspace {
            id: WorkspaceId::new(now),
            org_id: access.org.id,
            name: name.as_str().to_string(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if !tx.insert_workspace(&ws).await? {
            return Err(Error::conflict(
                "name_taken",
                "a workspace with this name exists in the organization",
            ));
        }
        let ev = self.event(
            &actor.into(),
            Some(ws.org_id),
            "workspace.create",
            "workspace",
            ws.id,
            json!({"name": ws.name}),
        );
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        Ok(ws)
    }

    pub async fn list_projects(
        &self,
        access: &OrgAccess<perm::ProjectsRead>,
        ws: WorkspaceId,
        page: PageRequest,
    ) -> Result<Page<Project>> {
        let ws = self.workspace_in(access, ws).await?;
        Ok(self.store.projects(ws.id, page).await?)
    }

    /// Creating a project needs `projects.manage` in its workspace: org admins and
    /// owners, or workspace admins.
    pub async fn create_project(
        &self,
        access: &OrgAccess<perm::OrgRead>,
        actor: &Actor,
        ws: WorkspaceId,
        name: &str,
    ) -> Result<Project> {
        let ws = self.workspace_in(access, ws).await?;
        self.require_in_scope(
            access,
            actor,
            ScopePath {
                workspace: Some(ws.id),
                project: None,
            },
            perm::ProjectsManage::P,
        )
        .await?;
        let name = Name::parse(name, "name")?;
        let now = self.clock.now();
        let p = Project {
            id: ProjectId::new(now),
            org_id: access.org.id,
            workspace_id: ws.id,
            name: name.as_str().to_string(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if !tx.insert_project(&p).await? {
            return Err(Error::conflict(
                "name_taken",
                "a project with this name exists in the workspace",
            ));
        }
        let ev = self.event(
            &actor.into(),
            Some(p.org_id),
            "project.create",
            "project",
            p.id,
            json!({"name": p.name, "workspace_id": ws.id}),
        );
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Resolves a path below the org to a scope, checking that each level belongs to
    /// the one above (anything else is 404).
    async fn resolve_scope<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        path: ScopePath,
    ) -> Result<Scope> {
        match (path.workspace, path.project) {
            (None, None) => Ok(Scope::Org(access.org.id)),
            (Some(w), None) => Ok(Scope::Workspace(self.workspace_in(access, w).await?.id)),
            (Some(w), Some(p)) => {
                let ws = self.workspace_in(access, w).await?;
                Ok(Scope::Project(self.project_in(access, &ws, p).await?.id))
            }
            (None, Some(_)) => Err(Error::not_found("project_not_found", "project")),
        }
    }

    /// The actor's role that counts at a scope.
    async fn role_at<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        actor: &Actor,
        path: ScopePath,
    ) -> Result<Option<Role>> {
        if access.system_admin {
            return Ok(Some(Role::Owner));
        }
        if path.workspace.is_none() {
            return Ok(access.role);
        }
        self.effective_role(access, actor.user.id, path.workspace, path.project)
            .await
    }

    async fn require_in_scope<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        actor: &Actor,
        path: ScopePath,
        p: orgbase_domain::Permission,
    ) -> Result<Role> {
        match self.role_at(access, actor, path).await? {
            Some(r) if r.allows(p) => Ok(r),
            _ => Err(Error::forbidden(
                "forbidden",
                format!("your role does not allow {p} here"),
            )),
        }
    }

    pub async fn list_members(
        &self,
        access: &OrgAccess<perm::MembersRead>,
        path: ScopePath,
        page: PageRequest,
    ) -> Result<Page<Member>> {
        let scope = self.resolve_scope(access, path).await?;
        Ok(self.store.members(scope, page).await?)
    }

    /// Adds an existing user to a scope. Org membership comes from invitations; adding
    /// someone to an org directly is for system admins. Below the org, admins of the
    /// scope add members who already belong to the org.
    pub async fn add_member(
        &self,
        access: &OrgAccess<perm::OrgRead>,
        actor: &Actor,
        path: ScopePath,
        input: MemberInput,
    ) -> Result<Member> {
        let scope = self.resolve_scope(access, path).await?;
        let my_role = self
            .require_in_scope(access, actor, path, perm::MembersManage::P)
            .await?;
        if matches!(scope, Scope::Org(_)) && !access.system_admin {
            return Err(Error::forbidden(
                "use_invitations",
                "members join an organization by invitation",
            ));
        }
        let role = Role::parse_grantable(&input.role)?;
        if role > my_role.min(Role::Admin) {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        let user = match (input.user_id, input.email.as_deref()) {
            (Some(id), _) => self.store.user_by_id(id).await?,
            (None, Some(e)) => self.store.user_by_email(&Email::parse(e)?).await?,
            (None, None) => {
                return Err(Error::bad_request("user_required", "give user_id or email"));
            }
        }
        .ok_or_else(|| Error::not_found("user_not_found", "user"))?;

        let now = self.clock.now();
        let m = member(
            scope,
            access.org.id,
            user.id,
            role,
            Some(actor.user.id),
            now,
        );
        let mut tx = self.store.begin().await?;
        tx.lock_org(access.org.id).await?;
        if !matches!(scope, Scope::Org(_)) {
            let in_org = tx.membership(Scope::Org(access.org.id), user.id).await?;
            if !in_org.is_some_and(|m| m.status == MembershipStatus::Active) {
                return Err(Error::conflict(
                    "not_an_org_member",
                    "the user must be an active member of the organization first",
                ));
            }
        }
        if let Some(existing) = tx.membership(scope, user.id).await?
            && existing.status == MembershipStatus::Active
        {
            return Err(Error::conflict(
                "already_member",
                "the user is already a member here",
            ));
        }
        tx.upsert_membership(&m).await?;
        let details = json!({"scope": scope.kind().as_str(), "scope_id": scope.uuid(), "user_id": user.id, "role": role});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(access.org.id),
            "member.add",
            "user",
            user.id,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(Member {
            membership: m,
            email: user.email,
            name: user.name,
        })
    }

    /// Changes a member's role (never the owner's: ownership moves by transfer).
    pub async fn change_member_role(
        &self,
        access: &OrgAccess<perm::OrgRead>,
        actor: &Actor,
        path: ScopePath,
        user: UserId,
        role: &str,
    ) -> Result<Member> {
        let scope = self.resolve_scope(access, path).await?;
        let my_role = self
            .require_in_scope(access, actor, path, perm::MembersManage::P)
            .await?;
        let role = Role::parse_grantable(role)?;
        if role > my_role.min(Role::Admin) {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        let mut tx = self.store.begin().await?;
        tx.lock_org(access.org.id).await?;
        let current = tx
            .membership(scope, user)
            .await?
            .ok_or_else(|| Error::not_found("member_not_found", "member"))?;
        if current.role == Role::Owner {
            return Err(Error::conflict(
                "owner_role_fixed",
                "transfer ownership to change the owner's role",
            ));
        }
        if current.role > my_role {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot change the role of someone above you",
            ));
        }
        let now = self.clock.now();
        tx.set_membership_role(scope, user, role, current.status, now)
            .await?;
        let details = json!({"scope": scope.kind().as_str(), "scope_id": scope.uuid(), "from": current.role, "to": role});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(access.org.id),
            "member.role_change",
            "user",
            user,
            details,
        ))
        .await?;
        let target = tx
            .user_by_id(user)
            .await?
            .ok_or_else(|| Error::not_found("member_not_found", "member"))?;
        tx.commit().await?;
        let membership = orgbase_store::Membership {
            role,
            updated_at: now,
            ..current
        };
        Ok(Member {
            membership,
            email: target.email,
            name: target.name,
        })
    }

    /// Removes a member (and, at org scope, all their workspace and project
    /// memberships in it). The owner cannot be removed; anyone may remove themselves.
    pub async fn remove_member(
        &self,
        access: &OrgAccess<perm::OrgRead>,
        actor: &Actor,
        path: ScopePath,
        user: UserId,
    ) -> Result<()> {
        let scope = self.resolve_scope(access, path).await?;
        if matches!(scope, Scope::Org(_)) && access.org.owner_id == Some(user) {
            return Err(Error::conflict(
                "cannot_remove_owner",
                "the owner cannot be removed; transfer ownership first",
            ));
        }
        if user != actor.user.id {
            let my_role = self
                .require_in_scope(access, actor, path, perm::MembersManage::P)
                .await?;
            if let Some(m) = self.store.membership(scope, user).await?
                && m.role > my_role
            {
                return Err(Error::forbidden(
                    "role_too_high",
                    "you cannot remove someone above you",
                ));
            }
        }
        let mut tx = self.store.begin().await?;
        let org = tx
            .lock_org(access.org.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if matches!(scope, Scope::Org(_)) && org.owner_id == Some(user) {
            return Err(Error::conflict(
                "cannot_remove_owner",
                "the owner cannot be removed; transfer ownership first",
            ));
        }
        let removed = match scope {
            Scope::Org(o) => tx.delete_org_memberships(o, user).await?,
            other => tx.delete_membership(other, user).await?,
        };
        if !removed {
            return Err(Error::not_found("member_not_found", "member"));
        }
        let details = json!({"scope": scope.kind().as_str(), "scope_id": scope.uuid()});
        tx.insert_audit(&self.event(
            &AuditCtx::from(actor),
            Some(access.org.id),
            "member.remove",
            "user",
            user,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
