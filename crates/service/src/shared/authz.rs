//! Authentication and authorization, as values.
//!
//! Every use case takes the proof it needs, and only this module builds proofs:
//! - [`Actor`]: an authenticated caller (for the caller's own things);
//! - [`OrgAccess<P>`]: the actor holds permission `P` in an organization;
//! - [`ScopeAccess<P>`]: the actor holds `P` at an org, workspace or project scope,
//!   decided by the role that counts there (the permission table's `reach`);
//! - [`SystemAdmin`]: the actor is a system admin;
//! - [`Operator`]: the person at the console (CLI commands, start-up duties); made
//!   once, when the services are assembled.
//!
//! A handler that forgets a check has no proof to pass, so it does not compile.
//!
//! Isolation: a caller without an active membership gets 404 for everything in the org
//! (its existence is not revealed); a member whose role is too low gets 403.

use std::marker::PhantomData;

use orgbase_domain::{
    ApiKeyId, MembershipStatus, Org, OrgId, Permission, Project, ProjectId, Role, Scope, ScopeKind,
    SessionId, Slug, User, UserId, Workspace, WorkspaceId,
};
use orgbase_store::OrgKey;
use uuid::Uuid;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::AuditCtx;
use crate::shared::crypto::{TokenKind, hashes_equal, token_hash};

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
        AssistantsRead,
        AssistantsCreate,
        AssistantsEditOwn,
        MembersManage,
        InvitationsManage,
        SignupManage,
        DomainsManage,
        ConfigManage,
        SecretsRead,
        WorkspacesManage,
        ProjectsManage,
        ApiKeysManage,
        AssistantsManage,
        AuditRead,
        OrgUpdate,
        OrgDelete,
        OrgRestore,
        OrgTransfer,
    );
}

/// Where a request came from, for the audit trail and rate limits.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

/// How an authenticated caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(SessionId),
    ApiKey(ApiKeyId),
}

/// An authenticated user making a request. Only [`Authz::authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct Actor {
    user: User,
    credential: Credential,
    origin: Origin,
}

impl Actor {
    pub fn user(&self) -> &User {
        &self.user
    }
    pub fn id(&self) -> UserId {
        self.user.id
    }
    pub fn credential(&self) -> Credential {
        self.credential
    }
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
    pub fn is_system_admin(&self) -> bool {
        self.user.is_system_admin
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

    fn key(&self) -> Result<OrgKey<'_>> {
        match self {
            OrgRef::Id(id) => Ok(OrgKey::Id(*id)),
            OrgRef::Slug(s) => Ok(OrgKey::Slug(s)),
            OrgRef::Invalid => Err(Error::org_not_found()),
        }
    }
}

/// Proof that the actor may do `P` in `org`.
#[derive(Debug)]
pub struct OrgAccess<P> {
    actor: Actor,
    org: Org,
    /// The actor's own org role; `None` for a system admin who is not a member.
    role: Option<Role>,
    _p: PhantomData<P>,
}

impl<P: Perm> OrgAccess<P> {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn org(&self) -> &Org {
        &self.org
    }
    pub fn into_org(self) -> Org {
        self.org
    }
    /// The actor's role in the org (`None`: a system admin who is not a member).
    pub fn role(&self) -> Option<Role> {
        self.role
    }
    pub fn is_system_admin(&self) -> bool {
        self.actor.is_system_admin()
    }

    /// The same access, narrowed to a stronger permission if the role allows it.
    pub fn require<Q: Perm>(&self) -> Result<OrgAccess<Q>> {
        check(self.role, self.is_system_admin(), Q::P)?;
        Ok(OrgAccess {
            actor: self.actor.clone(),
            org: self.org.clone(),
            role: self.role,
            _p: PhantomData,
        })
    }

    /// The highest role this actor may grant: their own, capped at admin (the owner
    /// role moves only by transfer). System admins may grant admin.
    pub fn grantable_ceiling(&self) -> Role {
        ceiling(self.role, self.is_system_admin())
    }

    pub(crate) fn audit(&self) -> AuditCtx {
        AuditCtx::from(&self.actor)
    }
}

