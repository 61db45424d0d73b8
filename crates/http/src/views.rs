//! What the API returns: JSON shapes of the domain's entities, each with its schema in
//! the OpenAPI document. Secrets (password hashes, token hashes) have no field here, so
//! they cannot leak by accident.

use orgbase_domain::entities::{
    ApiKey, AuditEvent, Invitation, Member, Membership, Org, OrgDomain, Page, Project, User,
    Workspace,
};
use orgbase_domain::{
    AuditAction, DomainStatus, InvitationStatus, KeyScope, MembershipStatus, OrgApiKey, OrgStatus,
    Role, ScopeKind, Timestamp,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use uuid::Uuid;

/// A string schema whose values are the given names, published as a named component.
/// The names come from the domain's own lists, so the document cannot drift from them.
macro_rules! names_schema {
    ($(#[$meta:meta])* $name:ident, $values:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some($values))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

names_schema!(
    /// A role, lowest to highest.
    RoleName,
    Role::ALL.iter().map(|r| r.as_str())
);
names_schema!(
    /// A role that may be granted (owner moves only by transfer).
    GrantableRoleName,
    Role::ALL.iter().filter(|r| **r != Role::Owner).map(|r| r.as_str())
);
names_schema!(
    /// The state of an organization.
    OrgStatusName,
    OrgStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    /// The state of a membership.
    MembershipStatusName,
    MembershipStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    /// The state of a domain claim: pending until proven, then verified.
    DomainStatusName,
    DomainStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    /// The state of an invitation.
    InvitationStatusName,
    InvitationStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    /// What an audit event records.
    AuditActionName,
    AuditAction::ALL.iter().map(|a| a.as_str())
);
names_schema!(
    /// What a bulk import does with a row.
    ImportOutcomeName,
    ["create", "add", "skip", "error"].into_iter()
);
names_schema!(
    /// The level a membership is held at.
    ScopeName,
    [ScopeKind::Org, ScopeKind::Workspace, ScopeKind::Project].iter().map(|s| s.as_str())
);

/// One page of a list; pass `next_cursor` as `cursor` for the next one.
#[derive(Serialize, ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

pub fn page<R, T>(p: Page<R>, f: impl Fn(R) -> T) -> PageView<T> {
    PageView {
        items: p.items.into_iter().map(f).collect(),
        next_cursor: p.next_cursor.map(|c| c.to_string()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub is_system_admin: bool,
    pub enabled: bool,
    pub home_org_id: Option<Uuid>,
    /// Whether the user proved they own the address (followed the mailed link, or
    /// accepted an invitation sent there).
    pub email_verified: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub email_verified_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
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
            email_verified: u.email_verified_at.is_some(),
            email_verified_at: u.email_verified_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    #[schema(value_type = OrgStatusName)]
    pub status: &'static str,
    pub owner_id: Option<Uuid>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
    pub public: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<Timestamp>,
    /// The caller's role in the org, when they are a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RoleName>)]
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

#[derive(Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub is_default: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
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

#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub is_default: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
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

#[derive(Serialize, ToSchema)]
pub struct MembershipView {
    #[schema(value_type = ScopeName)]
    pub scope: &'static str,
    pub scope_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    #[schema(value_type = RoleName)]
    pub role: Role,
    #[schema(value_type = MembershipStatusName)]
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
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

/// A membership with the member's e-mail and name. Its fields are spelled out, not a
/// flattened `MembershipView`: serde's flatten goes through a map serializer, a
/// measurable share of a 50-member page.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub email: String,
    pub name: String,
    #[schema(value_type = ScopeName)]
    pub scope: &'static str,
    pub scope_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    #[schema(value_type = RoleName)]
    pub role: Role,
    #[schema(value_type = MembershipStatusName)]
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        let v = MembershipView::from(m.membership);
        Self {
            email: m.email.into_string(),
            name: m.name,
            scope: v.scope,
            scope_id: v.scope_id,
            org_id: v.org_id,
            user_id: v.user_id,
            role: v.role,
            status: v.status,
            invited_by: v.invited_by,
            joined_at: v.joined_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
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

names_schema!(
    /// What a service key may do beyond its role.
    KeyScopeName,
    KeyScope::ALL.iter().map(|s| s.as_str())
);

/// An organization's service key (the token itself is never shown again).
#[derive(Serialize, ToSchema)]
pub struct OrgApiKeyView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub prefix: String,
    #[schema(value_type = GrantableRoleName)]
    pub role: Role,
    #[schema(value_type = Vec<KeyScopeName>)]
    pub scopes: Vec<&'static str>,
    pub created_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl From<OrgApiKey> for OrgApiKeyView {
    fn from(k: OrgApiKey) -> Self {
        Self {
            id: k.id.0,
            org_id: k.org_id.0,
            name: k.name,
            prefix: k.prefix,
            role: k.role,
            scopes: k.scopes.iter().map(|s| s.as_str()).collect(),
            created_by: k.created_by.map(|u| u.0),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A service key just made: the token is shown this once.
#[derive(Serialize, ToSchema)]
pub struct OrgApiKeyCreatedView {
    #[serde(flatten)]
    pub key: OrgApiKeyView,
    /// The key (`obo_…`); only its hash is stored.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    #[schema(value_type = AuditActionName)]
    pub action: &'static str,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Object)]
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
            action: a.action.as_str(),
            target_type: a.target_type,
            target_id: a.target_id,
            details: a.details,
            client_addr: a.client_addr,
            request_id: a.request_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DomainView {
    pub domain: String,
    pub org_id: Uuid,
    pub auto_join: bool,
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// A pending claim does nothing until it is verified.
    #[schema(value_type = DomainStatusName)]
    pub status: &'static str,
    /// What to publish in DNS to verify the claim.
    pub txt_record: TxtRecordView,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<Timestamp>,
}

/// The DNS record that proves a claim: publish it, then ask to verify.
#[derive(Serialize, ToSchema)]
pub struct TxtRecordView {
    /// e.g. `_orgbase-challenge.example.com`
    pub name: String,
    /// e.g. `orgbase-verification=3f…`
    pub value: String,
}

impl From<OrgDomain> for DomainView {
    fn from(d: OrgDomain) -> Self {
        Self {
            txt_record: TxtRecordView {
                name: d.txt_name(),
                value: d.txt_value(),
            },
            domain: d.domain,
            org_id: d.org_id.0,
            auto_join: d.auto_join,
            role: d.role,
            status: d.status.as_str(),
            created_at: d.created_at,
            verified_at: d.verified_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub email: String,
    #[schema(value_type = RoleName)]
    pub role: Role,
    #[schema(value_type = InvitationStatusName)]
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
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

/// `POST /auth/verify-email`: the user, and the org they joined because it proved
/// their domain (when they belonged to none).
#[derive(Serialize, ToSchema)]
pub struct VerifiedView {
    pub user: UserView,
    pub organization: Option<OrgView>,
}

/// `POST /orgs/{org}/domains/{domain}/backfill`: who was (or, in a dry run, would be)
/// added.
#[derive(Serialize, ToSchema)]
pub struct BackfillView {
    pub dry_run: bool,
    pub count: usize,
    pub users: Vec<UserView>,
}

/// `POST /auth/login`: a session.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session token (`obs_…`); send it as `Authorization: Bearer`.
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub user: UserView,
}

/// `POST /auth/signup`: the new user, a session, and the personal org when one was made.
#[derive(Serialize, ToSchema)]
pub struct SignupView {
    pub user: UserView,
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub organization: Option<OrgView>,
}

/// A membership of the caller, with the org's slug.
#[derive(Serialize, ToSchema)]
pub struct MyMembershipView {
    #[serde(flatten)]
    pub membership: MembershipView,
    pub org_slug: String,
}

/// `GET /me`.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub user: UserView,
    pub memberships: Vec<MyMembershipView>,
}

/// A personal API key just made: the token is shown this once.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreatedView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The key (`obk_…`); only its hash is stored.
    pub token: String,
}

/// An invitation just made or re-sent: the token and link are shown this once.
#[derive(Serialize, ToSchema)]
pub struct InvitationCreatedView {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Only when no mail is configured: then pass the link on yourself (it proves
    /// nothing about the address). With mail, the link goes only to the invitee.
    pub token: Option<String>,
    pub accept_url: Option<String>,
}

impl From<orgbase_service::InvitationCreated> for InvitationCreatedView {
    fn from(c: orgbase_service::InvitationCreated) -> Self {
        Self {
            invitation: c.invitation.into(),
            token: c.token,
            accept_url: c.accept_url,
        }
    }
}

/// `POST /invitations/accept`: the org joined.
#[derive(Serialize, ToSchema)]
pub struct AcceptedView {
    pub organization: OrgView,
}

/// `POST /orgs/{org}/users`: the account, its role, and a one-time set-password link
/// when no password was given.
#[derive(Serialize, ToSchema)]
pub struct OrgUserCreatedView {
    pub user: UserView,
    #[schema(value_type = RoleName)]
    pub role: Role,
    pub set_password_token: Option<String>,
    pub set_password_url: Option<String>,
}

/// An org's sign-up settings.
#[derive(Serialize, ToSchema)]
pub struct SignupSettingsView {
    pub enabled: bool,
    /// The signup key people type at sign-up; absent when none is set.
    pub key: Option<String>,
    #[schema(value_type = RoleName)]
    pub default_role: Role,
}

impl From<orgbase_service::SignupSettings> for SignupSettingsView {
    fn from(s: orgbase_service::SignupSettings) -> Self {
        Self {
            enabled: s.enabled,
            key: s.key,
            default_role: s.default_role,
        }
    }
}

/// `POST /check`: whether the user may, and their effective role there.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    pub allowed: bool,
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<Role>,
}

/// `POST /admin/system/sync`: what the sync changed.
#[derive(Serialize, ToSchema)]
pub struct SyncView {
    /// One line per changed field; empty when nothing changed.
    pub changed: Vec<String>,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct HealthView {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct ReadyView {
    /// Always `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// One row of a bulk import's report.
#[derive(Serialize, ToSchema)]
pub struct ImportRowView {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// As given, or normalized when it is a valid address.
    pub email: String,
    pub name: String,
    #[schema(value_type = Option<GrantableRoleName>)]
    pub role: Option<Role>,
    pub workspace_id: Option<Uuid>,
    /// `create` (a new account), `add` (an existing account joins), `skip` (already a
    /// member) or `error`.
    #[schema(value_type = ImportOutcomeName)]
    pub outcome: &'static str,
    /// For `skip` and `error`: a stable code, e.g. `domain_not_claimed`.
    pub code: Option<&'static str>,
    /// For `skip` and `error`: why.
    pub reason: Option<String>,
    /// The account, when there is one (new accounts once imported).
    pub user_id: Option<Uuid>,
}

/// Rows by outcome.
#[derive(Serialize, ToSchema)]
pub struct ImportTotalsView {
    pub rows: usize,
    pub create: usize,
    pub add: usize,
    pub skip: usize,
    pub error: usize,
}

/// `POST /orgs/{org}/users/import`: what each row does (dry run) or did.
#[derive(Serialize, ToSchema)]
pub struct ImportReportView {
    pub dry_run: bool,
    /// Whether the rows were written.
    pub executed: bool,
    pub totals: ImportTotalsView,
    pub rows: Vec<ImportRowView>,
}

impl From<orgbase_service::ImportReport> for ImportReportView {
    fn from(r: orgbase_service::ImportReport) -> Self {
        let t = r.totals;
        Self {
            dry_run: r.dry_run,
            executed: r.executed,
            totals: ImportTotalsView {
                rows: t.rows,
                create: t.create,
                add: t.add,
                skip: t.skip,
                error: t.error,
            },
            rows: r
                .rows
                .into_iter()
                .map(|row| ImportRowView {
                    line: row.line,
                    email: row.email,
                    name: row.name,
                    role: row.role,
                    workspace_id: row.workspace_id.map(|w| w.0),
                    outcome: row.outcome.as_str(),
                    code: row.code,
                    reason: row.reason,
                    user_id: row.user_id.map(|u| u.0),
                })
                .collect(),
        }
    }
}

/// 422 `import_has_errors`: a problem document (RFC 9457) with the report, whose error
/// rows say what to fix. Nothing was written.
#[derive(Serialize, ToSchema)]
pub struct ImportRefusedView {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// `import_has_errors`
    pub code: &'static str,
    pub report: ImportReportView,
}

/// The OpenID Connect discovery document.
#[derive(Serialize, ToSchema)]
pub struct DiscoveryView {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
    pub revocation_endpoint: String,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
}

impl From<orgbase_service::oidc::Discovery> for DiscoveryView {
    fn from(d: orgbase_service::oidc::Discovery) -> Self {
        Self {
            issuer: d.issuer,
            authorization_endpoint: d.authorization_endpoint,
            token_endpoint: d.token_endpoint,
            userinfo_endpoint: d.userinfo_endpoint,
            jwks_uri: d.jwks_uri,
            end_session_endpoint: d.end_session_endpoint,
            revocation_endpoint: d.revocation_endpoint,
            response_types_supported: d.response_types_supported,
            response_modes_supported: d.response_modes_supported,
            grant_types_supported: d.grant_types_supported,
            subject_types_supported: d.subject_types_supported,
            id_token_signing_alg_values_supported: d.id_token_signing_alg_values_supported,
            token_endpoint_auth_methods_supported: d.token_endpoint_auth_methods_supported,
            revocation_endpoint_auth_methods_supported: d
                .revocation_endpoint_auth_methods_supported,
            code_challenge_methods_supported: d.code_challenge_methods_supported,
            scopes_supported: d.scopes_supported,
            claims_supported: d.claims_supported,
            prompt_values_supported: d.prompt_values_supported,
            claims_parameter_supported: d.claims_parameter_supported,
            request_parameter_supported: d.request_parameter_supported,
            request_uri_parameter_supported: d.request_uri_parameter_supported,
        }
    }
}

/// A JSON Web Key Set (RFC 7517): RSA keys carry `n` and `e`, Ed25519 keys `crv` and `x`.
#[derive(Serialize, ToSchema)]
pub struct JwksView {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// A registered OpenID Connect client (its secret is never shown again).
#[derive(Serialize, ToSchema)]
pub struct OidcClientView {
    pub id: Uuid,
    /// What the platform sends as `client_id`.
    pub client_id: String,
    pub name: String,
    /// Confidential (has a secret) or public (PKCE only).
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// The org that registered it; absent for a platform-wide client.
    pub org_id: Option<Uuid>,
    /// A platform-wide client limited to these orgs' members; empty: anyone with an org.
    pub allowed_orgs: Vec<Uuid>,
    pub first_party: bool,
    /// How the `groups` claim names orgs: `orgs`, `roles` or `full`.
    pub groups: &'static str,
    pub admin_role: bool,
    pub id_token_signed_response_alg: &'static str,
    pub created_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<orgbase_domain::OidcClient> for OidcClientView {
    fn from(c: orgbase_domain::OidcClient) -> Self {
        let uris = |u: Vec<orgbase_domain::RedirectUri>| {
            u.into_iter().map(|u| u.as_str().to_string()).collect()
        };
        Self {
            id: c.id.0,
            client_id: c.client_id,
            name: c.name,
            confidential: c.secret_hash.is_some(),
            redirect_uris: uris(c.redirect_uris),
            post_logout_redirect_uris: uris(c.post_logout_redirect_uris),
            org_id: c.org_id.map(|o| o.0),
            allowed_orgs: c.allowed_orgs.iter().map(|o| o.0).collect(),
            first_party: c.first_party,
            groups: c.groups.as_str(),
            admin_role: c.admin_role,
            id_token_signed_response_alg: c.id_token_alg.as_str(),
            created_by: c.created_by.map(|u| u.0),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A client just registered, or its secret just replaced: the secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct OidcClientCreatedView {
    #[serde(flatten)]
    pub client: OidcClientView,
    /// The client secret (`obc_…`), for confidential clients; only its hash is stored.
    pub client_secret: Option<String>,
}

impl From<orgbase_service::oidc::ClientWithSecret> for OidcClientCreatedView {
    fn from(c: orgbase_service::oidc::ClientWithSecret) -> Self {
        Self {
            client: c.client.into(),
            client_secret: c.client_secret,
        }
    }
}
