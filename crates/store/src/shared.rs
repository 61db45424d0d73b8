//! The SQL both backends share, written once.
//!
//! This file is compiled twice, as `sqlite::shared` and `postgres::shared` (see the
//! `#[path]` in each backend's `mod.rs`), each time with that backend's `Db`, so every
//! query here is checked against both drivers' types without generic trait bounds.
//! Only what truly differs (connecting, migrating, locking, schema dumps) lives in the
//! backend modules. Placeholders are `$N`, which both drivers accept.

use async_trait::async_trait;
use orgbase_domain::{
    ApiKeyId, AuditId, Email, InvitationId, InvitationStatus, MembershipStatus, OrgId, ProjectId,
    Role, SessionId, Slug, Timestamp, UserId, WorkspaceId,
};
use sqlx::types::Json;
use sqlx::{Executor, Row};
use uuid::Uuid;

use super::{Db, LOCK_SUFFIX};
use crate::records::*;
use crate::{Result, StoreError};

type DbRow = <Db as sqlx::Database>::Row;
pub type DbTx = sqlx::Transaction<'static, Db>;

const USER_COLS: &str = "u.id, u.email, u.name, u.is_system_admin, u.enabled, \
    u.home_org_id, u.created_at, u.updated_at, u.last_login_at";
const ORG_COLS: &str = "o.id, o.slug, o.name, o.description, o.is_system, o.status, o.owner_id, \
    o.default_framework, o.default_language_model, o.public, o.signup_enabled, o.signup_key, \
    o.signup_role, o.config, o.created_at, o.updated_at, o.deleted_at";
const MEMBER_COLS: &str =
    "m.org_id, m.user_id, m.role, m.status, m.invited_by, m.joined_at, m.updated_at";

fn ts(r: &DbRow, col: &'static str) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(r.try_get::<i64, _>(col)?))
}

fn ts_opt(r: &DbRow, col: &'static str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)?
        .map(Timestamp::from_millis))
}

fn parsed<T: std::str::FromStr>(r: &DbRow, col: &'static str) -> Result<T> {
    r.try_get::<String, _>(col)?
        .parse()
        .map_err(|_| StoreError::Corrupt(col))
}

fn user_from(r: &DbRow) -> Result<User> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        email: Email::from_trusted(r.try_get("email")?),
        name: r.try_get("name")?,
        is_system_admin: r.try_get("is_system_admin")?,
        enabled: r.try_get("enabled")?,
        home_org_id: r.try_get::<Option<Uuid>, _>("home_org_id")?.map(OrgId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_login_at: ts_opt(r, "last_login_at")?,
    })
}

/// The column names an org is read from: plain, or prefixed when joined with users.
struct OrgNames {
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
const ORG_PREFIXED: OrgNames = org_names!("o_");
/// `ORG_COLS` renamed to `ORG_PREFIXED`'s names, for queries that also select users.
const ORG_COLS_PREFIXED: &str = "o.id AS o_id, o.slug AS o_slug, o.name AS o_name, \
    o.description AS o_description, o.is_system AS o_is_system, o.status AS o_status, \
    o.owner_id AS o_owner_id, o.default_framework AS o_default_framework, \
    o.default_language_model AS o_default_language_model, o.public AS o_public, \
    o.signup_enabled AS o_signup_enabled, o.signup_key AS o_signup_key, \
    o.signup_role AS o_signup_role, o.config AS o_config, o.created_at AS o_created_at, \
    o.updated_at AS o_updated_at, o.deleted_at AS o_deleted_at";

fn org_from(r: &DbRow) -> Result<Org> {
    org_from_names(r, &ORG_PLAIN)
}

fn org_from_names(r: &DbRow, n: &OrgNames) -> Result<Org> {
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
fn my_membership(r: &DbRow) -> Result<Option<(Role, MembershipStatus)>> {
    let role: Option<String> = r.try_get("my_role")?;
    role.map(|role| {
        Ok((
            role.parse().map_err(|_| StoreError::Corrupt("role"))?,
            parsed(r, "my_status")?,
        ))
    })
    .transpose()
}

fn domain_from(r: &DbRow) -> Result<OrgDomain> {
    Ok(OrgDomain {
        domain: r.try_get("domain")?,
        org_id: OrgId(r.try_get("org_id")?),
        auto_join: r.try_get("auto_join")?,
        role: parsed(r, "role")?,
        created_at: ts(r, "created_at")?,
    })
}

const INVITATION_COLS: &str = "id, org_id, workspace_id, project_id, email, role, token_hash, status, \
    invited_by, created_at, updated_at, expires_at, accepted_at";

fn invitation_from(r: &DbRow) -> Result<Invitation> {
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
    })
}

fn workspace_from(r: &DbRow) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        name: r.try_get("name")?,
        is_default: r.try_get("is_default")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

