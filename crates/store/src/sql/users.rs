//! Users, sessions and passwords.

use async_trait::async_trait;
use orgbase_domain::{
    ApiKeyAuth, ApiKeyId, Email, EmailToken, OrgId, Page, PageRequest, PasswordHash, PasswordToken,
    Session, SessionAuth, SessionId, Timestamp, User, UserId,
};
use sqlx::Row;
use uuid::Uuid;

use super::rows::{DbRow, USER_COLS, after, overfetch, ts, ts_opt, user_from};
use super::{DbConn, LOCK_SUFFIX, SqlTx};
use crate::{Result, UserFilter};

pub(crate) async fn user_by_id(c: &mut DbConn, id: UserId) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

pub(crate) async fn user_by_email(c: &mut DbConn, email: &Email) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = $1");
    sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// The user with their password hash: for authentication only.
pub(crate) async fn credentials_by_email(
    c: &mut DbConn,
    email: &Email,
) -> Result<Option<(User, Option<PasswordHash>)>> {
    let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1");
    let Some(r) = sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(c)
        .await?
    else {
        return Ok(None);
    };
    let hash: Option<String> = r.try_get("password_hash")?;
    Ok(Some((user_from(&r)?, hash.map(PasswordHash::from_phc))))
}

pub(crate) async fn password_hash(c: &mut DbConn, user: UserId) -> Result<Option<PasswordHash>> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(c)
            .await?;
    Ok(hash.flatten().map(PasswordHash::from_phc))
}

pub(crate) async fn users(
    c: &mut DbConn,
    filter: UserFilter,
    page: PageRequest,
) -> Result<Page<User>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users u WHERE u.id > $1 \
         AND ($3 IS NULL OR LOWER(u.email) LIKE $3 ESCAPE '\\' OR LOWER(u.name) LIKE $3 ESCAPE '\\') \
         ORDER BY u.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(after(page))
        .bind(overfetch(page))
        .bind(filter.search.as_deref().map(super::contains_pattern))
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(user_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |u| u.id.0))
}

pub(crate) async fn orgless_verified_users_in(c: &mut DbConn, domain: &str) -> Result<Vec<User>> {
    // Domains hold no LIKE wildcards (letters, digits, '-', '.'); the caller checks
    // each address against the domain rule again.
    let sql = format!(
        "SELECT {USER_COLS} FROM users u WHERE u.email_verified_at IS NOT NULL AND u.enabled = TRUE \
         AND (u.email LIKE $1 OR u.email LIKE $2) \
         AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.user_id = u.id) \
         ORDER BY u.id LIMIT 1000"
    );
    let rows = sqlx::query(&sql)
        .bind(format!("%@{domain}"))
        .bind(format!("%.{domain}"))
        .fetch_all(c)
        .await?;
    rows.iter().map(user_from).collect()
}

pub(crate) async fn count_system_admins(c: &mut DbConn) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM users WHERE is_system_admin = TRUE AND enabled = TRUE";
    Ok(sqlx::query(sql).fetch_one(c).await?.try_get("n")?)
}

