//! Workspaces, projects and memberships at the three scopes.

use orgbase_domain::{
    AuditAction, Email, Member, Membership, Name, Page, PageRequest, Project, ProjectId, Role,
    Scope, UserId, Workspace, WorkspaceId,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{OrgAccess, Perm, ScopeAccess, perm};

/// Whom to add: an existing user, by id or by e-mail.
#[derive(Debug, Clone)]
pub struct MemberInput {
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub role: String,
}

/// Workspaces, projects and memberships.
pub struct Hierarchy<'a>(pub(crate) &'a Core);

fn workspace_of<P: Perm>(access: &ScopeAccess<P>) -> Result<&Workspace> {
    access
        .workspace()
        .ok_or_else(|| Error::not_found("workspace_not_found", "workspace"))
}

fn scope_details(scope: Scope) -> serde_json::Value {
    json!({"scope": scope.kind().as_str(), "scope_id": scope.uuid()})
}

impl Hierarchy<'_> {
    pub async fn workspaces(
        &self,
        access: &OrgAccess<perm::WorkspacesRead>,
        page: PageRequest,
    ) -> Result<Page<Workspace>> {
        Ok(self.0.store.workspaces(access.org().id, page).await?)
    }

    pub async fn create_workspace(
        &self,
        access: &OrgAccess<perm::WorkspacesManage>,
        name: &str,
    ) -> Result<Workspace> {
        let name = Name::parse(name, "name")?;
        let now = self.0.clock.now();
        let ws = Workspace {
            id: WorkspaceId::new(now),
            org_id: access.org().id,
            name: name.as_str().to_string(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut change = self.0.change(access.audit()).await?;
        if !change.insert_workspace(&ws).await? {
            return Err(Error::conflict(
                "name_taken",
                "a workspace with this name exists in the organization",
            ));
        }
        change
            .record(
                Event::new(AuditAction::WorkspaceCreate, "workspace", ws.id)
                    .org(ws.org_id)
                    .details(json!({"name": ws.name})),
            )
            .await?;
        change.commit().await?;
        Ok(ws)
    }

    /// The workspace the proof is for.
    pub fn workspace(&self, access: ScopeAccess<perm::WorkspacesRead>) -> Result<Workspace> {
        access
            .into_workspace()
            .ok_or_else(|| Error::not_found("workspace_not_found", "workspace"))
    }

    pub async fn projects(
        &self,
        access: &ScopeAccess<perm::ProjectsRead>,
        page: PageRequest,
    ) -> Result<Page<Project>> {
        let ws = workspace_of(access)?;
        Ok(self.0.store.projects(ws.id, page).await?)
    }

    /// Creating a project needs `projects.manage` in its workspace: org admins and
    /// owners, or workspace admins.
    pub async fn create_project(
        &self,
        access: &ScopeAccess<perm::ProjectsManage>,
        name: &str,
    ) -> Result<Project> {
        let ws = workspace_of(access)?;
        let name = Name::parse(name, "name")?;
        let now = self.0.clock.now();
        let p = Project {
            id: ProjectId::new(now),
            org_id: access.org().id,
            workspace_id: ws.id,
            name: name.as_str().to_string(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut change = self.0.change(access.audit()).await?;
        if !change.insert_project(&p).await? {
            return Err(Error::conflict(
                "name_taken",
                "a project with this name exists in the workspace",
            ));
        }
        change
            .record(
                Event::new(AuditAction::ProjectCreate, "project", p.id)
                    .org(p.org_id)
                    .details(json!({"name": p.name, "workspace_id": ws.id})),
            )
            .await?;
        change.commit().await?;
        Ok(p)
    }

    /// Members of the scope, or those whose e-mail or name contains `search`.
    pub async fn members(
        &self,
        access: &ScopeAccess<perm::MembersRead>,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Member>> {
        let store = &self.0.store;
        Ok(match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                let s: String = s.chars().take(100).collect();
                store.search_members(access.scope(), &s, page).await?
            }
            None => store.members(access.scope(), page).await?,
        })
    }

    /// Adds an existing user to a scope. Org membership comes from invitations; adding
    /// someone to an org directly is for system admins. Below the org, admins of the
    /// scope add members who already belong to the org.
    pub async fn add_member(
        &self,
        access: &ScopeAccess<perm::MembersManage>,
        input: MemberInput,
    ) -> Result<Member> {
        let core = self.0;
        let scope = access.scope();
        let org_id = access.org().id;
        if matches!(scope, Scope::Org(_)) && !access.is_system_admin() {
            return Err(Error::forbidden(
                "use_invitations",
                "members join an organization by invitation",
            ));
        }
        let role = Role::parse_grantable(&input.role)?;
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        let user = match (input.user_id, input.email.as_deref()) {
            (Some(id), _) => core.store.user_by_id(id).await?,
            (None, Some(e)) => core.store.user_by_email(&Email::parse(e)?).await?,
            (None, None) => {
                return Err(Error::bad_request("user_required", "give user_id or email"));
            }
        }
        .ok_or_else(|| Error::not_found("user_not_found", "user"))?;

        let now = core.clock.now();
        let m = Membership::active(scope, org_id, user.id, role, access.caller().user_id(), now);
        let mut change = core.change(access.audit()).await?;
        let org = change
            .lock_org(org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if matches!(scope, Scope::Org(_)) {
            core.admit_member(&mut change, &org, user.id).await?;
        } else {
            let in_org = change.membership(Scope::Org(org_id), user.id).await?;
            if !in_org.is_some_and(|m| m.is_active()) {
                return Err(Error::conflict(
                    "not_an_org_member",
                    "the user must be an active member of the organization first",
                ));
            }
        }
        if let Some(existing) = change.membership(scope, user.id).await?
            && existing.is_active()
        {
            return Err(Error::conflict(
                "already_member",
                "the user is already a member here",
            ));
        }
        change.upsert_membership(&m).await?;
        let mut details = scope_details(scope);
        details["user_id"] = json!(user.id);
        details["role"] = json!(role);
        change
            .record(
                Event::new(AuditAction::MemberAdd, "user", user.id)
                    .org(org_id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        Ok(Member {
            membership: m,
            email: user.email,
            name: user.name,
        })
    }

    /// Changes a member's role (never the owner's: ownership moves by transfer).
    pub async fn change_role(
        &self,
        access: &ScopeAccess<perm::MembersManage>,
        user: UserId,
        role: &str,
    ) -> Result<Member> {
        let core = self.0;
        let scope = access.scope();
        let my_role = access.acting_role();
        let role = Role::parse_grantable(role)?;
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        let mut change = core.change(access.audit()).await?;
        change.lock_org(access.org().id).await?;
        let current = change
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
        let now = core.clock.now();
        change
            .set_membership_role(scope, user, role, current.status, now)
            .await?;
        let target = change
            .user_by_id(user)
            .await?
            .ok_or_else(|| Error::not_found("member_not_found", "member"))?;
        // The admin's decision replaces any offer still open: an older pending
        // invitation must not give back a role just taken away.
        let revoked = change
            .revoke_pending_invitations(scope, &target.email, now)
            .await?;
        let mut details = scope_details(scope);
        details["from"] = json!(current.role);
        details["to"] = json!(role);
        if revoked > 0 {
            details["invitations_revoked"] = json!(revoked);
        }
        change
            .record(
                Event::new(AuditAction::MemberRoleChange, "user", user)
                    .org(access.org().id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        Ok(Member {
            membership: Membership {
                role,
                updated_at: now,
                ..current
            },
            email: target.email,
            name: target.name,
        })
    }

    /// Removes a member (and, at org scope, all their workspace and project
    /// memberships in it). Any member may remove themselves; removing someone else
    /// takes `members.manage` at the scope, and never reaches the owner.
    pub async fn remove_member(
        &self,
        access: &ScopeAccess<perm::MembersRead>,
        user: UserId,
    ) -> Result<()> {
        let core = self.0;
        let scope = access.scope();
        if matches!(scope, Scope::Org(_)) && access.org().owner_id == Some(user) {
            return Err(Error::conflict(
                "cannot_remove_owner",
                "the owner cannot be removed; transfer ownership first",
            ));
        }
        if Some(user) != access.caller().user_id() {
            let manage = core.narrow::<_, perm::MembersManage>(access).await?;
            let my_role = manage.acting_role();
            if let Some(m) = core.store.membership(scope, user).await?
                && m.role > my_role
            {
                return Err(Error::forbidden(
                    "role_too_high",
                    "you cannot remove someone above you",
                ));
            }
        }
        let mut change = core.change(access.audit()).await?;
        let org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if matches!(scope, Scope::Org(_)) && org.owner_id == Some(user) {
            return Err(Error::conflict(
                "cannot_remove_owner",
                "the owner cannot be removed; transfer ownership first",
            ));
        }
        let removed = match scope {
            Scope::Org(o) => change.delete_org_memberships(o, user).await?,
            other => change.delete_membership(other, user).await?,
        };
        if !removed {
            return Err(Error::not_found("member_not_found", "member"));
        }
        // Pending invitations to what they were removed from would let them back in.
        let mut details = scope_details(scope);
        if let Some(target) = change.user_by_id(user).await? {
            let now = core.clock.now();
            let revoked = change
                .revoke_pending_invitations(scope, &target.email, now)
                .await?;
            if revoked > 0 {
                details["invitations_revoked"] = json!(revoked);
            }
        }
        change
            .record(
                Event::new(AuditAction::MemberRemove, "user", user)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        change.commit().await
    }
}
