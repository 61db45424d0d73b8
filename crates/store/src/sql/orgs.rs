//! Organizations.

use async_trait::async_trait;
use orgbase_domain::{
    Org, OrgId, OrgWithRole, Page, PageRequest, SessionAuth, SessionId, Slug, Timestamp, UserId,
};
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

use super::contains_pattern;
use super::rows::{
    ORG_COLS, ORG_COLS_PREFIXED, ORG_PREFIXED, USER_COLS, after, my_membership, org_from,
    org_from_names, overfetch, parsed, user_from,
};
use super::{DbConn, LOCK_SUFFIX, SqlTx};
use crate::{OrgAccessRow, OrgFilter, OrgKey, Result};

pub(crate) async fn org_by_id(c: &mut DbConn, id: OrgId) -> Result<Option<Org>> {
    org_where_id(c, id, "").await
}

async fn org_where_id(c: &mut DbConn, id: OrgId, suffix: &str) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.id = $1{suffix}");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub(crate) async fn org_by_slug(c: &mut DbConn, slug: &Slug) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.slug = $1");
    sqlx::query(&sql)
        .bind(slug.as_str())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

/// An org (by id or slug) with `user`'s org membership role and status, in one query:
/// the hot path of every authorized request.
pub(crate) async fn org_access(
    c: &mut DbConn,
    key: OrgKey<'_>,
    user: UserId,
) -> Result<Option<OrgAccessRow>> {
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
    let Some(r) = q.bind(user.0).fetch_optional(c).await? else {
        return Ok(None);
    };
    let org = org_from(&r)?;
    let member = my_membership(&r)?;
    Ok(Some((org, member)))
}

/// A live session and, in the same query, the org named by `key` with the session
/// user's membership: an org-scoped request authenticated and authorized in one round
/// trip. `None`: no such session. `Some((auth, None))`: no such org.
pub(crate) async fn session_org_access(
    c: &mut DbConn,
    token_hash: &str,
    now: Timestamp,
    key: OrgKey<'_>,
) -> Result<Option<(SessionAuth, Option<OrgAccessRow>)>> {
    let cond = match key {
        OrgKey::Id(_) => "o.id = $3",
        OrgKey::Slug(_) => "o.slug = $3",
    };
    let sql = format!(
        "SELECT s.id AS sid, s.token_hash AS th, s.expires_at AS sexp, {USER_COLS}, {ORG_COLS_PREFIXED}, \
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
    let Some(r) = q.fetch_optional(c).await? else {
        return Ok(None);
    };
    let auth = SessionAuth {
        id: SessionId(r.try_get("sid")?),
        token_hash: r.try_get("th")?,
        expires_at: super::rows::ts(&r, "sexp")?,
        user: user_from(&r)?,
    };
    let org = match r.try_get::<Option<Uuid>, _>("o_id")? {
        Some(_) => Some((org_from_names(&r, &ORG_PREFIXED)?, my_membership(&r)?)),
        None => None,
    };
    Ok(Some((auth, org)))
}

pub(crate) async fn system_org(c: &mut DbConn) -> Result<Option<Org>> {
    let sql =
        format!("SELECT {ORG_COLS} FROM orgs o WHERE o.is_system = TRUE ORDER BY o.id LIMIT 1");
    sqlx::query(&sql)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub(crate) async fn orgs_of(
    c: &mut DbConn,
    user: UserId,
    page: PageRequest,
) -> Result<Page<OrgWithRole>> {
    // Ordered by the (user_id, org_id) index's own order: ordered by org_id alone,
    // PostgreSQL's generic plan walked the org_members primary key (all members of all
    // orgs) and filtered, about 10 ms per page at 300,000 memberships.
    let sql = format!(
        "SELECT {ORG_COLS}, m.role AS my_role FROM org_members m JOIN orgs o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND m.status = 'active' AND o.deleted_at IS NULL AND m.org_id > $2 \
         ORDER BY m.user_id, m.org_id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(user.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(c)
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

pub(crate) async fn all_orgs(
    c: &mut DbConn,
    filter: OrgFilter,
    page: PageRequest,
) -> Result<Page<Org>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM orgs o WHERE o.id > $1 AND ($2 OR o.deleted_at IS NULL) \
         AND ($4 IS NULL OR LOWER(o.slug) LIKE $4 ESCAPE '\\' OR LOWER(o.name) LIKE $4 ESCAPE '\\') \
         ORDER BY o.id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after(page))
        .bind(filter.include_deleted)
        .bind(overfetch(page))
        .bind(filter.search.as_deref().map(contains_pattern))
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(org_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |o| o.id.0))
}

pub(crate) async fn orgs_deleted_before(
    c: &mut DbConn,
    before: Timestamp,
    limit: u32,
) -> Result<Vec<Org>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM orgs o WHERE o.deleted_at IS NOT NULL AND o.deleted_at <= $1 \
         AND o.is_system = FALSE ORDER BY o.deleted_at, o.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(before.as_millis())
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?;
    rows.iter().map(org_from).collect()
}

