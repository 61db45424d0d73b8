//! Platform administration: every user, every org, the global audit trail, and the
//! permission question platforms ask (`POST /check`). A system admin over HTTP and
//! the operator at the console use the same functions (see [`Platform`]).

use orgbase_domain::{
    AuditAction, AuditEvent, Email, MailStatus, Name, Org, OrgDomain, OrgId, OrgStatus, OutboxMail,
    Page, PageRequest, Password, Permission, ProjectId, Role, ScopeKind, User, UserId, WorkspaceId,
};
use orgbase_store::{AuditFilter, OrgFilter, UserFilter};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{Event, parse_action};
use crate::shared::authz::{CheckAuthority, OrgRef, Platform, SystemAdmin};
use crate::shared::provision::NewOrgInput;

/// A user a system admin creates, optionally straight into an org with a role.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub is_system_admin: bool,
    pub org: Option<OrgRef>,
    pub role: Option<String>,
}

/// A change to a user: only the fields given.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub enabled: Option<bool>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub is_system_admin: Option<bool>,
}

/// A user named by id (API) or e-mail (CLI).
#[derive(Debug, Clone)]
pub enum UserRef {
    Id(UserId),
    Email(String),
}

#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub user_id: UserId,
    pub permission: String,
    pub org: OrgRef,
    pub workspace: Option<WorkspaceId>,
    pub project: Option<ProjectId>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckResult {
    pub allowed: bool,
    pub role: Option<Role>,
}

/// Platform administration.
pub struct Admin<'a>(pub(crate) &'a Core);