/// A scope below an org, named by path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopePath {
    pub workspace: Option<WorkspaceId>,
    pub project: Option<ProjectId>,
}

/// Proof that the actor holds `P` at a scope (the org itself, one of its workspaces,
/// or a project of one), each level checked to belong to the one above.
#[derive(Debug)]
pub struct ScopeAccess<P> {
    actor: Actor,
    org: Org,
    /// The actor's own org role.
    org_role: Option<Role>,
    workspace: Option<Workspace>,
    project: Option<Project>,
    /// The role that decided (`None`: a system admin with no role there).
    role: Option<Role>,
    _p: PhantomData<P>,
}

impl<P: Perm> ScopeAccess<P> {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn org(&self) -> &Org {
        &self.org
    }
    pub fn workspace(&self) -> Option<&Workspace> {
        self.workspace.as_ref()
    }
    pub fn project(&self) -> Option<&Project> {
        self.project.as_ref()
    }
    pub fn into_workspace(self) -> Option<Workspace> {
        self.workspace
    }
    pub fn is_system_admin(&self) -> bool {
        self.actor.is_system_admin()
    }
    /// The role that counts for `P` here.
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn scope(&self) -> Scope {
        match (&self.workspace, &self.project) {
            (_, Some(p)) => Scope::Project(p.id),
            (Some(w), None) => Scope::Workspace(w.id),
            (None, None) => Scope::Org(self.org.id),
        }
    }

    /// The rank the actor acts with here: system admins rank as owners.
    pub fn acting_role(&self) -> Role {
        if self.is_system_admin() {
            Role::Owner
        } else {
            self.role.unwrap_or(Role::Viewer)
        }
    }

    /// See [`OrgAccess::grantable_ceiling`].
    pub fn grantable_ceiling(&self) -> Role {
        ceiling(self.role, self.is_system_admin())
    }

    pub(crate) fn audit(&self) -> AuditCtx {
        AuditCtx::from(&self.actor)
    }
}

/// Proof that the actor is a system admin.
#[derive(Debug, Clone)]
pub struct SystemAdmin {
    actor: Actor,
}

impl SystemAdmin {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

/// The operator at the console: CLI commands and start-up duties. There is no check to
/// pass: whoever can run the binary against the database is the operator. It is made
/// once, by [`crate::Services::new`], and never handed to the HTTP layer.
#[derive(Debug)]
pub struct Operator {
    _private: (),
}

impl Operator {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

/// The two platform-wide authorities: a system admin over HTTP, or the operator at the
/// console. Use cases for both take `&impl Platform`, so there is one function per use
/// case. Sealed: only the proofs above implement it.
pub trait Platform: sealed::Sealed {}
impl Platform for SystemAdmin {}
impl Platform for Operator {}

pub(crate) mod sealed {
    use super::{Operator, SystemAdmin};
    use crate::shared::audit::AuditCtx;
    use orgbase_domain::UserId;

    pub trait Sealed {
        /// Who acts, for the audit trail.
        fn audit(&self) -> AuditCtx;
        /// The acting user, if a user acts (rules such as "not yourself").
        fn user(&self) -> Option<UserId>;
    }

    impl Sealed for SystemAdmin {
        fn audit(&self) -> AuditCtx {
            AuditCtx::from(&self.actor)
        }
        fn user(&self) -> Option<UserId> {
            Some(self.actor.user.id)
        }
    }