pub(crate) async fn session_user(
    c: &mut DbConn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionAuth>> {
    let sql = format!(
        "SELECT s.id AS sid, s.token_hash AS th, s.expires_at AS sexp, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(c)
        .await?;
    row.map(|r| {
        Ok(SessionAuth {
            id: SessionId(r.try_get("sid")?),
            token_hash: r.try_get("th")?,
            expires_at: ts(&r, "sexp")?,
            user: user_from(&r)?,
        })
    })
    .transpose()
}

pub(crate) async fn api_key_user(
    c: &mut DbConn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<ApiKeyAuth>> {
    let sql = format!(
        "SELECT k.id AS kid, k.token_hash AS th, k.expires_at AS kexp, k.last_used_at AS klu, {USER_COLS} FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.token_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > $2)"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(c)
        .await?;
    row.map(|r| {
        Ok(ApiKeyAuth {
            id: ApiKeyId(r.try_get("kid")?),
            token_hash: r.try_get("th")?,
            expires_at: ts_opt(&r, "kexp")?,
            last_used_at: ts_opt(&r, "klu")?,
            user: user_from(&r)?,
        })
    })
    .transpose()
}

reads!(UserReads {
    fn user_by_id(&self, id: UserId) -> Option<User>;
    fn user_by_email(&self, email: &Email) -> Option<User>;
    fn credentials_by_email(&self, email: &Email) -> Option<(User, Option<PasswordHash>)>;
    fn password_hash(&self, user: UserId) -> Option<PasswordHash>;
    fn users(&self, filter: UserFilter, page: PageRequest) -> Page<User>;
    fn count_system_admins(&self) -> i64;
    fn orgless_verified_users_in(&self, domain: &str) -> Vec<User>;
    fn session_user(&self, token_hash: &str, now: Timestamp) -> Option<SessionAuth>
        => sessions(token_hash.to_string()) at now;
    fn api_key_user(&self, token_hash: &str, now: Timestamp) -> Option<ApiKeyAuth>
        => api_keys(token_hash.to_string()) at now;
});

/// Runs a one-time token's `DELETE … RETURNING …, expires_at`: the row when the token
/// was there and unexpired (an expired one is used up all the same).
async fn take_live_token(
    c: &mut DbConn,
    sql: &str,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<DbRow>> {
    let row = sqlx::query(sql).bind(token_hash).fetch_optional(c).await?;
    let Some(r) = row else { return Ok(None) };
    let expires: i64 = r.try_get("expires_at")?;
    Ok((expires > now.as_millis()).then_some(r))
}

#[async_trait]
impl crate::UserWrites for SqlTx {
    async fn insert_user(&mut self, u: &User, hash: Option<&PasswordHash>) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, is_system_admin, enabled, home_org_id, \
             created_at, updated_at, last_login_at, email_verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (email) DO NOTHING",
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
        .bind(u.email_verified_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn lock_user(&mut self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1{LOCK_SUFFIX}");
        sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.c())
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn set_email_verified(
        &mut self,
        user: UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE users SET email_verified_at = $1, updated_at = $1 \
             WHERE id = $2 AND email = $3 AND email_verified_at IS NULL",
        )
        .bind(at.as_millis())
        .bind(user.0)
        .bind(email.as_str())
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_email_token(&mut self, t: &EmailToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, user_id, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.token_hash)
        .bind(t.user_id.0)
        .bind(t.email.as_str())
        .bind(t.created_at.as_millis())
        .bind(t.expires_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn take_email_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(UserId, Email)>> {
        let sql =
            "DELETE FROM email_tokens WHERE token_hash = $1 RETURNING user_id, email, expires_at";
        let Some(r) = take_live_token(self.c(), sql, token_hash, now).await? else {
            return Ok(None);
        };
        Ok(Some((
            UserId(r.try_get("user_id")?),
            Email::from_trusted(r.try_get("email")?),
        )))
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
            .execute(self.c())
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
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn set_last_login(&mut self, user: UserId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(user.0)
            .execute(self.c())
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
            .execute(self.c())
            .await?;
        Ok(())
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
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn delete_session(&mut self, id: SessionId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.0)
            .execute(self.c())
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.0)
            .bind(keep.map(|k| k.0).unwrap_or(Uuid::nil()))
            .execute(self.c())
            .await?;
        Ok(r.rows_affected())
    }

    async fn insert_password_token(&mut self, t: &PasswordToken) -> Result<()> {
        sqlx::query("INSERT INTO password_tokens (token_hash, user_id, created_at, expires_at, mailed) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.token_hash)
            .bind(t.user_id.0)
            .bind(t.created_at.as_millis())
            .bind(t.expires_at.as_millis())
            .bind(t.mailed)
            .execute(self.c())
            .await?;
        Ok(())
    }

    async fn take_password_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(UserId, bool)>> {
        let sql = "DELETE FROM password_tokens WHERE token_hash = $1 \
                   RETURNING user_id, expires_at, mailed";
        let Some(r) = take_live_token(self.c(), sql, token_hash, now).await? else {
            return Ok(None);
        };
        Ok(Some((UserId(r.try_get("user_id")?), r.try_get("mailed")?)))
    }

    async fn delete_password_tokens_of(&mut self, user: UserId) -> Result<()> {
        sqlx::query("DELETE FROM password_tokens WHERE user_id = $1")
            .bind(user.0)
            .execute(self.c())
            .await?;
        Ok(())
    }
}