impl Admin<'_> {
    /// All users, or those whose e-mail or name contains `search`.
    pub async fn users(
        &self,
        _by: &impl Platform,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        let filter = UserFilter {
            search: search_text(search),
        };
        Ok(self.0.store.users(filter, page).await?)
    }

    /// Creates a user (no personal org; they join orgs by membership), optionally
    /// straight into an org with a role, which becomes their home org.
    pub async fn create_user(&self, by: &impl Platform, input: NewUserInput) -> Result<User> {
        let core = self.0;
        let email = Email::parse(&input.email)?;
        let password = Password::parse(&input.password)?;
        let name = Name::parse(&input.name, "name")?;
        let placement = match &input.org {
            Some(r) => {
                let org = core
                    .find_org(r)
                    .await?
                    .filter(|o| !o.is_deleted())
                    .ok_or_else(Error::org_not_found)?;
                let role = Role::parse_grantable(input.role.as_deref().unwrap_or("viewer"))?;
                Some((org, role))
            }
            None => None,
        };
        let hash = core.hasher.hash(password.expose()).await?;
        let now = core.clock.now();
        let mut user = User::new(UserId::new(now), email, name, input.is_system_admin, now);
        let mut change = core.change(by.audit()).await?;
        if !change.insert_user(&user, Some(&hash)).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        change
            .record(
                Event::new(AuditAction::UserCreate, "user", user.id)
                    .details(json!({"email": user.email, "is_system_admin": user.is_system_admin})),
            )
            .await?;
        if let Some((org, role)) = placement {
            core.join_org(
                &mut change,
                user.id,
                org.id,
                role,
                AuditAction::MemberAdd,
                None,
            )
            .await?;
            change.set_home_org(user.id, Some(org.id), now).await?;
            user.home_org_id = Some(org.id);
        }
        if user.is_system_admin {
            core.adopt_system_org(&mut change, &user).await?;
        }
        change.commit().await?;
        Ok(user)
    }

    /// Enable or disable, rename, reset the password, grant or drop system admin.
    /// Disabling or resetting ends the user's sessions; a disabled user's API keys stop
    /// working at once because every request reads `enabled`.
    pub async fn update_user(
        &self,
        by: &impl Platform,
        who: UserRef,
        patch: UserPatch,
    ) -> Result<User> {
        let core = self.0;
        if patch.enabled.is_none()
            && patch.password.is_none()
            && patch.name.is_none()
            && patch.is_system_admin.is_none()
        {
            return Err(Error::bad_request(
                "empty_patch",
                "give at least one field to change",
            ));
        }
        let id = match who {
            UserRef::Id(id) => id,
            UserRef::Email(e) => {
                core.store
                    .user_by_email(&Email::parse(&e)?)
                    .await?
                    .ok_or_else(|| Error::not_found("user_not_found", "user"))?
                    .id
            }
        };
        if by.user() == Some(id)
            && (patch.enabled == Some(false) || patch.is_system_admin == Some(false))
        {
            return Err(Error::conflict(
                "cannot_change_self",
                "you cannot disable or demote yourself",
            ));
        }
        let name = patch
            .name
            .as_deref()
            .map(|n| Name::parse(n, "name"))
            .transpose()?;
        let hash = match &patch.password {
            Some(p) => Some(core.hasher.hash(Password::parse(p)?.expose()).await?),
            None => None,
        };
        let now = core.clock.now();
        let mut change = core.change(by.audit()).await?;
        let mut user = change
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::not_found("user_not_found", "user"))?;
        let mut changed = Vec::new();
        if let Some(e) = patch.enabled
            && e != user.enabled
        {
            user.enabled = e;
            changed.push(if e { "enabled" } else { "disabled" });
        }
        if let Some(a) = patch.is_system_admin
            && a != user.is_system_admin
        {
            user.is_system_admin = a;
            changed.push("is_system_admin");
        }
        if let Some(n) = name {
            user.name = n.as_str().to_string();
            changed.push("name");
        }
        if hash.is_some() {
            changed.push("password");
        }
        user.updated_at = now;
        change.update_user(&user).await?;
        if let Some(h) = &hash {
            change.set_password_hash(user.id, h, now).await?;
        }
        if !user.enabled || patch.password.is_some() {
            change.delete_sessions_of(user.id, None).await?;
            change.delete_password_tokens_of(user.id).await?;
        }
        change
            .record(
                Event::new(AuditAction::UserUpdate, "user", user.id)
                    .details(json!({"changed": changed})),
            )
            .await?;
        if user.is_system_admin {
            core.adopt_system_org(&mut change, &user).await?;
        }
        change.commit().await?;
        Ok(user)
    }

    pub async fn orgs(
        &self,
        _by: &impl Platform,
        include_deleted: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Org>> {
        let filter = OrgFilter {
            include_deleted,
            search: search_text(search),
        };
        Ok(self.0.store.all_orgs(filter, page).await?)
    }

    /// Creates an org for someone (LAMB's "create an organization with its admin").
    /// The owner must be an existing user.
    pub async fn create_org(
        &self,
        by: &impl Platform,
        owner_email: &str,
        input: NewOrgInput,
    ) -> Result<Org> {
        let core = self.0;
        let email = Email::parse(owner_email)?;
        let owner = core
            .store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| Error::not_found("user_not_found", "user"))?;
        let mut change = core.change(by.audit()).await?;
        let org = core
            .create_org_in(&mut change, Some(owner.id), input, false)
            .await?;
        change.commit().await?;
        Ok(org)
    }

    /// Suspends an org (nobody but system admins acts in it; its members stay) or
    /// reactivates it. The system org is never suspended; a deleted org is not found.
    /// Asking for the state it is in already changes nothing and records nothing.
    pub async fn set_suspended(
        &self,
        by: &impl Platform,
        org: &OrgRef,
        suspended: bool,
    ) -> Result<Org> {
        let core = self.0;
        let found = core
            .find_org(org)
            .await?
            .filter(|o| !o.is_deleted())
            .ok_or_else(Error::org_not_found)?;
        if found.is_system && suspended {
            return Err(Error::conflict(
                "system_org",
                "the system organization cannot be suspended",
            ));
        }
        let mut change = core.change(by.audit()).await?;
        let mut org = change
            .lock_org(found.id)
            .await?
            .filter(|o| !o.is_deleted())
            .ok_or_else(Error::org_not_found)?;
        if org.is_suspended() == suspended {
            return Ok(org);
        }
        org.status = if suspended {
            OrgStatus::Suspended
        } else {
            OrgStatus::Active
        };
        org.updated_at = core.clock.now();
        change.update_org(&org).await?;
        let action = if suspended {
            AuditAction::OrgSuspend
        } else {
            AuditAction::OrgReactivate
        };
        change
            .record(Event::new(action, "org", org.id).org(org.id))
            .await?;
        change.commit().await?;
        Ok(org)
    }

    /// Pending domain claims of every live org, oldest first, with the org's slug.
    pub async fn pending_domains(&self, _by: &SystemAdmin) -> Result<Vec<(OrgDomain, String)>> {
        Ok(self.0.store.pending_domains().await?)
    }

    /// The mail outbox as a system admin sees it: who, what, and how delivery goes,
    /// never the links (they are live credentials; only the operator's console shows
    /// them).
    pub async fn outbox(
        &self,
        _by: &SystemAdmin,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<OutboxMail>> {
        let status = status
            .filter(|s| !s.is_empty())
            .map(str::parse::<MailStatus>)
            .transpose()?;
        let mut p = self.0.store.outbox(status, page).await?;
        for m in &mut p.items {
            m.link_sealed.clear();
        }
        Ok(p)
    }

    /// Every audit event, newest first, optionally of one org and one action.
    pub async fn audit(
        &self,
        _by: &SystemAdmin,
        org: Option<OrgId>,
        action: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let filter = AuditFilter {
            org_id: org,
            action: parse_action(action)?,
        };
        Ok(self.0.store.audit(&filter, page).await?)
    }

    /// `POST /check`: may `user_id` do `permission` there?
    pub async fn check(&self, by: &CheckAuthority, req: CheckRequest) -> Result<CheckResult> {
        let core = self.0;
        let permission: Permission = req.permission.parse()?;
        let org = core
            .find_org(&req.org)
            .await?
            .ok_or_else(Error::org_not_found)?;
        // A service key asks about its own live org only; any other does not exist
        // for it.
        if let CheckAuthority::Service(s) = by
            && (s.key().org_id != org.id || org.is_deleted())
        {
            return Err(Error::org_not_found());
        }
        if let Some(ws) = req.workspace {
            core.workspace_in(org.id, ws).await?;
        }
        if let Some(p) = req.project {
            match core.store.project(p).await? {
                Some(pr)
                    if pr.org_id == org.id
                        && req.workspace.is_none_or(|w| w == pr.workspace_id) => {}
                _ => return Err(Error::not_found("project_not_found", "project")),
            }
        }
        let Some((user, chain)) = core
            .store
            .user_roles(req.user_id, org.id, req.workspace, req.project)
            .await?
        else {
            return Err(Error::not_found("user_not_found", "user"));
        };
        let at = match (req.workspace, req.project) {
            (_, Some(_)) => ScopeKind::Project,
            (Some(_), None) => ScopeKind::Workspace,
            (None, None) => ScopeKind::Org,
        };
        let role = chain.effective(at);
        let live = user.enabled && !org.is_deleted() && !org.is_suspended();
        let allowed = live && (user.is_system_admin || role.is_some_and(|r| r.allows(permission)));
        Ok(CheckResult { allowed, role })
    }
}

/// A search box's text: blank is no search; over 100 characters is cut.
fn search_text(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(100).collect())
}
