//! What the store keeps: plain records of domain types. No behaviour beyond shape.

use orgbase_domain::{
    ApiKeyId, AuditId, Email, InvitationId, InvitationStatus, MembershipStatus, OrgId, OrgStatus,
    ProjectId, Role, ScopeKind, SessionId, Slug, Timestamp, UserId, WorkspaceId,
};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: Option<String>,
    pub is_system_admin: bool,
    pub enabled: bool,
    pub home_org_id: Option<OrgId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub status: OrgStatus,
    pub owner_id: Option<UserId>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
    pub public: bool,
    /// Sign-up through the org's key: on or off, the key, the role it grants.
    pub signup_enabled: bool,
    pub signup_key: Option<String>,
    pub signup_role: Role,
    /// The org's configuration document (secrets inside are sealed).
    pub config: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a membership applies. The id is the org's, workspace's or project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone)]
pub struct Membership {
    pub scope: Scope,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub status: MembershipStatus,
    pub invited_by: Option<UserId>,
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A membership row with the member's e-mail and name, for member lists.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: Membership,
    pub email: Email,
    pub name: String,
}

/// An org as one of the caller's orgs: the org plus the caller's role in it.
#[derive(Debug, Clone)]
pub struct OrgWithRole {
    pub org: Org,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: AuditId,
    pub at: Timestamp,
    pub actor_user_id: Option<UserId>,
    pub actor_api_key_id: Option<ApiKeyId>,
    pub org_id: Option<OrgId>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

/// The roles a user holds on the way down to a project, as stored (active rows only).
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleChain {
    pub org: Option<Role>,
    pub workspace: Option<Role>,
    pub project: Option<Role>,
}

/// Keyset pagination: items after `after` (by id), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says that
    /// there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more { rows.last().map(&id_of) } else { None };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<OrgId>,
    pub action: Option<String>,
}

/// Which orgs an admin listing shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgFilter {
    pub include_deleted: bool,
}

/// A live session found by its token hash, with its user.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub id: SessionId,
    pub token_hash: String,
    pub user: User,
}

/// A live API key found by its token hash, with its user.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub id: ApiKeyId,
    pub token_hash: String,
    pub last_used_at: Option<Timestamp>,
    pub user: User,
}

/// How an org is named in a look-up.
#[derive(Debug, Clone, Copy)]
pub enum OrgKey<'a> {
    Id(OrgId),
    Slug(&'a Slug),
}

/// An e-mail domain an org claims.
#[derive(Debug, Clone)]
pub struct OrgDomain {
    pub domain: String,
    pub org_id: OrgId,
    /// New users of this domain join the org at sign-up.
    pub auto_join: bool,
    pub role: Role,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub workspace_id: Option<WorkspaceId>,
    pub project_id: Option<ProjectId>,
    pub email: Email,
    pub role: Role,
    pub token_hash: String,
    pub status: InvitationStatus,
    pub invited_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

/// A one-time set-password link (only its hash is kept).
#[derive(Debug, Clone)]
pub struct PasswordToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An org with the caller's org role and membership status, if they have one.
pub type OrgAccessRow = (Org, Option<(Role, MembershipStatus)>);