pub(crate) async fn count_owned_live_orgs(c: &mut DbConn, user: UserId) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM orgs \
               WHERE owner_id = $1 AND deleted_at IS NULL AND is_system = FALSE";
    Ok(sqlx::query(sql)
        .bind(user.0)
        .fetch_one(c)
        .await?
        .try_get("n")?)
}

pub(crate) async fn count_active_members(c: &mut DbConn, org: OrgId) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM org_members WHERE org_id = $1 AND status = 'active'";
    Ok(sqlx::query(sql)
        .bind(org.0)
        .fetch_one(c)
        .await?
        .try_get("n")?)
}

pub(crate) async fn slugs_like(c: &mut DbConn, base: &Slug) -> Result<Vec<String>> {
    // A range, not LIKE, so the unique index answers it ('.' sorts right after '-';
    // slugs use byte order on both engines).
    let rows = sqlx::query("SELECT slug FROM orgs WHERE slug = $1 OR (slug >= $2 AND slug < $3)")
        .bind(base.as_str())
        .bind(format!("{}-", base.as_str()))
        .bind(format!("{}.", base.as_str()))
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("slug")?))
        .collect()
}

reads!(OrgReads {
    fn org_by_id(&self, id: OrgId) -> Option<Org> => orgs(id);
    fn org_by_slug(&self, slug: &Slug) -> Option<Org>;
    fn system_org(&self) -> Option<Org>;
    fn session_org_access(&self, token_hash: &str, now: Timestamp, key: OrgKey<'_>) -> Option<(SessionAuth, Option<OrgAccessRow>)>
        => session_orgs((token_hash.to_string(), key.into())) at now;
    fn org_access(&self, key: OrgKey<'_>, user: UserId) -> Option<OrgAccessRow>
        => org_access((key.into(), user));
    fn orgs_of(&self, user: UserId, page: PageRequest) -> Page<OrgWithRole> => orgs_of((user, page));
    fn all_orgs(&self, filter: OrgFilter, page: PageRequest) -> Page<Org>;
    fn orgs_deleted_before(&self, before: Timestamp, limit: u32) -> Vec<Org>;
    fn count_owned_live_orgs(&self, user: UserId) -> i64;
    fn count_active_members(&self, org: OrgId) -> i64;
    fn slugs_like(&self, base: &Slug) -> Vec<String>;
});

#[async_trait]
impl crate::OrgWrites for SqlTx {
    async fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        org_where_id(self.c(), id, LOCK_SUFFIX).await
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
        .execute(self.c())
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
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn purge_org(&mut self, id: OrgId, deleted_before: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM orgs WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at <= $2 \
             AND is_system = FALSE",
        )
        .bind(id.0)
        .bind(deleted_before.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
