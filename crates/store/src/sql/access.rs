//! Signup keys, claimed domains, invitations and API keys.

use async_trait::async_trait;
use orgbase_domain::{
    ApiKey, ApiKeyId, Email, Invitation, InvitationId, InvitationStatus, Org, OrgApiKey, OrgDomain,
    OrgId, Page, PageRequest, Role, Scope, Timestamp, UserId,
};

use super::rows::{
    DOMAIN_COLS, INVITATION_COLS, ORG_API_KEY_COLS, ORG_COLS, ORG_COLS_PREFIXED, ORG_PREFIXED,
    after, api_key_from, domain_from, invitation_from, org_api_key_from, org_from, org_from_names,
    overfetch,
};
use super::{DbConn, LOCK_SUFFIX, SqlTx};
use crate::Result;

pub(crate) async fn org_by_signup_key(c: &mut DbConn, key: &str) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLS} FROM orgs o WHERE o.signup_key = $1");
    sqlx::query(&sql)
        .bind(key)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

pub(crate) async fn verified_domain(c: &mut DbConn, domain: &str) -> Result<Option<OrgDomain>> {
    let sql =
        format!("SELECT {DOMAIN_COLS} FROM org_domains WHERE domain = $1 AND status = 'verified'");
    sqlx::query(&sql)
        .bind(domain)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(domain_from)
        .transpose()
}

pub(crate) async fn domain_claim(
    c: &mut DbConn,
    org: OrgId,
    domain: &str,
) -> Result<Option<OrgDomain>> {
    let sql = format!("SELECT {DOMAIN_COLS} FROM org_domains WHERE org_id = $1 AND domain = $2");
    sqlx::query(&sql)
        .bind(org.0)
        .bind(domain)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(domain_from)
        .transpose()
}

pub(crate) async fn domains_of(c: &mut DbConn, org: OrgId) -> Result<Vec<OrgDomain>> {
    let sql = format!(
        "SELECT {DOMAIN_COLS} FROM org_domains WHERE org_id = $1 ORDER BY domain LIMIT 1000"
    );
    let rows = sqlx::query(&sql).bind(org.0).fetch_all(c).await?;
    rows.iter().map(domain_from).collect()
}

pub(crate) async fn pending_domains(c: &mut DbConn) -> Result<Vec<(OrgDomain, String)>> {
    let sql = format!(
        "SELECT {DOMAIN_COLS}, \
         (SELECT o.slug FROM orgs o WHERE o.id = org_domains.org_id) AS org_slug \
         FROM org_domains WHERE status = 'pending' AND EXISTS \
         (SELECT 1 FROM orgs o WHERE o.id = org_domains.org_id AND o.deleted_at IS NULL) \
         ORDER BY created_at, domain LIMIT 200"
    );
    let rows = sqlx::query(&sql).fetch_all(c).await?;
    rows.iter()
        .map(|r| {
            Ok((
                domain_from(r)?,
                sqlx::Row::try_get::<String, _>(r, "org_slug")?,
            ))
        })
        .collect()
}

pub(crate) async fn invitation(c: &mut DbConn, id: InvitationId) -> Result<Option<Invitation>> {
    invitation_where_id(c, id, "").await
}

async fn invitation_where_id(
    c: &mut DbConn,
    id: InvitationId,
    suffix: &str,
) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE id = $1{suffix}");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(invitation_from)
        .transpose()
}

pub(crate) async fn invitation_by_token(
    c: &mut DbConn,
    token_hash: &str,
) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
    sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(invitation_from)
        .transpose()
}

/// Invitations of an org by status. A pending invitation past its expiry counts as
/// expired (expiry is read, not swept).
pub(crate) async fn invitations_of(
    c: &mut DbConn,
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
    let rows = q.fetch_all(c).await?;
    let items = rows
        .iter()
        .map(invitation_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |i| i.id.0))
}

pub(crate) async fn api_keys_of(
    c: &mut DbConn,
    user: UserId,
    page: PageRequest,
) -> Result<Page<ApiKey>> {
    let sql = "SELECT id, user_id, name, prefix, token_hash, created_at, expires_at, last_used_at \
               FROM api_keys WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3";
    let rows = sqlx::query(sql)
        .bind(user.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(api_key_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |k| k.id.0))
}

