//! Rows to entities and back: the column lists and the mapping of every row type, and
//! the paging helpers every list uses.

use orgbase_domain::{
    ApiKey, ApiKeyId, AuditEvent, AuditId, Email, Invitation, InvitationId, KeyScope, Membership,
    MembershipStatus, Org, OrgApiKey, OrgDomain, OrgId, PageRequest, Project, ProjectId, Role,
    Scope, Slug, Timestamp, User, UserId, Workspace, WorkspaceId,
};
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

use super::Db;
use crate::{Result, StoreError};

pub(crate) type DbRow = <Db as sqlx::Database>::Row;

pub(crate) const USER_COLS: &str = "u.id, u.email, u.name, u.is_system_admin, u.enabled, \
    u.home_org_id, u.email_verified_at, u.created_at, u.updated_at, u.last_login_at";
pub(crate) const ORG_COLS: &str = "o.id, o.slug, o.name, o.description, o.is_system, o.status, o.owner_id, \
    o.default_framework, o.default_language_model, o.public, o.signup_enabled, o.signup_key, \
    o.signup_role, o.config, o.created_at, o.updated_at, o.deleted_at";
pub(crate) const MEMBER_COLS: &str =
    "m.org_id, m.user_id, m.role, m.status, m.invited_by, m.joined_at, m.updated_at";

pub(crate) fn ts(r: &DbRow, col: &'static str) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(r.try_get::<i64, _>(col)?))
}

pub(crate) fn ts_opt(r: &DbRow, col: &'static str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)?
        .map(Timestamp::from_millis))
}

pub(crate) fn parsed<T: std::str::FromStr>(r: &DbRow, col: &'static str) -> Result<T> {
    r.try_get::<String, _>(col)?
        .parse()
        .map_err(|_| StoreError::Corrupt(col))
}

pub(crate) fn user_from(r: &DbRow) -> Result<User> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        email: Email::from_trusted(r.try_get("email")?),
        name: r.try_get("name")?,
        is_system_admin: r.try_get("is_system_admin")?,
        enabled: r.try_get("enabled")?,
        home_org_id: r.try_get::<Option<Uuid>, _>("home_org_id")?.map(OrgId),
        email_verified_at: ts_opt(r, "email_verified_at")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_login_at: ts_opt(r, "last_login_at")?,
    })
}

/// The column names an org is read from: plain, or prefixed when joined with users.
pub(crate) struct OrgNames {
    id: &'static str,
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    is_system: &'static str,
    status: &'static str,
    owner_id: &'static str,
    default_framework: &'static str,
    default_language_model: &'static str,
    public: &'static str,
    signup_enabled: &'static str,
    signup_key: &'static str,
    signup_role: &'static str,
    config: &'static str,
    created_at: &'static str,
    updated_at: &'static str,
    deleted_at: &'static str,
}

macro_rules! org_names {
    ($($prefix:literal)?) => {
        OrgNames {
            id: concat!($($prefix,)? "id"),
            slug: concat!($($prefix,)? "slug"),
            name: concat!($($prefix,)? "name"),
            description: concat!($($prefix,)? "description"),
            is_system: concat!($($prefix,)? "is_system"),
            status: concat!($($prefix,)? "status"),
            owner_id: concat!($($prefix,)? "owner_id"),
            default_framework: concat!($($prefix,)? "default_framework"),
            default_language_model: concat!($($prefix,)? "default_language_model"),
            public: concat!($($prefix,)? "public"),
            signup_enabled: concat!($($prefix,)? "signup_enabled"),
            signup_key: concat!($($prefix,)? "signup_key"),
            signup_role: concat!($($prefix,)? "signup_role"),
            config: concat!($($prefix,)? "config"),
            created_at: concat!($($prefix,)? "created_at"),
            updated_at: concat!($($prefix,)? "updated_at"),
            deleted_at: concat!($($prefix,)? "deleted_at"),
        }
    };
}

