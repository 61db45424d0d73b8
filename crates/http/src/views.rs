//! What the API returns: JSON shapes of the store's records. Secrets (password
//! hashes, token hashes) have no field here, so they cannot leak by accident.

use orgbase_domain::{Role, Timestamp};
use orgbase_service::{
    ApiKey, AuditEvent, Invitation, Member, Membership, Org, OrgDomain, Page, Project, User,
    Workspace,
};
use serde::Serialize;
use uuid::Uuid;

#[derive(Serialize)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub fn page<R, T>(p: Page<R>, f: impl Fn(R) -> T) -> PageView<T> {
    PageView {
        items: p.items.into_iter().map(f).collect(),
        next_cursor: p.next_cursor.map(|c| c.to_string()),
    }
}

#[derive(Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub is_system_admin: bool,
    pub enabled: bool,
    pub home_org_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.as_str().to_string(),
            name: u.name,
            is_system_admin: u.is_system_admin,
            enabled: u.enabled,
            home_org_id: u.home_org_id.map(|o| o.0),
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Serialize)]
pub struct OrgView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub status: &'static str,
    pub owner_id: Option<Uuid>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
    pub public: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// The caller's role in the org, when they are a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_role: Option<Role>,
}

impl OrgView {
    pub fn new(o: Org, my_role: Option<Role>) -> Self {
        Self {
            id: o.id.0,
            slug: o.slug.as_str().to_string(),
            name: o.name,
            description: o.description,
            is_system: o.is_system,
            status: o.status.as_str(),
            owner_id: o.owner_id.map(|u| u.0),
            default_framework: o.default_framework,
            default_language_model: o.default_language_model,
            public: o.public,
            created_at: o.created_at,
            updated_at: o.updated_at,
            deleted_at: o.deleted_at,
            my_role,
        }
    }
}

#[derive(Serialize)]
pub struct WorkspaceView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Workspace> for WorkspaceView {
    fn from(w: Workspace) -> Self {
        Self {
            id: w.id.0,
            org_id: w.org_id.0,
            name: w.name,
            is_default: w.is_default,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Serialize)]
pub struct ProjectView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> Self {
        Self {
            id: p.id.0,
            org_id: p.org_id.0,
            workspace_id: p.workspace_id.0,
            name: p.name,
            is_default: p.is_default,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize)]
pub struct MembershipView {
    pub scope: &'static str,
    pub scope_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Membership> for MembershipView {
    fn from(m: Membership) -> Self {
        Self {
            scope: m.scope.kind().as_str(),
            scope_id: m.scope.uuid(),
            org_id: m.org_id.0,
            user_id: m.user_id.0,
            role: m.role,
            status: m.status.as_str(),
            invited_by: m.invited_by.map(|u| u.0),
            joined_at: m.joined_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize)]
pub struct MemberView {
    pub email: String,
    pub name: String,
    #[serde(flatten)]
    pub membership: MembershipView,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            email: m.email.as_str().to_string(),
            name: m.name,
            membership: m.membership.into(),
        }
    }
}

#[derive(Serialize)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.0,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

#[derive(Serialize)]
pub struct AuditView {
    pub id: Uuid,
    pub at: Timestamp,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

impl From<AuditEvent> for AuditView {
    fn from(a: AuditEvent) -> Self {
        Self {
            id: a.id.0,
            at: a.at,
            actor_user_id: a.actor_user_id.map(|u| u.0),
            actor_api_key_id: a.actor_api_key_id.map(|k| k.0),
            org_id: a.org_id.map(|o| o.0),
            action: a.action,
            target_type: a.target_type,
            target_id: a.target_id,
            details: a.details,
            client_addr: a.client_addr,
            request_id: a.request_id,
        }
    }
}

#[derive(Serialize)]
pub struct DomainView {
    pub domain: String,
    pub org_id: Uuid,
    pub auto_join: bool,
    pub role: Role,
    pub created_at: Timestamp,
}

impl From<OrgDomain> for DomainView {
    fn from(d: OrgDomain) -> Self {
        Self {
            domain: d.domain,
            org_id: d.org_id.0,
            auto_join: d.auto_join,
            role: d.role,
            created_at: d.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub email: String,
    pub role: Role,
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id.0,
            org_id: i.org_id.0,
            workspace_id: i.workspace_id.map(|w| w.0),
            project_id: i.project_id.map(|p| p.0),
            email: i.email.as_str().to_string(),
            role: i.role,
            status: i.status.as_str(),
            invited_by: i.invited_by.map(|u| u.0),
            created_at: i.created_at,
            updated_at: i.updated_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
        }
    }
}
