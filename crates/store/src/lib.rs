//! Orgbase persistence: one [`Store`] trait, one implementation per backend, chosen once
//! at start from the URL scheme (`sqlite://` or `postgres://`).
//!
//! The store keeps no business rules: it stores, fetches and reports constraint
//! violations as typed conflicts. Writes go through a [`Tx`]; dropping a `Tx` without
//! `commit` rolls it back, so a failed use case leaves nothing half-written.

pub mod dump;
mod migrations;
mod postgres;
pub mod records;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use orgbase_domain::{
    ApiKeyId, Email, InvitationId, InvitationStatus, MembershipStatus, OrgId, ProjectId, Role,
    SessionId, Slug, Timestamp, UserId, WorkspaceId,
};
pub use records::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or foreign-key constraint refused the write. The string names the
    /// constraint as well as the backend can tell; it is for logs, not for clients.
    #[error("constraint violated: {0}")]
    Conflict(String),
    /// A stored value did not parse back into its domain type.
    #[error("corrupt value in column {0}")]
    Corrupt(&'static str),
    #[error("unsupported database url: {0}")]
    BadUrl(String),
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let Some(db) = e.as_database_error() {
            match db.kind() {
                ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation => {
                    let what = db
                        .constraint()
                        .map_or_else(|| db.message().to_string(), str::to_string);
                    return StoreError::Conflict(what);
                }
                _ => {}
            }
        }
        StoreError::Db(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Connections in the pool (PostgreSQL) or readers (SQLite; SQLite has one writer).
    pub max_connections: Option<u32>,
    /// PostgreSQL only: the schema to work in (tests give each test its own).
    pub pg_schema: Option<String>,
}

/// Opens the store named by `url` (`sqlite://path`, `sqlite::memory:`, `postgres://…`).
/// Does not run migrations; call [`Store::migrate`].
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url, opts).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, opts).await?))
    } else {
        Err(StoreError::BadUrl(
            url.split(':').next().unwrap_or("").to_string(),
        ))
    }
}

/// Reads outside a transaction, and the way into one.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies the embedded migrations that have not run yet; returns how many ran.
    async fn migrate(&self) -> Result<usize>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;
    /// The live schema, normalized (see [`dump`]).
    async fn schema(&self) -> Result<dump::Schema>;
    async fn begin(&self) -> Result<Box<dyn Tx>>;

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
    async fn users(&self, page: PageRequest) -> Result<Page<User>>;
    async fn count_system_admins(&self) -> Result<i64>;
    /// The user behind a live (unexpired) session token hash.
    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionAuth>>;
    /// The user behind a live API key hash, with the key's last-used time.
    async fn api_key_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<ApiKeyAuth>>;
    /// Records when an API key was last used (best effort, outside any use case).
    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()>;
    async fn api_keys_of(&self, user: UserId, page: PageRequest) -> Result<Page<ApiKey>>;

    async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>>;
    async fn org_by_slug(&self, slug: &Slug) -> Result<Option<Org>>;
    async fn system_org(&self) -> Result<Option<Org>>;
    /// A live session with, in the same round trip, the org named by `key` and the
    /// session user's org membership (the hot path of org-scoped requests).
    async fn session_org_access(
        &self,
        token_hash: &str,
        now: Timestamp,
        key: OrgKey<'_>,
    ) -> Result<Option<(SessionAuth, Option<OrgAccessRow>)>>;
    /// An org by id or slug with the user's org role and membership status, if any.
    async fn org_access(
        &self,
        key: OrgKey<'_>,
        user: UserId,
    ) -> Result<Option<(Org, Option<(Role, MembershipStatus)>)>>;
    /// Orgs where the user has an active org membership (not deleted ones).
    async fn orgs_of(&self, user: UserId, page: PageRequest) -> Result<Page<OrgWithRole>>;
    async fn all_orgs(&self, filter: OrgFilter, page: PageRequest) -> Result<Page<Org>>;
    async fn count_owned_live_orgs(&self, user: UserId) -> Result<i64>;

    async fn workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>>;
    async fn workspaces(&self, org: OrgId, page: PageRequest) -> Result<Page<Workspace>>;
    async fn project(&self, id: ProjectId) -> Result<Option<Project>>;
    async fn projects(&self, ws: WorkspaceId, page: PageRequest) -> Result<Page<Project>>;

    async fn membership(&self, scope: Scope, user: UserId) -> Result<Option<Membership>>;
    /// Active memberships of `user` on the path org > workspace > project.
    async fn role_chain(
        &self,
        user: UserId,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        project: Option<ProjectId>,
    ) -> Result<RoleChain>;
    /// Members of a scope, paged by user id.
    async fn members(&self, scope: Scope, page: PageRequest) -> Result<Page<Member>>;
    /// The user's active org memberships (for `GET /me`).
    async fn memberships_of(&self, user: UserId) -> Result<Vec<(Membership, Slug)>>;

    /// Newest first; `page.after` is the last id seen.
    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>>;

    async fn org_by_signup_key(&self, key: &str) -> Result<Option<Org>>;
    /// The claim of exactly this domain, if any.
    async fn domain(&self, domain: &str) -> Result<Option<OrgDomain>>;
    async fn domains_of(&self, org: OrgId) -> Result<Vec<OrgDomain>>;
    async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>>;
    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>>;
    async fn invitations_of(
        &self,
        org: OrgId,
        status: Option<InvitationStatus>,
        now: Timestamp,
        page: PageRequest,
    ) -> Result<Page<Invitation>>;
}

