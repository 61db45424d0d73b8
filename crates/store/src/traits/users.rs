//! Users, their sessions and their passwords.

use async_trait::async_trait;
use orgbase_domain::{
    ApiKeyAuth, Email, EmailToken, OrgId, Page, PageRequest, PasswordHash, PasswordToken, Session,
    SessionAuth, SessionId, Timestamp, User, UserId,
};

use crate::Result;

/// Which users an admin listing shows.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only users whose e-mail or name contains this text (case-insensitive for ASCII).
    pub search: Option<String>,
}

#[async_trait]
pub trait UserReads: Send + Sync {
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;
    /// The user with their password hash, if they have one: for authentication
    /// (login) only. No other read returns a password hash.
    async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>>;
    /// The user's password hash (to check the current password before changing it).
    async fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>>;
    async fn users(&self, filter: UserFilter, page: PageRequest) -> Result<Page<User>>;
    /// Enabled system admins.
    async fn count_system_admins(&self) -> Result<i64>;
    /// Enabled users with a proven address in the domain (or a subdomain) who belong to
    /// no org; at most 1000, oldest first.
    async fn orgless_verified_users_in(&self, domain: &str) -> Result<Vec<User>>;
    /// The user behind a live (unexpired) session token hash.
    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionAuth>>;
    /// The user behind a live API key hash, with the key's last-used time.
    async fn api_key_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<ApiKeyAuth>>;
}

#[async_trait]
pub trait UserWrites: Send {
    /// Inserts unless the e-mail is taken; false when it was.
    async fn insert_user(&mut self, user: &User, hash: Option<&PasswordHash>) -> Result<bool>;
    async fn set_password_hash(
        &mut self,
        user: UserId,
        hash: &PasswordHash,
        now: Timestamp,
    ) -> Result<()>;
    /// Writes every mutable column of the user (the password hash is not one of them:
    /// see `set_password_hash`).
    async fn update_user(&mut self, user: &User) -> Result<()>;
    async fn set_last_login(&mut self, user: UserId, now: Timestamp) -> Result<()>;
    async fn set_home_org(
        &mut self,
        user: UserId,
        org: Option<OrgId>,
        now: Timestamp,
    ) -> Result<()>;

    async fn insert_session(&mut self, s: &Session) -> Result<()>;
    async fn delete_session(&mut self, id: SessionId) -> Result<()>;
    /// Ends every session of the user except `keep`; returns how many ended.
    async fn delete_sessions_of(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64>;

    /// The user, locked against concurrent changes on PostgreSQL (SQLite serializes
    /// writers anyway): what one user may do only so often is counted under it.
    async fn lock_user(&mut self, id: UserId) -> Result<Option<User>>;
    /// Marks the address proven, if it is still the user's address and not proven yet;
    /// false otherwise.
    async fn set_email_verified(
        &mut self,
        user: UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<bool>;
    async fn insert_email_token(&mut self, t: &EmailToken) -> Result<()>;
    /// Deletes the token and returns its user and address when it was there and
    /// unexpired.
    async fn take_email_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(UserId, Email)>>;

    async fn insert_password_token(&mut self, t: &PasswordToken) -> Result<()>;
    /// Deletes the token and returns its user, and whether it was mailed to them, when
    /// it was there and unexpired.
    async fn take_password_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(UserId, bool)>>;
    async fn delete_password_tokens_of(&mut self, user: UserId) -> Result<()>;
}