    impl Sealed for Operator {
        fn audit(&self) -> AuditCtx {
            AuditCtx::system()
        }
        fn user(&self) -> Option<UserId> {
            None
        }
    }
}

fn ceiling(role: Option<Role>, system_admin: bool) -> Role {
    if system_admin {
        Role::Admin
    } else {
        role.unwrap_or(Role::Viewer).min(Role::Admin)
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

/// Builds the proofs. Reached through [`crate::Services::authz`].
pub struct Authz<'a>(pub(crate) &'a Core);

impl Authz<'_> {
    /// Resolves a bearer token to the user behind it. Disabled users and expired
    /// tokens fail here, on every request, not at the next login.
    pub async fn authenticate(&self, token: &str, origin: Origin) -> Result<Actor> {
        let core = self.0;
        let now = core.clock.now();
        let hash = token_hash(token);
        let (user, credential) = match TokenKind::of(token) {
            Some(TokenKind::Session) => {
                let found = core
                    .store
                    .session_user(&hash, now)
                    .await?
                    .ok_or(Error::Unauthenticated)?;
                if !hashes_equal(&found.token_hash, &hash) {
                    return Err(Error::Unauthenticated);
                }
                (found.user, Credential::Session(found.id))
            }
            Some(TokenKind::ApiKey) => {
                let found = core
                    .store
                    .api_key_user(&hash, now)
                    .await?
                    .ok_or(Error::Unauthenticated)?;
                if !hashes_equal(&found.token_hash, &hash) {
                    return Err(Error::Unauthenticated);
                }
                let (kid, last_used, user) = (found.id, found.last_used_at, found.user);
                // Record use at most once a minute: a write per request would cost more
                // than the look-up itself.
                if last_used.is_none_or(|t| now.as_millis() - t.as_millis() > 60_000) {
                    let store = core.store.clone();
                    tokio::spawn(async move {
                        if let Err(e) = store.touch_api_key(kid, now).await {
                            tracing::warn!(error = %e, "could not record api key use");
                        }
                    });
                }
                (user, Credential::ApiKey(kid))
            }
            _ => return Err(Error::Unauthenticated),
        };
        core.admit(user, credential, origin)
    }

    /// Authenticates a bearer token and authorizes `P` in the org, for org-scoped
    /// requests. A session token does both in one database round trip; other tokens
    /// take the two-step path. Either way the checks are `admit` and `access_from`.
    pub async fn org<P: Perm>(
        &self,
        token: &str,
        r: &OrgRef,
        origin: Origin,
    ) -> Result<OrgAccess<P>> {
        let core = self.0;
        if TokenKind::of(token) != Some(TokenKind::Session) || matches!(r, OrgRef::Invalid) {
            let actor = self.authenticate(token, origin).await?;
            return self.org_for(actor, r).await;
        }
        let hash = token_hash(token);
        let found = core
            .store
            .session_org_access(&hash, core.clock.now(), r.key()?)
            .await?;
        let (auth, org) = found.ok_or(Error::Unauthenticated)?;
        if !hashes_equal(&auth.token_hash, &hash) {
            return Err(Error::Unauthenticated);
        }
        let actor = core.admit(auth.user, Credential::Session(auth.id), origin)?;
        let (org, member) = org.ok_or_else(Error::org_not_found)?;
        access_from(actor, org, member)
    }

    /// Authorizes `P` in the org for an actor already authenticated.
    pub async fn org_for<P: Perm>(&self, actor: Actor, r: &OrgRef) -> Result<OrgAccess<P>> {
        let (org, member) = self
            .0
            .store
            .org_access(r.key()?, actor.user.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        access_from(actor, org, member)
    }

    /// Authorizes `P` at the scope named by `path` in the org: the org must be visible
    /// (404), the workspace and project must belong to it (404), and the role that
    /// counts there for `P` must allow it (403).
    pub async fn scope<P: Perm>(
        &self,
        token: &str,
        r: &OrgRef,
        path: ScopePath,
        origin: Origin,
    ) -> Result<ScopeAccess<P>> {
        // Membership of the org is the entry ticket; `P` is decided below.
        let entry = self.org::<perm::OrgRead>(token, r, origin).await?;
        let core = self.0;
        let org_id = entry.org.id;
        let workspace = match path.workspace {
            Some(w) => Some(core.workspace_in(org_id, w).await?),
            None => None,
        };
        let project = match (path.project, &workspace) {
            (Some(p), Some(ws)) => Some(core.project_in(org_id, ws, p).await?),
            (Some(_), None) => return Err(Error::not_found("project_not_found", "project")),
            (None, _) => None,
        };
        core.scope_access(entry.actor, entry.org, entry.role, workspace, project)
            .await
    }

    /// Authenticates and checks the system-admin flag (403 for everyone else).
    pub async fn system_admin(&self, token: &str, origin: Origin) -> Result<SystemAdmin> {
        let actor = self.authenticate(token, origin).await?;
        if actor.is_system_admin() {
            Ok(SystemAdmin { actor })
        } else {
            Err(Error::forbidden(
                "system_admin_required",
                "only system admins may do this",
            ))
        }
    }
}

impl Core {
    /// Decides `P` at the scope given by `workspace` and `project` of `org`, whose
    /// membership (`org_role`) the actor has already shown.
    async fn scope_access<P: Perm>(
        &self,
        actor: Actor,
        org: Org,
        org_role: Option<Role>,
        workspace: Option<Workspace>,
        project: Option<Project>,
    ) -> Result<ScopeAccess<P>> {
        let at = if project.is_some() {
            ScopeKind::Project
        } else if workspace.is_some() {
            ScopeKind::Workspace
        } else {
            ScopeKind::Org
        };
        let role = if at.min(P::P.reach()) == ScopeKind::Org {
            org_role
        } else {
            let chain = self
                .store
                .role_chain(
                    actor.user.id,
                    org.id,
                    workspace.as_ref().map(|w| w.id),
                    project.as_ref().map(|p| p.id),
                )
                .await?;
            chain.role_for(P::P, at)
        };
        if !actor.is_system_admin() && !role.is_some_and(|r| r.allows(P::P)) {
            return Err(Error::forbidden(
                "forbidden",
                format!("your role does not allow {} here", P::P),
            ));
        }
        Ok(ScopeAccess {
            actor,
            org,
            org_role,
            workspace,
            project,
            role,
            _p: PhantomData,
        })
    }

    /// The same scope, checked for a stronger permission `Q` (which may take the role
    /// of a deeper scope to decide).
    pub(crate) async fn narrow<P: Perm, Q: Perm>(
        &self,
        access: &ScopeAccess<P>,
    ) -> Result<ScopeAccess<Q>> {
        self.scope_access(
            access.actor.clone(),
            access.org.clone(),
            access.org_role,
            access.workspace.clone(),
            access.project.clone(),
        )
        .await
    }

    /// The checks every credential's user passes, on every request: disabled users
    /// stop at once, and the access lists apply (a session opened before a list was
    /// tightened stops too; system admins are exempt, as at login).
    pub(crate) fn admit(
        &self,
        user: User,
        credential: Credential,
        origin: Origin,
    ) -> Result<Actor> {
        if !user.enabled {
            return Err(Error::Unauthenticated);
        }
        if !user.is_system_admin {
            self.cfg.policy.admits(&user.email)?;
        }
        Ok(Actor {
            user,
            credential,
            origin,
        })
    }

    /// A workspace of the org (404 if it belongs to another org).
    pub(crate) async fn workspace_in(&self, org: OrgId, id: WorkspaceId) -> Result<Workspace> {
        match self.store.workspace(id).await? {
            Some(w) if w.org_id == org => Ok(w),
            _ => Err(Error::not_found("workspace_not_found", "workspace")),
        }
    }

    /// A project of a workspace of the org.
    pub(crate) async fn project_in(
        &self,
        org: OrgId,
        ws: &Workspace,
        id: ProjectId,
    ) -> Result<Project> {
        match self.store.project(id).await? {
            Some(p) if p.workspace_id == ws.id && p.org_id == org => Ok(p),
            _ => Err(Error::not_found("project_not_found", "project")),
        }
    }

    pub(crate) async fn find_org(&self, r: &OrgRef) -> Result<Option<Org>> {
        Ok(match r {
            OrgRef::Id(id) => self.store.org_by_id(*id).await?,
            OrgRef::Slug(s) => self.store.org_by_slug(s).await?,
            OrgRef::Invalid => None,
        })
    }
}

/// The isolation rules: no active membership is 404 (so is a deleted org, except for
/// restoring it), too low a role is 403. System admins pass.
fn access_from<P: Perm>(
    actor: Actor,
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
    if org.is_deleted() && P::P != Permission::OrgRestore && !system_admin {
        return Err(Error::org_not_found());
    }
    check(role, system_admin, P::P)?;
    Ok(OrgAccess {
        actor,
        org,
        role,
        _p: PhantomData,
    })
}
