//! The OpenID Connect provider's signing keys and clients (ADR 0025).

use async_trait::async_trait;
use orgbase_domain::{
    GroupsStyle, OidcClient, OidcClientId, OidcCode, OidcToken, OidcTokenKind, OrgId, Page,
    PageRequest, RedirectUri, SigningAlg, SigningKey, Timestamp, UserId,
};
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::{DbRow, after, overfetch, ts, ts_opt};
use super::{DbConn, LOCK_SUFFIX, SqlTx};
use crate::{Result, StoreError};

const CLIENT_COLS: &str = "id, client_id, name, secret_hash, redirect_uris, \
    post_logout_redirect_uris, org_id, allowed_orgs, first_party, groups_style, admin_role, \
    id_token_alg, created_by, created_at, updated_at";

fn client_from(r: &DbRow) -> Result<OidcClient> {
    let uris = |col: &'static str| -> Result<Vec<RedirectUri>> {
        Ok(r.try_get::<Json<Vec<String>>, _>(col)?
            .0
            .into_iter()
            .map(RedirectUri::from_trusted)
            .collect())
    };
    let groups: String = r.try_get("groups_style")?;
    let alg: String = r.try_get("id_token_alg")?;
    Ok(OidcClient {
        id: OidcClientId(r.try_get("id")?),
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        secret_hash: r.try_get("secret_hash")?,
        redirect_uris: uris("redirect_uris")?,
        post_logout_redirect_uris: uris("post_logout_redirect_uris")?,
        org_id: r.try_get::<Option<Uuid>, _>("org_id")?.map(OrgId),
        allowed_orgs: r
            .try_get::<Json<Vec<Uuid>>, _>("allowed_orgs")?
            .0
            .into_iter()
            .map(OrgId)
            .collect(),
        first_party: r.try_get("first_party")?,
        groups: GroupsStyle::parse(&groups).map_err(|_| StoreError::Corrupt("groups_style"))?,
        admin_role: r.try_get("admin_role")?,
        id_token_alg: SigningAlg::parse(&alg).ok_or(StoreError::Corrupt("id_token_alg"))?,
        created_by: r.try_get::<Option<Uuid>, _>("created_by")?.map(UserId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

fn uri_strings(uris: &[RedirectUri]) -> Vec<&str> {
    uris.iter().map(RedirectUri::as_str).collect()
}

pub(crate) async fn oidc_client(c: &mut DbConn, id: OidcClientId) -> Result<Option<OidcClient>> {
    let row = sqlx::query(&format!(
        "SELECT {CLIENT_COLS} FROM oidc_clients WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(client_from).transpose()
}

pub(crate) async fn oidc_client_by_client_id(
    c: &mut DbConn,
    client_id: &str,
) -> Result<Option<OidcClient>> {
    let row = sqlx::query(&format!(
        "SELECT {CLIENT_COLS} FROM oidc_clients WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(client_from).transpose()
}

pub(crate) async fn oidc_clients(
    c: &mut DbConn,
    owner: Option<OrgId>,
    page: PageRequest,
) -> Result<Page<OidcClient>> {
    let rows = match owner {
        Some(org) => {
            sqlx::query(&format!(
                "SELECT {CLIENT_COLS} FROM oidc_clients WHERE org_id = $1 AND id > $2 \
                 ORDER BY id LIMIT $3"
            ))
            .bind(org.0)
            .bind(after(page))
            .bind(overfetch(page))
            .fetch_all(c)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {CLIENT_COLS} FROM oidc_clients WHERE org_id IS NULL AND id > $1 \
                 ORDER BY id LIMIT $2"
            ))
            .bind(after(page))
            .bind(overfetch(page))
            .fetch_all(c)
            .await?
        }
    };
    let items = rows.iter().map(client_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |k| k.id.0))
}

fn key_from(r: &DbRow) -> Result<SigningKey> {
    let alg: String = r.try_get("alg")?;
    Ok(SigningKey {
        kid: r.try_get("kid")?,
        alg: SigningAlg::parse(&alg).ok_or(StoreError::Corrupt("alg"))?,
        generation: r.try_get("generation")?,
        private_sealed: r.try_get("private_key")?,
        public_jwk: r.try_get::<Json<serde_json::Value>, _>("public_jwk")?.0,
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
    })
}

pub(crate) async fn signing_keys(c: &mut DbConn) -> Result<Vec<SigningKey>> {
    let rows = sqlx::query(
        "SELECT kid, alg, generation, private_key, public_jwk, created_at FROM oidc_keys \
         ORDER BY alg DESC, generation DESC",
    )
    .fetch_all(c)
    .await?;
    rows.iter().map(key_from).collect()
}

const CODE_COLS: &str = "code_hash, client_id, user_id, redirect_uri, scope, nonce, \
    code_challenge, auth_time, created_at, expires_at, used_at";

fn code_from(r: &DbRow) -> Result<OidcCode> {
    Ok(OidcCode {
        code_hash: r.try_get("code_hash")?,
        client: OidcClientId(r.try_get("client_id")?),
        user_id: UserId(r.try_get("user_id")?),
        redirect_uri: r.try_get("redirect_uri")?,
        scope: r.try_get("scope")?,
        nonce: r.try_get("nonce")?,
        code_challenge: r.try_get("code_challenge")?,
        auth_time: ts(r, "auth_time")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        used_at: ts_opt(r, "used_at")?,
    })
}

const TOKEN_COLS: &str = "token_hash, kind, family, client_id, user_id, scope, auth_time, \
    created_at, expires_at, used_at, revoked_at";

fn token_from(r: &DbRow) -> Result<OidcToken> {
    let kind: String = r.try_get("kind")?;
    Ok(OidcToken {
        token_hash: r.try_get("token_hash")?,
        kind: OidcTokenKind::parse(&kind).ok_or(StoreError::Corrupt("kind"))?,
        family: r.try_get("family")?,
        client: OidcClientId(r.try_get("client_id")?),
        user_id: UserId(r.try_get("user_id")?),
        scope: r.try_get("scope")?,
        auth_time: ts(r, "auth_time")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        used_at: ts_opt(r, "used_at")?,
        revoked_at: ts_opt(r, "revoked_at")?,
    })
}

pub(crate) async fn oidc_token(c: &mut DbConn, token_hash: &str) -> Result<Option<OidcToken>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM oidc_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(token_from).transpose()
}

pub(crate) async fn oidc_consent(
    c: &mut DbConn,
    user: UserId,
    client: OidcClientId,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT scope FROM oidc_consents WHERE user_id = $1 AND client_id = $2")
            .bind(user.0)
            .bind(client.0)
            .fetch_optional(c)
            .await?,
    )
}

reads!(OidcReads {
    fn signing_keys(&self) -> Vec<SigningKey>;
    fn oidc_client(&self, id: OidcClientId) -> Option<OidcClient>;
    fn oidc_client_by_client_id(&self, client_id: &str) -> Option<OidcClient>;
    fn oidc_clients(&self, owner: Option<OrgId>, page: PageRequest) -> Page<OidcClient>;
    fn oidc_token(&self, token_hash: &str) -> Option<OidcToken>;
    fn oidc_consent(&self, user: UserId, client: OidcClientId) -> Option<String>;
});

#[async_trait]
impl crate::OidcWrites for SqlTx {
    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<()> {
        // Numbered after the algorithm's newest; the unique index refuses a twin.
        sqlx::query(
            "INSERT INTO oidc_keys (kid, alg, generation, private_key, public_jwk, created_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(generation), 0) + 1 FROM oidc_keys WHERE alg = $2), \
             $3, $4, $5)",
        )
        .bind(&k.kid)
        .bind(k.alg.as_str())
        .bind(&k.private_sealed)
        .bind(Json(&k.public_jwk))
        .bind(k.created_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn prune_signing_keys(&mut self, alg: SigningAlg, keep: u32) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM oidc_keys WHERE alg = $1 AND kid NOT IN \
             (SELECT kid FROM oidc_keys WHERE alg = $1 ORDER BY generation DESC LIMIT $2)",
        )
        .bind(alg.as_str())
        .bind(i64::from(keep))
        .execute(self.c())
        .await?;
        Ok(r.rows_affected())
    }

    async fn reseal_signing_key(
        &mut self,
        kid: &str,
        expected: &str,
        sealed: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE oidc_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3",
        )
        .bind(sealed)
        .bind(kid)
        .bind(expected)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_oidc_client(&mut self, k: &OidcClient) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO oidc_clients ({CLIENT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(k.id.0)
        .bind(&k.client_id)
        .bind(&k.name)
        .bind(&k.secret_hash)
        .bind(Json(uri_strings(&k.redirect_uris)))
        .bind(Json(uri_strings(&k.post_logout_redirect_uris)))
        .bind(k.org_id.map(|o| o.0))
        .bind(Json(k.allowed_orgs.iter().map(|o| o.0).collect::<Vec<_>>()))
        .bind(k.first_party)
        .bind(k.groups.as_str())
        .bind(k.admin_role)
        .bind(k.id_token_alg.as_str())
        .bind(k.created_by.map(|u| u.0))
        .bind(k.created_at.as_millis())
        .bind(k.updated_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn update_oidc_client(&mut self, k: &OidcClient) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE oidc_clients SET name = $2, secret_hash = $3, redirect_uris = $4, \
             post_logout_redirect_uris = $5, allowed_orgs = $6, first_party = $7, \
             groups_style = $8, admin_role = $9, id_token_alg = $10, updated_at = $11 \
             WHERE id = $1",
        )
        .bind(k.id.0)
        .bind(&k.name)
        .bind(&k.secret_hash)
        .bind(Json(uri_strings(&k.redirect_uris)))
        .bind(Json(uri_strings(&k.post_logout_redirect_uris)))
        .bind(Json(k.allowed_orgs.iter().map(|o| o.0).collect::<Vec<_>>()))
        .bind(k.first_party)
        .bind(k.groups.as_str())
        .bind(k.admin_role)
        .bind(k.id_token_alg.as_str())
        .bind(k.updated_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_oidc_client(&mut self, id: OidcClientId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM oidc_clients WHERE id = $1")
            .bind(id.0)
            .execute(self.c())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_oidc_code(&mut self, k: &OidcCode) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO oidc_codes ({CODE_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&k.code_hash)
        .bind(k.client.0)
        .bind(k.user_id.0)
        .bind(&k.redirect_uri)
        .bind(&k.scope)
        .bind(&k.nonce)
        .bind(&k.code_challenge)
        .bind(k.auth_time.as_millis())
        .bind(k.created_at.as_millis())
        .bind(k.expires_at.as_millis())
        .bind(k.used_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn take_oidc_code(
        &mut self,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OidcCode, bool)>> {
        let row = sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM oidc_codes WHERE code_hash = $1{LOCK_SUFFIX}"
        ))
        .bind(code_hash)
        .fetch_optional(self.c())
        .await?;
        let Some(code) = row.as_ref().map(code_from).transpose()? else {
            return Ok(None);
        };
        let r = sqlx::query(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(code_hash)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(Some((code, r.rows_affected() == 1)))
    }

    async fn insert_oidc_token(&mut self, t: &OidcToken) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO oidc_tokens ({TOKEN_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&t.token_hash)
        .bind(t.kind.as_str())
        .bind(t.family)
        .bind(t.client.0)
        .bind(t.user_id.0)
        .bind(&t.scope)
        .bind(t.auth_time.as_millis())
        .bind(t.created_at.as_millis())
        .bind(t.expires_at.as_millis())
        .bind(t.used_at.map(Timestamp::as_millis))
        .bind(t.revoked_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn use_oidc_token(&mut self, token_hash: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_oidc_token(&mut self, token_hash: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_oidc_family(&mut self, family: Uuid, now: Timestamp) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
        )
        .bind(family)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected())
    }

    async fn upsert_oidc_consent(
        &mut self,
        user: UserId,
        client: OidcClientId,
        scope: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO oidc_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, \
             granted_at = excluded.granted_at",
        )
        .bind(user.0)
        .bind(client.0)
        .bind(scope)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn lock_signing_keys(&mut self) -> Result<()> {
        super::super::lock_signing_keys(self.c()).await
    }
}