fn project_from(r: &DbRow) -> Result<Project> {
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

fn membership_from(r: &DbRow, scope: Scope) -> Result<Membership> {
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

fn api_key_from(r: &DbRow) -> Result<ApiKey> {
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

fn audit_from(r: &DbRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: AuditId(r.try_get("id")?),
        at: ts(r, "at")?,
        actor_user_id: r.try_get::<Option<Uuid>, _>("actor_user_id")?.map(UserId),
        actor_api_key_id: r
            .try_get::<Option<Uuid>, _>("actor_api_key_id")?
            .map(ApiKeyId),
        org_id: r.try_get::<Option<Uuid>, _>("org_id")?.map(OrgId),
        action: r.try_get("action")?,
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

// ---- reads, usable on the pool and inside a transaction ----

pub async fn user_by_id<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: UserId,
) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

pub async fn user_by_email<'e, E: Executor<'e, Database = Db>>(
    e: E,
    email: &Email,
) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = $1");
    sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// The user with their password hash: for authentication only.
pub async fn credentials_by_email<'e, E: Executor<'e, Database = Db>>(
    e: E,
    email: &Email,
) -> Result<Option<(User, Option<PasswordHash>)>> {
    let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1");
    let Some(r) = sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(e)
        .await?
    else {
        return Ok(None);
    };
    let hash: Option<String> = r.try_get("password_hash")?;
    Ok(Some((user_from(&r)?, hash.map(PasswordHash::from_phc))))
}

pub async fn password_hash<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
) -> Result<Option<PasswordHash>> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(e)
            .await?;
    Ok(hash.flatten().map(PasswordHash::from_phc))
}

pub async fn users<'e, E: Executor<'e, Database = Db>>(
    e: E,
    page: PageRequest,
) -> Result<Page<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2");
    let rows = sqlx::query(&sql)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows.iter().map(user_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |u| u.id.0))
}

pub async fn count_system_admins<'e, E: Executor<'e, Database = Db>>(e: E) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM users WHERE is_system_admin = TRUE AND enabled = TRUE";
    Ok(sqlx::query(sql).fetch_one(e).await?.try_get("n")?)
}