const ORG_PLAIN: OrgNames = org_names!();
pub(crate) const ORG_PREFIXED: OrgNames = org_names!("o_");
/// `ORG_COLS` renamed to `ORG_PREFIXED`'s names, for queries that also select users.
pub(crate) const ORG_COLS_PREFIXED: &str = "o.id AS o_id, o.slug AS o_slug, o.name AS o_name, \
    o.description AS o_description, o.is_system AS o_is_system, o.status AS o_status, \
    o.owner_id AS o_owner_id, o.default_framework AS o_default_framework, \
    o.default_language_model AS o_default_language_model, o.public AS o_public, \
    o.signup_enabled AS o_signup_enabled, o.signup_key AS o_signup_key, \
    o.signup_role AS o_signup_role, o.config AS o_config, o.created_at AS o_created_at, \
    o.updated_at AS o_updated_at, o.deleted_at AS o_deleted_at";

pub(crate) fn org_from(r: &DbRow) -> Result<Org> {
    org_from_names(r, &ORG_PLAIN)
}

pub(crate) fn org_from_names(r: &DbRow, n: &OrgNames) -> Result<Org> {
    Ok(Org {
        id: OrgId(r.try_get(n.id)?),
        slug: Slug::from_trusted(r.try_get(n.slug)?),
        name: r.try_get(n.name)?,
        description: r.try_get(n.description)?,
        is_system: r.try_get(n.is_system)?,
        status: parsed(r, n.status)?,
        owner_id: r.try_get::<Option<Uuid>, _>(n.owner_id)?.map(UserId),
        default_framework: r.try_get(n.default_framework)?,
        default_language_model: r.try_get(n.default_language_model)?,
        public: r.try_get(n.public)?,
        signup_enabled: r.try_get(n.signup_enabled)?,
        signup_key: r.try_get(n.signup_key)?,
        signup_role: parsed(r, n.signup_role)?,
        config: r.try_get::<Json<serde_json::Value>, _>(n.config)?.0,
        created_at: ts(r, n.created_at)?,
        updated_at: ts(r, n.updated_at)?,
        deleted_at: ts_opt(r, n.deleted_at)?,
    })
}

/// The caller's org membership columns (`my_role`, `my_status`) of an access query.
pub(crate) fn my_membership(r: &DbRow) -> Result<Option<(Role, MembershipStatus)>> {
    let role: Option<String> = r.try_get("my_role")?;
    role.map(|role| {
        Ok((
            role.parse().map_err(|_| StoreError::Corrupt("role"))?,
            parsed(r, "my_status")?,
        ))
    })
    .transpose()
}

pub(crate) fn domain_from(r: &DbRow) -> Result<OrgDomain> {
    Ok(OrgDomain {
        domain: r.try_get("domain")?,
        org_id: OrgId(r.try_get("org_id")?),
        auto_join: r.try_get("auto_join")?,
        role: parsed(r, "role")?,
        status: parsed(r, "status")?,
        token: r.try_get("token")?,
        created_at: ts(r, "created_at")?,
        verified_at: ts_opt(r, "verified_at")?,
    })
}

pub(crate) const DOMAIN_COLS: &str =
    "domain, org_id, auto_join, role, status, token, created_at, verified_at";

pub(crate) const INVITATION_COLS: &str = "id, org_id, workspace_id, project_id, email, role, token_hash, status, \
    invited_by, created_at, updated_at, expires_at, accepted_at, link_shown";