/// One transaction. Every use case writes its change and its audit event through the
/// same `Tx` and commits once.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<()>;

    /// Serializes concurrent writers to one org (row lock on PostgreSQL; SQLite has a
    /// single writer already). Returns the org as it is now.
    async fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>>;
    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>>;
    async fn membership(&mut self, scope: Scope, user: UserId) -> Result<Option<Membership>>;
    async fn count_owned_live_orgs(&mut self, user: UserId) -> Result<i64>;
    async fn system_org(&mut self) -> Result<Option<Org>>;

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

    /// Slugs equal to `base` or of the form `base-N`.
    async fn slugs_like(&mut self, base: &Slug) -> Result<Vec<String>>;
    /// Inserts unless the slug is taken; false when it was (no error, the tx stays usable).
    async fn insert_org(&mut self, org: &Org) -> Result<bool>;
    /// Writes every mutable column of the org.
    async fn update_org(&mut self, org: &Org) -> Result<()>;
    async fn insert_workspace(&mut self, ws: &Workspace) -> Result<bool>;
    async fn insert_project(&mut self, p: &Project) -> Result<bool>;

    /// Inserts or replaces the membership of (scope, user).
    async fn upsert_membership(&mut self, m: &Membership) -> Result<()>;
    async fn set_membership_role(
        &mut self,
        scope: Scope,
        user: UserId,
        role: Role,
        status: MembershipStatus,
        now: Timestamp,
    ) -> Result<bool>;
    /// Removes the user from the org and from all its workspaces and projects.
    async fn delete_org_memberships(&mut self, org: OrgId, user: UserId) -> Result<bool>;
    async fn delete_membership(&mut self, scope: Scope, user: UserId) -> Result<bool>;

    async fn insert_session(&mut self, s: &Session) -> Result<()>;
    async fn delete_session(&mut self, id: SessionId) -> Result<()>;
    /// Ends every session of the user except `keep`.
    async fn delete_sessions_of(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64>;
    async fn insert_api_key(&mut self, k: &ApiKey) -> Result<()>;
    async fn delete_api_key(&mut self, user: UserId, id: ApiKeyId) -> Result<bool>;

    async fn insert_audit(&mut self, e: &AuditEvent) -> Result<()>;

    async fn org_by_signup_key(&mut self, key: &str) -> Result<Option<Org>>;
    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>>;
    /// Inserts unless the domain is claimed (by any org); false when it was.
    async fn insert_domain(&mut self, d: &OrgDomain) -> Result<bool>;
    async fn delete_domain(&mut self, org: OrgId, domain: &str) -> Result<bool>;
    /// The invitation, locked against concurrent changes on PostgreSQL.
    async fn lock_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>>;
    async fn insert_invitation(&mut self, i: &Invitation) -> Result<()>;
    /// Writes the invitation's mutable fields if its status is still `expect`; false
    /// when someone else changed it first (a racing accept, say).
    async fn update_invitation(&mut self, i: &Invitation, expect: InvitationStatus)
    -> Result<bool>;
    async fn insert_password_token(&mut self, t: &PasswordToken) -> Result<()>;
    /// Deletes the token and returns its user when it was there and unexpired.
    async fn take_password_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>>;
    async fn delete_password_tokens_of(&mut self, user: UserId) -> Result<()>;
}