pub async fn session_user<'e, E: Executor<'e, Database = Db>>(
    e: E,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionAuth>> {
    let sql = format!(
        "SELECT s.id AS sid, s.token_hash AS th, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(e)
        .await?;
    row.map(|r| {
        Ok(SessionAuth {
            id: SessionId(r.try_get("sid")?),
            token_hash: r.try_get("th")?,
            user: user_from(&r)?,
        })
    })
    .transpose()
}

pub async fn api_key_user<'e, E: Executor<'e, Database = Db>>(
    e: E,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<ApiKeyAuth>> {
    let sql = format!(
        "SELECT k.id AS kid, k.token_hash AS th, k.last_used_at AS klu, {USER_COLS} FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.token_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > $2)"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(e)
        .await?;
    row.map(|r| {
        Ok(ApiKeyAuth {
            id: ApiKeyId(r.try_get("kid")?),
            token_hash: r.try_get("th")?,
            last_used_at: ts_opt(&r, "klu")?,
            user: user_from(&r)?,
        })
    })
    .transpose()
}

pub async fn touch_api_key<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: ApiKeyId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.0)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn api_keys_of<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
    page: PageRequest,
) -> Result<Page<ApiKey>> {
    let sql = "SELECT id, user_id, name, prefix, token_hash, created_at, expires_at, last_used_at \
               FROM api_keys WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3";
    let rows = sqlx::query(sql)
        .bind(user.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows.iter().map(api_key_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |k| k.id.0))
}

pub async fn org_by_id<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: OrgId,
    lock: bool,
) -> Result<Option<Org>> {
    let suffix = if lock { LOCK_SUFFIX } else { "" };
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.id = $1{suffix}");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub async fn org_by_slug<'e, E: Executor<'e, Database = Db>>(
    e: E,
    slug: &Slug,
) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.slug = $1");
    sqlx::query(&sql)
        .bind(slug.as_str())
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

/// An org (by id or slug) with `user`'s org membership role and status, in one query:
/// the hot path of every authorized request.
pub async fn org_access<'e, E: Executor<'e, Database = Db>>(
    e: E,
    key: OrgKey<'_>,
    user: UserId,
) -> Result<Option<(Org, Option<(Role, MembershipStatus)>)>> {
    let cond = match key {
        OrgKey::Id(_) => "o.id = $1",
        OrgKey::Slug(_) => "o.slug = $1",
    };
    let sql = format!(
        "SELECT {ORG_COLS}, m.role AS my_role, m.status AS my_status FROM orgs o \
         LEFT JOIN org_members m ON m.org_id = o.id AND m.user_id = $2 WHERE {cond}"
    );
    let q = sqlx::query(&sql);
    let q = match key {
        OrgKey::Id(id) => q.bind(id.0),
        OrgKey::Slug(slug) => q.bind(slug.as_str()),
    };
    let Some(r) = q.bind(user.0).fetch_optional(e).await? else {
        return Ok(None);
    };
    let org = org_from(&r)?;
    let member = my_membership(&r)?;
    Ok(Some((org, member)))
}

/// A live session and, in the same query, the org named by `key` with the session
/// user's membership: an org-scoped request authenticated and authorized in one round
/// trip. `None`: no such session. `Some((auth, None))`: no such org.
pub async fn session_org_access<'e, E: Executor<'e, Database = Db>>(
    e: E,
    token_hash: &str,
    now: Timestamp,
    key: OrgKey<'_>,
) -> Result<Option<(SessionAuth, Option<OrgAccessRow>)>> {
    let cond = match key {
        OrgKey::Id(_) => "o.id = $3",
        OrgKey::Slug(_) => "o.slug = $3",
    };
    let sql = format!(
        "SELECT s.id AS sid, s.token_hash AS th, {USER_COLS}, {ORG_COLS_PREFIXED}, \
         m.role AS my_role, m.status AS my_status \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         LEFT JOIN orgs o ON {cond} \
         LEFT JOIN org_members m ON m.org_id = o.id AND m.user_id = u.id \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    );
    let q = sqlx::query(&sql).bind(token_hash).bind(now.as_millis());
    let q = match key {
        OrgKey::Id(id) => q.bind(id.0),
        OrgKey::Slug(slug) => q.bind(slug.as_str()),
    };
    let Some(r) = q.fetch_optional(e).await? else {
        return Ok(None);
    };
    let auth = SessionAuth {
        id: SessionId(r.try_get("sid")?),
        token_hash: r.try_get("th")?,
        user: user_from(&r)?,
    };
    let org = match r.try_get::<Option<Uuid>, _>("o_id")? {
        Some(_) => Some((org_from_names(&r, &ORG_PREFIXED)?, my_membership(&r)?)),
        None => None,
    };
    Ok(Some((auth, org)))
}

pub async fn system_org<'e, E: Executor<'e, Database = Db>>(e: E) -> Result<Option<Org>> {
    let sql =
        format!("SELECT {ORG_COLS} FROM orgs o WHERE o.is_system = TRUE ORDER BY o.id LIMIT 1");
    sqlx::query(&sql)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub async fn orgs_of<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
    page: PageRequest,
) -> Result<Page<OrgWithRole>> {
    let sql = format!(
        "SELECT {ORG_COLS}, m.role AS my_role FROM org_members m JOIN orgs o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND m.status = 'active' AND o.deleted_at IS NULL AND m.org_id > $2 \
         ORDER BY m.org_id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(user.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(OrgWithRole {
                org: org_from(r)?,
                role: parsed(r, "my_role")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |o| o.org.id.0))
}

pub async fn all_orgs<'e, E: Executor<'e, Database = Db>>(
    e: E,
    filter: OrgFilter,
    page: PageRequest,
) -> Result<Page<Org>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM orgs o WHERE o.id > $1 AND ($2 OR o.deleted_at IS NULL) \
         ORDER BY o.id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after(page))
        .bind(filter.include_deleted)
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows.iter().map(org_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |o| o.id.0))
}

pub async fn count_owned_live_orgs<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM orgs \
               WHERE owner_id = $1 AND deleted_at IS NULL AND is_system = FALSE";
    Ok(sqlx::query(sql)
        .bind(user.0)
        .fetch_one(e)
        .await?
        .try_get("n")?)
}

const WS_COLS: &str = "id, org_id, name, is_default, created_at, updated_at";
const PROJECT_COLS: &str = "id, org_id, workspace_id, name, is_default, created_at, updated_at";

pub async fn workspace<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: WorkspaceId,
) -> Result<Option<Workspace>> {
    let sql = format!("SELECT {WS_COLS} FROM workspaces WHERE id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(workspace_from)
        .transpose()
}

pub async fn workspaces<'e, E: Executor<'e, Database = Db>>(
    e: E,
    org: OrgId,
    page: PageRequest,
) -> Result<Page<Workspace>> {
    let sql = format!(
        "SELECT {WS_COLS} FROM workspaces WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows
        .iter()
        .map(workspace_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |w| w.id.0))
}

pub async fn project<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: ProjectId,
) -> Result<Option<Project>> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(project_from)
        .transpose()
}

