//! Authentication and authorization, as values.
//!
//! Every use case takes the proof it needs, and only this module builds proofs:
//! - [`Actor`]: an authenticated person (for the caller's own things);
//! - [`Caller`]: a person, or an organization's service key ([`ServiceActor`]), which
//!   acts only inside its own org and only through the proofs below;
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
    ApiKeyId, Assistant, AssistantId, MembershipStatus, Org, OrgApiKey, OrgId, Permission, Project,
    ProjectId, Role, Scope, ScopeKind, SessionId, Slug, User, UserId, Workspace, WorkspaceId,
    role_for,
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
        OidcClientsManage,
        AssistantsManage,
        AuditRead,
        OrgExport,
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

/// An organization's service key acting in its org: a service account with the key's
/// role (at most admin) and scopes. Only [`Authz`] makes one.
#[derive(Debug, Clone)]
pub struct ServiceActor {
    key: OrgApiKey,
    origin: Origin,
}

impl ServiceActor {
    pub fn key(&self) -> &OrgApiKey {
        &self.key
    }
}

/// Whoever makes an org-scoped request: a person (session or personal API key) or an
/// org's service key.
#[derive(Debug, Clone)]
pub enum Caller {
    User(Actor),
    Service(ServiceActor),
}

impl Caller {
    /// The person acting, if a person acts.
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::User(a) => Some(&a.user),
            Caller::Service(_) => None,
        }
    }
    pub fn user_id(&self) -> Option<UserId> {
        self.user().map(|u| u.id)
    }
    pub fn origin(&self) -> &Origin {
        match self {
            Caller::User(a) => &a.origin,
            Caller::Service(s) => &s.origin,
        }
    }
    pub fn is_system_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_system_admin)
    }
    /// The service key acting, if one does.
    pub fn service_key(&self) -> Option<&OrgApiKey> {
        match self {
            Caller::User(_) => None,
            Caller::Service(s) => Some(&s.key),
        }
    }
    /// Names the caller's account for per-account rate limits.
    pub fn account(&self) -> String {
        match self {
            Caller::User(a) => a.user.email.as_str().to_string(),
            Caller::Service(s) => format!("key:{}", s.key.id),
        }
    }
    /// Whether the caller holds `p` when `role` is the role that counts: system
    /// admins always; a service key by its role and its scopes; a person by the role.
    fn permits(&self, role: Option<Role>, p: Permission) -> bool {
        match self {
            _ if self.is_system_admin() => true,
            Caller::Service(s) => {
                role.is_some_and(|r| r.allows(p))
                    && (p != Permission::SecretsRead || s.key.allows(p))
            }
            Caller::User(_) => role.is_some_and(|r| r.allows(p)),
        }
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

    /// Whether this names `org`.
    fn names(&self, org: &Org) -> bool {
        match self {
            OrgRef::Id(id) => *id == org.id,
            OrgRef::Slug(s) => *s == org.slug,
            OrgRef::Invalid => false,
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
    caller: Caller,
    org: Org,
    /// The caller's own org role (a service key's role); `None` for a system admin who
    /// is not a member.
    role: Option<Role>,
    _p: PhantomData<P>,
}

impl<P: Perm> OrgAccess<P> {
    pub fn caller(&self) -> &Caller {
        &self.caller
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
        self.caller.is_system_admin()
    }

    /// The same access, narrowed to a stronger permission if the role allows it.
    pub fn require<Q: Perm>(&self) -> Result<OrgAccess<Q>> {
        check(&self.caller, self.role, Q::P)?;
        Ok(OrgAccess {
            caller: self.caller.clone(),
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
        AuditCtx::from(&self.caller)
    }
}

/// Proof about one assistant: `AssistantsRead` means the caller may see it (a member
/// of its home org or of an org it is shared with); `AssistantsEditOwn` means the caller
/// may change it (an admin of its home org, or its owner with at least the editor role
/// there). Anyone else: 404 when they cannot see it, 403 when they only see it.
#[derive(Debug)]
pub struct AssistantAccess<P> {
    caller: Caller,
    assistant: Assistant,
    home: Org,
    /// The caller's role in the home org (a service key's role when it is the key's
    /// org).
    home_role: Option<Role>,
    _p: PhantomData<P>,
}

impl<P: Perm> AssistantAccess<P> {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
    pub fn assistant(&self) -> &Assistant {
        &self.assistant
    }
    pub fn home(&self) -> &Org {
        &self.home
    }
    /// Whether the caller may read the home org's secrets (the provider key in a
    /// resolved configuration).
    pub fn may_read_secrets(&self) -> bool {
        self.caller.permits(self.home_role, Permission::SecretsRead)
    }
    /// Whether the caller may change the assistant (see the type's documentation).
    pub fn may_edit(&self) -> bool {
        may_edit(&self.caller, self.home_role, &self.assistant)
    }
    pub(crate) fn audit(&self) -> AuditCtx {
        AuditCtx::from(&self.caller)
    }
}

fn may_edit(caller: &Caller, home_role: Option<Role>, a: &Assistant) -> bool {
    caller.permits(home_role, Permission::AssistantsManage)
        || (caller.permits(home_role, Permission::AssistantsEditOwn)
            && a.owner_id.is_some()
            && a.owner_id == caller.user_id())
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
    caller: Caller,
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
    pub fn caller(&self) -> &Caller {
        &self.caller
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
        self.caller.is_system_admin()
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
        AuditCtx::from(&self.caller)
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

/// Who may ask `POST /check`: a system admin about any org, or a service key with the
/// `check` scope about its own org.
#[derive(Debug)]
pub enum CheckAuthority {
    SystemAdmin(SystemAdmin),
    Service(ServiceActor),
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

fn check(caller: &Caller, role: Option<Role>, p: Permission) -> Result<()> {
    if caller.permits(role, p) {
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
            Some(TokenKind::OrgKey) => {
                // A working service key is a credential, but not a person's.
                self.service(token, origin).await?;
                return Err(Error::forbidden(
                    "service_key_not_allowed",
                    "an organization's service key cannot do this; use a person's session or API key",
                ));
            }
            _ => return Err(Error::Unauthenticated),
        };
        core.admit(user, credential, origin)
    }

    /// Resolves an organization's service key (401 when unknown or expired).
    async fn service(&self, token: &str, origin: Origin) -> Result<(ServiceActor, Org)> {
        let core = self.0;
        let now = core.clock.now();
        let hash = token_hash(token);
        let (key, org) = core
            .store
            .org_api_key_auth(&hash, now)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if !hashes_equal(&key.token_hash, &hash) {
            return Err(Error::Unauthenticated);
        }
        // A suspended org's keys do nothing at all (ADR 0022), `POST /check` included.
        if org.is_suspended() {
            return Err(Error::org_suspended());
        }
        if key
            .last_used_at
            .is_none_or(|t| now.as_millis() - t.as_millis() > 60_000)
        {
            let store = core.store.clone();
            let kid = key.id;
            tokio::spawn(async move {
                if let Err(e) = store.touch_org_api_key(kid, now).await {
                    tracing::warn!(error = %e, "could not record service key use");
                }
            });
        }
        Ok((ServiceActor { key, origin }, org))
    }

    /// Authenticates anyone who may act in an org: a person, or a service key.
    pub async fn caller(&self, token: &str, origin: Origin) -> Result<Caller> {
        if TokenKind::of(token) == Some(TokenKind::OrgKey) {
            Ok(Caller::Service(self.service(token, origin).await?.0))
        } else {
            Ok(Caller::User(self.authenticate(token, origin).await?))
        }
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
        if TokenKind::of(token) == Some(TokenKind::OrgKey) {
            let (service, org) = self.service(token, origin).await?;
            return service_access(service, org, r);
        }
        if TokenKind::of(token) != Some(TokenKind::Session) || matches!(r, OrgRef::Invalid) {
            let actor = self.authenticate(token, origin).await?;
            return self.org_for(Caller::User(actor), r).await;
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
        access_from(Caller::User(actor), org, member)
    }

    /// Authorizes `P` in the org for a caller already authenticated.
    pub async fn org_for<P: Perm>(&self, caller: Caller, r: &OrgRef) -> Result<OrgAccess<P>> {
        let user = match caller {
            Caller::Service(service) => {
                // The key's own org, as it was when the key was resolved.
                let org = self
                    .0
                    .store
                    .org_by_id(service.key.org_id)
                    .await?
                    .ok_or_else(Error::org_not_found)?;
                return service_access(service, org, r);
            }
            Caller::User(ref a) => a.user.id,
        };
        let (org, member) = self
            .0
            .store
            .org_access(r.key()?, user)
            .await?
            .ok_or_else(Error::org_not_found)?;
        access_from(caller, org, member)
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
        core.scope_access(entry.caller, entry.org, entry.role, workspace, project)
            .await
    }

    /// Authenticates someone who may ask permission checks (403 for everyone else).
    pub async fn checker(&self, token: &str, origin: Origin) -> Result<CheckAuthority> {
        if TokenKind::of(token) == Some(TokenKind::OrgKey) {
            let (service, _) = self.service(token, origin).await?;
            if !service.key.has(orgbase_domain::KeyScope::Check) {
                return Err(Error::forbidden(
                    "scope_required",
                    "this service key lacks the check scope",
                ));
            }
            return Ok(CheckAuthority::Service(service));
        }
        Ok(CheckAuthority::SystemAdmin(
            self.system_admin(token, origin).await?,
        ))
    }

    /// Authorizes `P` on an assistant: `AssistantsRead` to see it, `AssistantsEditOwn` to
    /// change it (see [`AssistantAccess`]). An assistant the caller cannot see is 404.
    pub async fn assistant<P: Perm>(
        &self,
        token: &str,
        id: AssistantId,
        origin: Origin,
    ) -> Result<AssistantAccess<P>> {
        let core = self.0;
        let caller = self.caller(token, origin).await?;
        let not_found = || Error::not_found("assistant_not_found", "assistant");
        let assistant = core.store.assistant(id).await?.ok_or_else(not_found)?;
        let home = core
            .store
            .org_by_id(assistant.org_id)
            .await?
            .ok_or_else(not_found)?;
        let (visible, home_role) = match &caller {
            _ if caller.is_system_admin() => (true, None),
            // The key's own org is the home org (the usual case): nothing more to read.
            Caller::Service(s) if s.key.org_id == home.id => (true, Some(s.key.role)),
            Caller::Service(s) => {
                let org = s.key.org_id;
                let mine = core.store.assistant_in(id, org).await?
                    && core
                        .store
                        .org_by_id(org)
                        .await?
                        .is_some_and(|o| !o.is_deleted());
                (mine, None)
            }
            Caller::User(a) => {
                let roles = core.store.assistant_roles(id, a.user.id).await?;
                let home_role = roles.iter().find(|(o, _)| *o == home.id).map(|(_, r)| *r);
                (!roles.is_empty(), home_role)
            }
        };
        if !visible || (home.is_deleted() && !caller.is_system_admin()) {
            return Err(not_found());
        }
        if home.is_suspended() && !caller.is_system_admin() {
            return Err(Error::org_suspended());
        }
        let allowed = match P::P {
            Permission::AssistantsRead => true,
            Permission::AssistantsEditOwn => may_edit(&caller, home_role, &assistant),
            p => caller.permits(home_role, p),
        };
        if !allowed {
            return Err(Error::forbidden(
                "forbidden",
                format!("your role does not allow {} on this assistant", P::P),
            ));
        }
        Ok(AssistantAccess {
            caller,
            assistant,
            home,
            home_role,
            _p: PhantomData,
        })
    }

    /// Authenticates and checks the system-admin flag (403 for everyone else).
    pub async fn system_admin(&self, token: &str, origin: Origin) -> Result<SystemAdmin> {
        if TokenKind::of(token) == Some(TokenKind::OrgKey) {
            // A working service key is never a system admin.
            self.service(token, origin).await?;
            return Err(Error::forbidden(
                "system_admin_required",
                "only system admins may do this",
            ));
        }
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
        caller: Caller,
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
        let role = match caller.user_id() {
            _ if at.min(P::P.reach()) == ScopeKind::Org => org_role,
            // A service key has its org role only: below the org it counts as an org
            // member's would (admin reaches down; editor and viewer do not).
            None => role_for(P::P, at, org_role, None, None),
            Some(user) => {
                let chain = self
                    .store
                    .role_chain(
                        user,
                        org.id,
                        workspace.as_ref().map(|w| w.id),
                        project.as_ref().map(|p| p.id),
                    )
                    .await?;
                chain.role_for(P::P, at)
            }
        };
        if !caller.permits(role, P::P) {
            return Err(Error::forbidden(
                "forbidden",
                format!("your role does not allow {} here", P::P),
            ));
        }
        Ok(ScopeAccess {
            caller,
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
            access.caller.clone(),
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
    caller: Caller,
    org: Org,
    member: Option<(Role, MembershipStatus)>,
) -> Result<OrgAccess<P>> {
    let system_admin = caller.is_system_admin();
    let role = member
        .filter(|(_, status)| *status == MembershipStatus::Active)
        .map(|(role, _)| role);
    if role.is_none() && !system_admin {
        return Err(Error::org_not_found());
    }
    if org.is_deleted() && P::P != Permission::OrgRestore && !system_admin {
        return Err(Error::org_not_found());
    }
    if org.is_suspended() && !system_admin {
        return Err(Error::org_suspended());
    }
    check(&caller, role, P::P)?;
    Ok(OrgAccess {
        caller,
        org,
        role,
        _p: PhantomData,
    })
}

/// The same rules for a service key: it reaches its own org only (any other is 404,
/// like a non-member's), never a deleted one, with its role and scopes.
fn service_access<P: Perm>(service: ServiceActor, org: Org, r: &OrgRef) -> Result<OrgAccess<P>> {
    if org.id != service.key.org_id || !r.names(&org) || org.is_deleted() {
        return Err(Error::org_not_found());
    }
    if org.is_suspended() {
        return Err(Error::org_suspended());
    }
    let role = Some(service.key.role);
    let caller = Caller::Service(service);
    check(&caller, role, P::P)?;
    Ok(OrgAccess {
        caller,
        org,
        role,
        _p: PhantomData,
    })
}