pub(crate) fn invitation_from(r: &DbRow) -> Result<Invitation> {
    Ok(Invitation {
        id: InvitationId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        workspace_id: r
            .try_get::<Option<Uuid>, _>("workspace_id")?
            .map(WorkspaceId),
        project_id: r.try_get::<Option<Uuid>, _>("project_id")?.map(ProjectId),
        email: Email::from_trusted(r.try_get("email")?),
        role: parsed(r, "role")?,
        token_hash: r.try_get("token_hash")?,
        status: parsed(r, "status")?,
        invited_by: r.try_get::<Option<Uuid>, _>("invited_by")?.map(UserId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        expires_at: ts(r, "expires_at")?,
        accepted_at: ts_opt(r, "accepted_at")?,
        link_shown: r.try_get("link_shown")?,
    })
}

pub(crate) fn workspace_from(r: &DbRow) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        name: r.try_get("name")?,
        is_default: r.try_get("is_default")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub(crate) fn project_from(r: &DbRow) -> Result<Project> {
    Ok(Project {
        id: ProjectId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        name: r.try_get("name")?,
        is_default: r.try_get("is_default")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub(crate) fn membership_from(r: &DbRow, scope: Scope) -> Result<Membership> {
    Ok(Membership {
        scope,
        org_id: OrgId(r.try_get("org_id")?),
        user_id: UserId(r.try_get("user_id")?),
        role: parsed(r, "role")?,
        status: parsed(r, "status")?,
        invited_by: r.try_get::<Option<Uuid>, _>("invited_by")?.map(UserId),
        joined_at: ts(r, "joined_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub(crate) fn api_key_from(r: &DbRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId(r.try_get("id")?),
        user_id: UserId(r.try_get("user_id")?),
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        token_hash: r.try_get("token_hash")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts_opt(r, "expires_at")?,
        last_used_at: ts_opt(r, "last_used_at")?,
    })
}

pub(crate) const ORG_API_KEY_COLS: &str = "k.id, k.org_id, k.name, k.prefix, k.token_hash, \
    k.role, k.scopes, k.created_by, k.created_at, k.expires_at, k.last_used_at";

pub(crate) fn org_api_key_from(r: &DbRow) -> Result<OrgApiKey> {
    let scopes: String = r.try_get("scopes")?;
    let scopes = scopes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<KeyScope>()
                .map_err(|_| StoreError::Corrupt("scopes"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(OrgApiKey {
        id: ApiKeyId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        token_hash: r.try_get("token_hash")?,
        role: parsed(r, "role")?,
        scopes,
        created_by: r.try_get::<Option<Uuid>, _>("created_by")?.map(UserId),
        created_at: ts(r, "created_at")?,
        expires_at: ts_opt(r, "expires_at")?,
        last_used_at: ts_opt(r, "last_used_at")?,
    })
}

pub(crate) fn audit_from(r: &DbRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: AuditId(r.try_get("id")?),
        at: ts(r, "at")?,
        actor_user_id: r.try_get::<Option<Uuid>, _>("actor_user_id")?.map(UserId),
        actor_api_key_id: r
            .try_get::<Option<Uuid>, _>("actor_api_key_id")?
            .map(ApiKeyId),
        org_id: r.try_get::<Option<Uuid>, _>("org_id")?.map(OrgId),
        action: r
            .try_get::<String, _>("action")?
            .parse()
            .map_err(|_| StoreError::Corrupt("audit_events.action"))?,
        target_type: r.try_get("target_type")?,
        target_id: r.try_get("target_id")?,
        details: r.try_get::<Json<serde_json::Value>, _>("details")?.0,
        client_addr: r.try_get("client_addr")?,
        request_id: r.try_get("request_id")?,
    })
}

/// The membership table of a scope and its key column.
pub(crate) fn scope_table(scope: Scope) -> (&'static str, &'static str) {
    match scope {
        Scope::Org(_) => ("org_members", "org_id"),
        Scope::Workspace(_) => ("workspace_members", "workspace_id"),
        Scope::Project(_) => ("project_members", "project_id"),
    }
}

pub(crate) fn after(page: PageRequest) -> Uuid {
    page.after.unwrap_or(Uuid::nil())
}

pub(crate) fn overfetch(page: PageRequest) -> i64 {
    i64::from(page.limit) + 1
}

pub(crate) const WS_COLS: &str = "id, org_id, name, is_default, created_at, updated_at";
pub(crate) const PROJECT_COLS: &str =
    "id, org_id, workspace_id, name, is_default, created_at, updated_at";

pub(crate) const MAIL_COLS: &str = "id, kind, recipient, org_name, link_sealed, status, attempts, \
    next_attempt_at, lease_until, last_error, created_at, expires_at, sent_at";

pub(crate) fn mail_from(r: &DbRow) -> Result<orgbase_domain::OutboxMail> {
    let attempts: i64 = r.try_get("attempts")?;
    Ok(orgbase_domain::OutboxMail {
        id: orgbase_domain::MailId(r.try_get("id")?),
        kind: parsed(r, "kind")?,
        recipient: Email::from_trusted(r.try_get("recipient")?),
        org_name: r.try_get("org_name")?,
        link_sealed: r.try_get("link_sealed")?,
        status: parsed(r, "status")?,
        attempts: i32::try_from(attempts).map_err(|_| StoreError::Corrupt("attempts"))?,
        next_attempt_at: ts(r, "next_attempt_at")?,
        lease_until: ts_opt(r, "lease_until")?,
        last_error: r.try_get("last_error")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        sent_at: ts_opt(r, "sent_at")?,
    })
}