pub async fn projects<'e, E: Executor<'e, Database = Db>>(
    e: E,
    ws: WorkspaceId,
    page: PageRequest,
) -> Result<Page<Project>> {
    let sql = format!(
        "SELECT {PROJECT_COLS} FROM projects WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(ws.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows.iter().map(project_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |p| p.id.0))
}

pub async fn membership<'e, E: Executor<'e, Database = Db>>(
    e: E,
    scope: Scope,
    user: UserId,
) -> Result<Option<Membership>> {
    let (table, key) = scope_table(scope);
    let sql = format!("SELECT {MEMBER_COLS} FROM {table} m WHERE m.{key} = $1 AND m.user_id = $2");
    let row = sqlx::query(&sql)
        .bind(scope.uuid())
        .bind(user.0)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(|r| membership_from(r, scope)).transpose()
}

pub async fn role_chain<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
    org: OrgId,
    workspace: Option<WorkspaceId>,
    project: Option<ProjectId>,
) -> Result<RoleChain> {
    let sql = "SELECT \
        (SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2 AND status = 'active') AS o, \
        (SELECT role FROM workspace_members WHERE workspace_id = $3 AND user_id = $2 AND status = 'active') AS w, \
        (SELECT role FROM project_members WHERE project_id = $4 AND user_id = $2 AND status = 'active') AS p";
    let r = sqlx::query(sql)
        .bind(org.0)
        .bind(user.0)
        .bind(workspace.map(|w| w.0))
        .bind(project.map(|p| p.0))
        .fetch_one(e)
        .await?;
    let role = |col: &'static str| -> Result<Option<Role>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|s| s.parse().map_err(|_| StoreError::Corrupt(col)))
            .transpose()
    };
    Ok(RoleChain {
        org: role("o")?,
        workspace: role("w")?,
        project: role("p")?,
    })
}

// SQLite pages members through `sqlite::members_page` instead (one row per page).
#[allow(dead_code)]
pub async fn members<'e, E: Executor<'e, Database = Db>>(
    e: E,
    scope: Scope,
    page: PageRequest,
) -> Result<Page<Member>> {
    let (table, key) = scope_table(scope);
    let sql = format!(
        "SELECT {MEMBER_COLS}, u.email AS member_email, u.name AS member_name \
         FROM {table} m JOIN users u ON u.id = m.user_id \
         WHERE m.{key} = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.uuid())
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(e)
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Member {
                membership: membership_from(r, scope)?,
                email: Email::from_trusted(r.try_get("member_email")?),
                name: r.try_get("member_name")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |m| {
        m.membership.user_id.0
    }))
}

pub async fn memberships_of<'e, E: Executor<'e, Database = Db>>(
    e: E,
    user: UserId,
) -> Result<Vec<(Membership, Slug)>> {
    let sql = format!(
        "SELECT {MEMBER_COLS}, o.slug AS org_slug FROM org_members m JOIN orgs o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND m.status = 'active' AND o.deleted_at IS NULL ORDER BY m.org_id LIMIT 1000"
    );
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(e).await?;
    rows.iter()
        .map(|r| {
            let org = OrgId(r.try_get("org_id")?);
            Ok((
                membership_from(r, Scope::Org(org))?,
                Slug::from_trusted(r.try_get("org_slug")?),
            ))
        })
        .collect()
}

pub async fn org_by_signup_key<'e, E: Executor<'e, Database = Db>>(
    e: E,
    key: &str,
) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.signup_key = $1");
    sqlx::query(&sql)
        .bind(key)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub async fn domain<'e, E: Executor<'e, Database = Db>>(
    e: E,
    domain: &str,
) -> Result<Option<OrgDomain>> {
    let sql =
        "SELECT domain, org_id, auto_join, role, created_at FROM org_domains WHERE domain = $1";
    sqlx::query(sql)
        .bind(domain)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(domain_from)
        .transpose()
}

pub async fn domains_of<'e, E: Executor<'e, Database = Db>>(
    e: E,
    org: OrgId,
) -> Result<Vec<OrgDomain>> {
    let sql = "SELECT domain, org_id, auto_join, role, created_at FROM org_domains WHERE org_id = $1 \
               ORDER BY domain LIMIT 1000";
    let rows = sqlx::query(sql).bind(org.0).fetch_all(e).await?;
    rows.iter().map(domain_from).collect()
}

pub async fn invitation<'e, E: Executor<'e, Database = Db>>(
    e: E,
    id: InvitationId,
    lock: bool,
) -> Result<Option<Invitation>> {
    let suffix = if lock { LOCK_SUFFIX } else { "" };
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE id = $1{suffix}");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(invitation_from)
        .transpose()
}

pub async fn invitation_by_token<'e, E: Executor<'e, Database = Db>>(
    e: E,
    token_hash: &str,
) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
    sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(invitation_from)
        .transpose()
}

