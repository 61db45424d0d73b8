//! Authorization as a value.
//!
//! A use case that acts on an organization takes an [`OrgAccess<P>`], and the only way
//! to get one is [`Services::authorize`], which checks that the actor holds permission
//! `P` there. A handler that forgets the check does not compile.
//!
//! Isolation: a caller without an active membership gets 404 for everything in the org
//! (its existence is not revealed); a member whose role is too low gets 403.

use std::marker::PhantomData;

use orgbase_domain::{
    MembershipStatus, OrgId, Permission, ProjectId, Role, Slug, UserId, WorkspaceId,
    effective_project_role, effective_workspace_role,
};
use orgbase_store::{Org, OrgKey, Project, Workspace};
use uuid::Uuid;

use crate::crypto::{TokenKind, hashes_equal, token_hash};
use crate::error::{Error, Result};
use crate::{Actor, Credential, Origin, Services};

/// A permission known at compile time.
pub trait Perm {
    const P: Permission;
}

/// One marker type per permission, so signatures say what they need.
pub mod perm {
    use super::Perm;
    use orgbase_domain::Permission;

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[derive(Debug)]
            pub struct $name;
            impl Perm for $name {
                const P: Permission = Permission::$name;
            }
        )*};
    }

    markers!(
        OrgRead,
        MembersRead,
        WorkspacesRead,
        ProjectsRead,
        MembersManage,
        WorkspacesManage,
        ProjectsManage,
        AuditRead,
        OrgUpdate,
        OrgDelete,
        OrgRestore,
        OrgTransfer,
        ConfigManage,
        SignupManage,
        DomainsManage,
        InvitationsManage,
    );
}

/// Proof that `actor` may do `P` in `org`.
#[derive(Debug)]
pub struct OrgAccess<P> {
    pub org: Org,
    /// The actor's own org role; `None` for a system admin who is not a member.
    pub role: Option<Role>,
    pub system_admin: bool,
    _p: PhantomData<P>,
}

impl<P: Perm> OrgAccess<P> {
    /// The same access, narrowed to a stronger permission if the role allows it.
    pub fn require<Q: Perm>(&self) -> Result<OrgAccess<Q>> {
        check(self.role, self.system_admin, Q::P)?;
        Ok(OrgAccess {
            org: self.org.clone(),
            role: self.role,
            system_admin: self.system_admin,
            _p: PhantomData,
        })
    }

    /// The highest role this actor may grant: their own, capped at admin (the owner
    /// role moves only by transfer). System admins may grant admin.
    pub fn grantable_ceiling(&self) -> Role {
        if self.system_admin {
            Role::Admin
        } else {
            self.role.unwrap_or(Role::Viewer).min(Role::Admin)
        }
    }
}

fn check(role: Option<Role>, system_admin: bool, p: Permission) -> Result<()> {
    if system_admin || role.is_some_and(|r| r.allows(p)) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "forbidden",
            format!("your role does not allow {p}"),
        ))
    }
}

/// An org named in a path: its id or its slug.
#[derive(Debug, Clone)]
pub enum OrgRef {
    Id(OrgId),
    Slug(Slug),
    /// Neither an id nor a well-formed slug: can only be "not found".
    Invalid,
}

impl OrgRef {
    pub fn parse(raw: &str) -> Self {
        if let Ok(u) = Uuid::parse_str(raw) {
            OrgRef::Id(OrgId(u))
        } else if let Ok(s) = Slug::parse_any(raw) {
            OrgRef::Slug(s)
        } else {
            OrgRef::Invalid
        }
    }
}

impl Services {
    pub async fn find_org(&self, r: &OrgRef) -> Result<Option<Org>> {
        Ok(match r {
            OrgRef::Id(id) => self.store.org_by_id(*id).await?,
            OrgRef::Slug(s) => self.store.org_by_slug(s).await?,
            OrgRef::Invalid => None,
        })
    }