pub(crate) async fn org_api_key_auth(
    c: &mut DbConn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(OrgApiKey, Org)>> {
    let sql = format!(
        "SELECT {ORG_API_KEY_COLS}, {ORG_COLS_PREFIXED} FROM org_api_keys k \
         JOIN orgs o ON o.id = k.org_id \
         WHERE k.token_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > $2)"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(c)
        .await?;
    match row {
        Some(r) => Ok(Some((
            org_api_key_from(&r)?,
            org_from_names(&r, &ORG_PREFIXED)?,
        ))),
        None => Ok(None),
    }
}

pub(crate) async fn org_api_keys_of(
    c: &mut DbConn,
    org: OrgId,
    page: PageRequest,
) -> Result<Page<OrgApiKey>> {
    let sql = format!(
        "SELECT {ORG_API_KEY_COLS} FROM org_api_keys k WHERE k.org_id = $1 AND k.id > $2 \
         ORDER BY k.id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(after(page))
        .bind(overfetch(page))
        .fetch_all(c)
        .await?;
    let items = rows
        .iter()
        .map(org_api_key_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |k| k.id.0))
}

reads!(AccessReads {
    fn org_by_signup_key(&self, key: &str) -> Option<Org>;
    fn verified_domain(&self, name: &str) -> Option<OrgDomain>;
    fn domain_claim(&self, org: OrgId, name: &str) -> Option<OrgDomain>;
    fn domains_of(&self, org: OrgId) -> Vec<OrgDomain>;
    fn pending_domains(&self) -> Vec<(OrgDomain, String)>;
    fn invitation(&self, id: InvitationId) -> Option<Invitation>;
    fn invitation_by_token(&self, token_hash: &str) -> Option<Invitation>;
    fn invitations_of(&self, org: OrgId, status: Option<InvitationStatus>, now: Timestamp, page: PageRequest) -> Page<Invitation>;
    fn api_keys_of(&self, user: UserId, page: PageRequest) -> Page<ApiKey>;
    fn org_api_key_auth(&self, token_hash: &str, now: Timestamp) -> Option<(OrgApiKey, Org)>
        => service_keys(token_hash.to_string()) at now;
    fn org_api_keys_of(&self, org: OrgId, page: PageRequest) -> Page<OrgApiKey>;
});

#[async_trait]
impl crate::AccessWrites for SqlTx {
    async fn insert_domain(&mut self, d: &OrgDomain) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO org_domains (domain, org_id, auto_join, role, status, token, created_at, verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (domain, org_id) DO NOTHING",
        )
        .bind(&d.domain)
        .bind(d.org_id.0)
        .bind(d.auto_join)
        .bind(d.role.as_str())
        .bind(d.status.as_str())
        .bind(&d.token)
        .bind(d.created_at.as_millis())
        .bind(d.verified_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn verify_domain(&mut self, org: OrgId, domain: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE org_domains SET status = 'verified', verified_at = $1 \
             WHERE org_id = $2 AND domain = $3 AND status = 'pending'",
        )
        .bind(now.as_millis())
        .bind(org.0)
        .bind(domain)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_domain(&mut self, org: OrgId, domain: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM org_domains WHERE org_id = $1 AND domain = $2")
            .bind(org.0)
            .bind(domain)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn update_domain(
        &mut self,
        org: OrgId,
        domain: &str,
        auto_join: bool,
        role: Role,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE org_domains SET auto_join = $1, role = $2 WHERE org_id = $3 AND domain = $4",
        )
        .bind(auto_join)
        .bind(role.as_str())
        .bind(org.0)
        .bind(domain)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn lock_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>> {
        invitation_where_id(self.c(), id, LOCK_SUFFIX).await
    }

    async fn insert_invitation(&mut self, i: &Invitation) -> Result<()> {
        let sql = format!(
            "INSERT INTO invitations ({INVITATION_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
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
            .bind(i.link_shown)
            .execute(self.c())
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
             accepted_at = $5, link_shown = $8 WHERE id = $6 AND status = $7",
        )
        .bind(&i.token_hash)
        .bind(i.status.as_str())
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.as_millis())
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .bind(i.id.0)
        .bind(expect.as_str())
        .bind(i.link_shown)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_pending_invitations(
        &mut self,
        scope: Scope,
        email: &Email,
        now: Timestamp,
    ) -> Result<u64> {
        let (column, id) = match scope {
            Scope::Org(o) => ("org_id", o.0),
            Scope::Workspace(w) => ("workspace_id", w.0),
            Scope::Project(p) => ("project_id", p.0),
        };
        let sql = format!(
            "UPDATE invitations SET status = 'revoked', updated_at = $1 \
             WHERE {column} = $2 AND email = $3 AND status = 'pending'"
        );
        let r = sqlx::query(&sql)
            .bind(now.as_millis())
            .bind(id)
            .bind(email.as_str())
            .execute(self.c())
            .await?;
        Ok(r.rows_affected())
    }

    async fn delete_api_keys_of(&mut self, user: UserId) -> Result<u64> {
        let r = sqlx::query("DELETE FROM api_keys WHERE user_id = $1")
            .bind(user.0)
            .execute(self.c())
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
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn insert_org_api_key(&mut self, k: &OrgApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO org_api_keys (id, org_id, name, prefix, token_hash, role, scopes, \
             created_by, created_at, expires_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(k.id.0)
        .bind(k.org_id.0)
        .bind(&k.name)
        .bind(&k.prefix)
        .bind(&k.token_hash)
        .bind(k.role.as_str())
        .bind(k.scopes_text())
        .bind(k.created_by.map(|u| u.0))
        .bind(k.created_at.as_millis())
        .bind(k.expires_at.map(Timestamp::as_millis))
        .bind(k.last_used_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn delete_org_api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM org_api_keys WHERE id = $1 AND org_id = $2")
            .bind(id.0)
            .bind(org.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_api_key(&mut self, user: UserId, id: ApiKeyId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