/// Invitations of an org by status. A pending invitation past its expiry counts as
/// expired (expiry is read, not swept).
pub async fn invitations_of<'e, E: Executor<'e, Database = Db>>(
    e: E,
    org: OrgId,
    status: Option<InvitationStatus>,
    now: Timestamp,
    page: PageRequest,
) -> Result<Page<Invitation>> {
    let filter = match status {
        None => "",
        Some(InvitationStatus::Pending) => " AND status = 'pending' AND expires_at > $4",
        Some(InvitationStatus::Expired) => {
            " AND (status = 'expired' OR (status = 'pending' AND expires_at <= $4))"
        }
        Some(_) => " AND status = $4",
    };
    let sql = format!(
        "SELECT {INVITATION_COLS} FROM invitations WHERE org_id = $1 AND id > $2{filter} ORDER BY id LIMIT $3"
    );
    let mut q = sqlx::query(&sql)
        .bind(org.0)
        .bind(after(page))
        .bind(overfetch(page));
    match status {
        None => {}
        Some(InvitationStatus::Pending | InvitationStatus::Expired) => q = q.bind(now.as_millis()),
        Some(other) => q = q.bind(other.as_str()),
    }
    let rows = q.fetch_all(e).await?;
    let items = rows
        .iter()
        .map(invitation_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |i| i.id.0))
}

pub async fn audit<'e, E: Executor<'e, Database = Db>>(
    e: E,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEvent>> {
    // Built from fixed fragments only; values are always bound.
    let mut sql = String::from(
        "SELECT id, at, actor_user_id, actor_api_key_id, org_id, action, target_type, target_id, \
         details, client_addr, request_id FROM audit_events WHERE id < $1",
    );
    let mut n = 1;
    if filter.org_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND org_id = ${n}"));
    }
    if filter.action.is_some() {
        n += 1;
        sql.push_str(&format!(" AND action = ${n}"));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
    let mut q = sqlx::query(&sql).bind(page.after.unwrap_or(Uuid::max()));
    if let Some(org) = filter.org_id {
        q = q.bind(org.0);
    }
    if let Some(action) = &filter.action {
        q = q.bind(action.clone());
    }
    let rows = q.bind(overfetch(page)).fetch_all(e).await?;
    let items = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |a| a.id.0))
}

// ---- the transaction ----

pub struct SqlTx(pub DbTx);