    /// Checks that `actor` holds `P` in the org, returning the proof.
    pub async fn authorize<P: Perm>(&self, actor: &Actor, r: &OrgRef) -> Result<OrgAccess<P>> {
        let key = org_key(r)?;
        let (org, member) = self
            .store
            .org_access(key, actor.user.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        access_from(actor, org, member)
    }

    /// Authenticates a bearer token and authorizes `P` in the org, for org-scoped
    /// requests. A session token does both in one database round trip; other tokens
    /// take the two-step path. Either way the checks are `admit` and `access_from`.
    pub async fn authorize_request<P: Perm>(
        &self,
        token: &str,
        r: &OrgRef,
        origin: Origin,
    ) -> Result<(Actor, OrgAccess<P>)> {
        if TokenKind::of(token) != Some(TokenKind::Session) || matches!(r, OrgRef::Invalid) {
            let actor = self.authenticate(token, origin).await?;
            let access = self.authorize::<P>(&actor, r).await?;
            return Ok((actor, access));
        }
        let hash = token_hash(token);
        let found = self
            .store
            .session_org_access(&hash, self.clock.now(), org_key(r)?)
            .await?;
        let (auth, org) = found.ok_or(Error::Unauthenticated)?;
        if !hashes_equal(&auth.token_hash, &hash) {
            return Err(Error::Unauthenticated);
        }
        let actor = self.admit(auth.user, Credential::Session(auth.id), origin)?;
        let (org, member) = org.ok_or_else(Error::org_not_found)?;
        let access = access_from(&actor, org, member)?;
        Ok((actor, access))
    }

    /// A workspace of an authorized org (404 if it belongs to another org).
    pub async fn workspace_in<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        id: WorkspaceId,
    ) -> Result<Workspace> {
        match self.store.workspace(id).await? {
            Some(w) if w.org_id == access.org.id => Ok(w),
            _ => Err(Error::not_found("workspace_not_found", "workspace")),
        }
    }

    /// A project of a workspace of an authorized org.
    pub async fn project_in<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        ws: &Workspace,
        id: ProjectId,
    ) -> Result<Project> {
        match self.store.project(id).await? {
            Some(p) if p.workspace_id == ws.id && p.org_id == access.org.id => Ok(p),
            _ => Err(Error::not_found("project_not_found", "project")),
        }
    }

    /// The actor's effective role in a workspace or project, for permissions that the
    /// deeper scopes grant on their own (SPEC §3: org role counts from admin up).
    pub async fn effective_role<P: Perm>(
        &self,
        access: &OrgAccess<P>,
        user: UserId,
        workspace: Option<WorkspaceId>,
        project: Option<ProjectId>,
    ) -> Result<Option<Role>> {
        let chain = self
            .store
            .role_chain(user, access.org.id, workspace, project)
            .await?;
        Ok(if project.is_some() {
            effective_project_role(chain.org, chain.workspace, chain.project)
        } else {
            effective_workspace_role(chain.org, chain.workspace)
        })
    }

    /// `POST /check`: may `user_id` do `permission` there? Only system admins ask.
    pub async fn check(&self, actor: &Actor, req: CheckRequest) -> Result<CheckResult> {
        if !actor.is_system_admin() {
            return Err(Error::forbidden(
                "forbidden",
                "only system admins may ask about other users",
            ));
        }
        let permission: Permission = req.permission.parse()?;
        let org = self
            .find_org(&req.org)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if let Some(ws) = req.workspace {
            match self.store.workspace(ws).await? {
                Some(w) if w.org_id == org.id => {}
                _ => return Err(Error::not_found("workspace_not_found", "workspace")),
            }
        }
        if let Some(p) = req.project {
            match self.store.project(p).await? {
                Some(pr)
                    if pr.org_id == org.id
                        && req.workspace.is_none_or(|w| w == pr.workspace_id) => {}
                _ => return Err(Error::not_found("project_not_found", "project")),
            }
        }
        let Some(user) = self.store.user_by_id(req.user_id).await? else {
            return Err(Error::not_found("user_not_found", "user"));
        };
        let chain = self
            .store
            .role_chain(user.id, org.id, req.workspace, req.project)
            .await?;
        let role = match (req.workspace, req.project) {
            (_, Some(_)) => effective_project_role(chain.org, chain.workspace, chain.project),
            (Some(_), None) => effective_workspace_role(chain.org, chain.workspace),
            (None, None) => chain.org,
        };
        let live = user.enabled && org.deleted_at.is_none();
        let allowed = live && (user.is_system_admin || role.is_some_and(|r| r.allows(permission)));
        Ok(CheckResult { allowed, role })
    }
}

fn org_key(r: &OrgRef) -> Result<OrgKey<'_>> {
    match r {
        OrgRef::Id(id) => Ok(OrgKey::Id(*id)),
        OrgRef::Slug(s) => Ok(OrgKey::Slug(s)),
        OrgRef::Invalid => Err(Error::org_not_found()),
    }
}

/// The isolation rules: no active membership is 404 (so is a deleted org, except for
/// restoring it), too low a role is 403. System admins pass.
fn access_from<P: Perm>(
    actor: &Actor,
    org: Org,
    member: Option<(Role, MembershipStatus)>,
) -> Result<OrgAccess<P>> {
    let system_admin = actor.is_system_admin();
    let role = member
        .filter(|(_, status)| *status == MembershipStatus::Active)
        .map(|(role, _)| role);
    if role.is_none() && !system_admin {
        return Err(Error::org_not_found());
    }
    if org.deleted_at.is_some() && P::P != Permission::OrgRestore && !system_admin {
        return Err(Error::org_not_found());
    }
    check(role, system_admin, P::P)?;
    Ok(OrgAccess {
        org,
        role,
        system_admin,
        _p: PhantomData,
    })
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