#[async_trait]
impl crate::Tx for SqlTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    async fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        org_by_id(&mut *self.0, id, true).await
    }

    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>> {
        user_by_id(&mut *self.0, id).await
    }

    async fn membership(&mut self, scope: Scope, user: UserId) -> Result<Option<Membership>> {
        membership(&mut *self.0, scope, user).await
    }

    async fn count_owned_live_orgs(&mut self, user: UserId) -> Result<i64> {
        count_owned_live_orgs(&mut *self.0, user).await
    }

    async fn system_org(&mut self) -> Result<Option<Org>> {
        system_org(&mut *self.0).await
    }

    async fn insert_user(&mut self, u: &User, hash: Option<&PasswordHash>) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, is_system_admin, enabled, home_org_id, \
             created_at, updated_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(u.id.0)
        .bind(u.email.as_str())
        .bind(&u.name)
        .bind(hash.map(PasswordHash::as_str))
        .bind(u.is_system_admin)
        .bind(u.enabled)
        .bind(u.home_org_id.map(|o| o.0))
        .bind(u.created_at.as_millis())
        .bind(u.updated_at.as_millis())
        .bind(u.last_login_at.map(Timestamp::as_millis))
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_password_hash(
        &mut self,
        user: UserId,
        hash: &PasswordHash,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash.as_str())
            .bind(now.as_millis())
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn update_user(&mut self, u: &User) -> Result<()> {
        sqlx::query(
            "UPDATE users SET name = $1, is_system_admin = $2, enabled = $3, \
             home_org_id = $4, updated_at = $5, last_login_at = $6 WHERE id = $7",
        )
        .bind(&u.name)
        .bind(u.is_system_admin)
        .bind(u.enabled)
        .bind(u.home_org_id.map(|o| o.0))
        .bind(u.updated_at.as_millis())
        .bind(u.last_login_at.map(Timestamp::as_millis))
        .bind(u.id.0)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn set_last_login(&mut self, user: UserId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_home_org(
        &mut self,
        user: UserId,
        org: Option<OrgId>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET home_org_id = $1, updated_at = $2 WHERE id = $3")
            .bind(org.map(|o| o.0))
            .bind(now.as_millis())
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn slugs_like(&mut self, base: &Slug) -> Result<Vec<String>> {
        // A range, not LIKE, so the unique index answers it ('.' sorts right after '-';
        // slugs use byte order on both engines).
        let rows =
            sqlx::query("SELECT slug FROM orgs WHERE slug = $1 OR (slug >= $2 AND slug < $3)")
                .bind(base.as_str())
                .bind(format!("{}-", base.as_str()))
                .bind(format!("{}.", base.as_str()))
                .fetch_all(&mut *self.0)
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("slug")?))
            .collect()
    }

    async fn insert_org(&mut self, o: &Org) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO orgs (id, slug, name, description, is_system, status, owner_id, \
             default_framework, default_language_model, public, created_at, updated_at, deleted_at, \
             signup_enabled, signup_key, signup_role, config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (slug) DO NOTHING",
        )
        .bind(o.id.0)
        .bind(o.slug.as_str())
        .bind(&o.name)
        .bind(&o.description)
        .bind(o.is_system)
        .bind(o.status.as_str())
        .bind(o.owner_id.map(|u| u.0))
        .bind(&o.default_framework)
        .bind(&o.default_language_model)
        .bind(o.public)
        .bind(o.created_at.as_millis())
        .bind(o.updated_at.as_millis())
        .bind(o.deleted_at.map(Timestamp::as_millis))
        .bind(o.signup_enabled)
        .bind(&o.signup_key)
        .bind(o.signup_role.as_str())
        .bind(Json(&o.config))
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn update_org(&mut self, o: &Org) -> Result<()> {
        sqlx::query(
            "UPDATE orgs SET slug = $1, name = $2, description = $3, status = $4, owner_id = $5, \
             default_framework = $6, default_language_model = $7, public = $8, updated_at = $9, \
             deleted_at = $10, signup_enabled = $12, signup_key = $13, signup_role = $14, config = $15 \
             WHERE id = $11",
        )
        .bind(o.slug.as_str())
        .bind(&o.name)
        .bind(&o.description)
        .bind(o.status.as_str())
        .bind(o.owner_id.map(|u| u.0))
        .bind(&o.default_framework)
        .bind(&o.default_language_model)
        .bind(o.public)
        .bind(o.updated_at.as_millis())
        .bind(o.deleted_at.map(Timestamp::as_millis))
        .bind(o.id.0)
        .bind(o.signup_enabled)
        .bind(&o.signup_key)
        .bind(o.signup_role.as_str())
        .bind(Json(&o.config))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_workspace(&mut self, w: &Workspace) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO workspaces (id, org_id, name, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, name) DO NOTHING",
        )
        .bind(w.id.0)
        .bind(w.org_id.0)
        .bind(&w.name)
        .bind(w.is_default)
        .bind(w.created_at.as_millis())
        .bind(w.updated_at.as_millis())
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_project(&mut self, p: &Project) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO projects (id, org_id, workspace_id, name, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, name) DO NOTHING",
        )
        .bind(p.id.0)
        .bind(p.org_id.0)
        .bind(p.workspace_id.0)
        .bind(&p.name)
        .bind(p.is_default)
        .bind(p.created_at.as_millis())
        .bind(p.updated_at.as_millis())
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn upsert_membership(&mut self, m: &Membership) -> Result<()> {
        let (table, key) = scope_table(m.scope);
        let on_conflict = format!(
            "ON CONFLICT ({key}, user_id) DO UPDATE SET role = excluded.role, \
             status = excluded.status, invited_by = excluded.invited_by, updated_at = excluded.updated_at"
        );
        // org_members is keyed by org_id itself; the deeper tables carry org_id besides.
        if let Scope::Org(_) = m.scope {
            let sql = format!(
                "INSERT INTO org_members (org_id, user_id, role, status, invited_by, joined_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) {on_conflict}"
            );
            sqlx::query(&sql)
                .bind(m.org_id.0)
                .bind(m.user_id.0)
                .bind(m.role.as_str())
                .bind(m.status.as_str())
                .bind(m.invited_by.map(|u| u.0))
                .bind(m.joined_at.as_millis())
                .bind(m.updated_at.as_millis())
                .execute(&mut *self.0)
                .await?;
        } else {
            let sql = format!(
                "INSERT INTO {table} ({key}, user_id, org_id, role, status, invited_by, joined_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {on_conflict}"
            );
            sqlx::query(&sql)
                .bind(m.scope.uuid())
                .bind(m.user_id.0)
                .bind(m.org_id.0)
                .bind(m.role.as_str())
                .bind(m.status.as_str())
                .bind(m.invited_by.map(|u| u.0))
                .bind(m.joined_at.as_millis())
                .bind(m.updated_at.as_millis())
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn set_membership_role(
        &mut self,
        scope: Scope,
        user: UserId,
        role: Role,
        status: MembershipStatus,
        now: Timestamp,
    ) -> Result<bool> {
        let (table, key) = scope_table(scope);
        let sql = format!(
            "UPDATE {table} SET role = $1, status = $2, updated_at = $3 WHERE {key} = $4 AND user_id = $5"
        );
        let r = sqlx::query(&sql)
            .bind(role.as_str())
            .bind(status.as_str())
            .bind(now.as_millis())
            .bind(scope.uuid())
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_org_memberships(&mut self, org: OrgId, user: UserId) -> Result<bool> {
        for table in ["project_members", "workspace_members"] {
            let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND user_id = $2");
            sqlx::query(&sql)
                .bind(org.0)
                .bind(user.0)
                .execute(&mut *self.0)
                .await?;
        }
        let r = sqlx::query("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_membership(&mut self, scope: Scope, user: UserId) -> Result<bool> {
        let (table, key) = scope_table(scope);
        let sql = format!("DELETE FROM {table} WHERE {key} = $1 AND user_id = $2");
        let r = sqlx::query(&sql)
            .bind(scope.uuid())
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_session(&mut self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(&s.token_hash)
        .bind(s.created_at.as_millis())
        .bind(s.expires_at.as_millis())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn delete_session(&mut self, id: SessionId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.0)
            .bind(keep.map(|k| k.0).unwrap_or(Uuid::nil()))
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected())
    }

    async fn insert_api_key(&mut self, k: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, token_hash, created_at, expires_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(k.id.0)
        .bind(k.user_id.0)
        .bind(&k.name)
        .bind(&k.prefix)
        .bind(&k.token_hash)
        .bind(k.created_at.as_millis())
        .bind(k.expires_at.map(Timestamp::as_millis))
        .bind(k.last_used_at.map(Timestamp::as_millis))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn delete_api_key(&mut self, user: UserId, id: ApiKeyId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn org_by_signup_key(&mut self, key: &str) -> Result<Option<Org>> {
        org_by_signup_key(&mut *self.0, key).await
    }

    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>> {
        user_by_email(&mut *self.0, email).await
    }

    async fn insert_domain(&mut self, d: &OrgDomain) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO org_domains (domain, org_id, auto_join, role, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (domain) DO NOTHING",
        )
        .bind(&d.domain)
        .bind(d.org_id.0)
        .bind(d.auto_join)
        .bind(d.role.as_str())
        .bind(d.created_at.as_millis())
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_domain(&mut self, org: OrgId, domain: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM org_domains WHERE org_id = $1 AND domain = $2")
            .bind(org.0)
            .bind(domain)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn lock_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>> {
        invitation(&mut *self.0, id, true).await
    }

    async fn insert_invitation(&mut self, i: &Invitation) -> Result<()> {
        let sql = format!(
            "INSERT INTO invitations ({INVITATION_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(&sql)
            .bind(i.id.0)
            .bind(i.org_id.0)
            .bind(i.workspace_id.map(|w| w.0))
            .bind(i.project_id.map(|p| p.0))
            .bind(i.email.as_str())
            .bind(i.role.as_str())
            .bind(&i.token_hash)
            .bind(i.status.as_str())
            .bind(i.invited_by.map(|u| u.0))
            .bind(i.created_at.as_millis())
            .bind(i.updated_at.as_millis())
            .bind(i.expires_at.as_millis())
            .bind(i.accepted_at.map(Timestamp::as_millis))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn update_invitation(
        &mut self,
        i: &Invitation,
        expect: InvitationStatus,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE invitations SET token_hash = $1, status = $2, updated_at = $3, expires_at = $4, \
             accepted_at = $5 WHERE id = $6 AND status = $7",
        )
        .bind(&i.token_hash)
        .bind(i.status.as_str())
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.as_millis())
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .bind(i.id.0)
        .bind(expect.as_str())
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_password_token(&mut self, t: &PasswordToken) -> Result<()> {
        sqlx::query("INSERT INTO password_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&t.token_hash)
            .bind(t.user_id.0)
            .bind(t.created_at.as_millis())
            .bind(t.expires_at.as_millis())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn take_password_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "DELETE FROM password_tokens WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.0)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let expires: i64 = r.try_get("expires_at")?;
        Ok((expires > now.as_millis())
            .then(|| r.try_get("user_id").map(UserId))
            .transpose()?)
    }

    async fn delete_password_tokens_of(&mut self, user: UserId) -> Result<()> {
        sqlx::query("DELETE FROM password_tokens WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn insert_audit(&mut self, a: &AuditEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor_user_id, actor_api_key_id, org_id, action, \
             target_type, target_id, details, client_addr, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.0)
        .bind(a.at.as_millis())
        .bind(a.actor_user_id.map(|u| u.0))
        .bind(a.actor_api_key_id.map(|k| k.0))
        .bind(a.org_id.map(|o| o.0))
        .bind(&a.action)
        .bind(&a.target_type)
        .bind(&a.target_id)
        .bind(Json(&a.details))
        .bind(&a.client_addr)
        .bind(&a.request_id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}

// ---- the store: reads go to the reader pool, writes through `begin` ----

#[async_trait]
impl crate::Store for super::BackendStore {
    fn backend(&self) -> &'static str {
        super::NAME
    }

    async fn migrate(&self) -> Result<usize> {
        super::migrate(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.reader().await?)
            .await?;
        Ok(())
    }

    async fn schema(&self) -> Result<crate::dump::Schema> {
        super::schema(self).await
    }

    async fn begin(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(SqlTx(self.write.begin().await?)))
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        user_by_id(&mut *self.reader().await?, id).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        user_by_email(&mut *self.reader().await?, email).await
    }

    async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        credentials_by_email(&mut *self.reader().await?, email).await
    }

    async fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>> {
        password_hash(&mut *self.reader().await?, user).await
    }

    async fn users(&self, page: PageRequest) -> Result<Page<User>> {
        users(&mut *self.reader().await?, page).await
    }

    async fn count_system_admins(&self) -> Result<i64> {
        count_system_admins(&mut *self.reader().await?).await
    }

    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionAuth>> {
        session_user(&mut *self.reader().await?, token_hash, now).await
    }

    async fn api_key_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<ApiKeyAuth>> {
        api_key_user(&mut *self.reader().await?, token_hash, now).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        touch_api_key(&self.write, id, now).await
    }

    async fn api_keys_of(&self, user: UserId, page: PageRequest) -> Result<Page<ApiKey>> {
        api_keys_of(&mut *self.reader().await?, user, page).await
    }

    async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>> {
        org_by_id(&mut *self.reader().await?, id, false).await
    }

    async fn org_by_slug(&self, slug: &Slug) -> Result<Option<Org>> {
        org_by_slug(&mut *self.reader().await?, slug).await
    }

    async fn system_org(&self) -> Result<Option<Org>> {
        system_org(&mut *self.reader().await?).await
    }

    async fn session_org_access(
        &self,
        token_hash: &str,
        now: Timestamp,
        key: OrgKey<'_>,
    ) -> Result<Option<(SessionAuth, Option<OrgAccessRow>)>> {
        session_org_access(&mut *self.reader().await?, token_hash, now, key).await
    }

    async fn org_access(
        &self,
        key: OrgKey<'_>,
        user: UserId,
    ) -> Result<Option<(Org, Option<(Role, MembershipStatus)>)>> {
        org_access(&mut *self.reader().await?, key, user).await
    }

    async fn orgs_of(&self, user: UserId, page: PageRequest) -> Result<Page<OrgWithRole>> {
        orgs_of(&mut *self.reader().await?, user, page).await
    }

    async fn all_orgs(&self, filter: OrgFilter, page: PageRequest) -> Result<Page<Org>> {
        all_orgs(&mut *self.reader().await?, filter, page).await
    }

    async fn count_owned_live_orgs(&self, user: UserId) -> Result<i64> {
        count_owned_live_orgs(&mut *self.reader().await?, user).await
    }

    async fn workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>> {
        workspace(&mut *self.reader().await?, id).await
    }

    async fn workspaces(&self, org: OrgId, page: PageRequest) -> Result<Page<Workspace>> {
        workspaces(&mut *self.reader().await?, org, page).await
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>> {
        project(&mut *self.reader().await?, id).await
    }

    async fn projects(&self, ws: WorkspaceId, page: PageRequest) -> Result<Page<Project>> {
        projects(&mut *self.reader().await?, ws, page).await
    }

    async fn membership(&self, scope: Scope, user: UserId) -> Result<Option<Membership>> {
        membership(&mut *self.reader().await?, scope, user).await
    }

    async fn role_chain(
        &self,
        user: UserId,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        project: Option<ProjectId>,
    ) -> Result<RoleChain> {
        role_chain(&mut *self.reader().await?, user, org, workspace, project).await
    }

    async fn members(&self, scope: Scope, page: PageRequest) -> Result<Page<Member>> {
        super::members_page(self, scope, page).await
    }

    async fn memberships_of(&self, user: UserId) -> Result<Vec<(Membership, Slug)>> {
        memberships_of(&mut *self.reader().await?, user).await
    }

    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>> {
        audit(&mut *self.reader().await?, filter, page).await
    }

    async fn org_by_signup_key(&self, key: &str) -> Result<Option<Org>> {
        org_by_signup_key(&mut *self.reader().await?, key).await
    }

    async fn domain(&self, name: &str) -> Result<Option<OrgDomain>> {
        domain(&mut *self.reader().await?, name).await
    }

    async fn domains_of(&self, org: OrgId) -> Result<Vec<OrgDomain>> {
        domains_of(&mut *self.reader().await?, org).await
    }

    async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>> {
        invitation(&mut *self.reader().await?, id, false).await
    }

    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>> {
        invitation_by_token(&mut *self.reader().await?, token_hash).await
    }

    async fn invitations_of(
        &self,
        org: OrgId,
        status: Option<InvitationStatus>,
        now: Timestamp,
        page: PageRequest,
    ) -> Result<Page<Invitation>> {
        invitations_of(&mut *self.reader().await?, org, status, now, page).await
    }
}
