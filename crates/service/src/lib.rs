//! Orgbase's use cases. The only layer that combines permission checks, rules and
//! storage: the HTTP handlers, the admin pages and the CLI all call these functions, so
//! no rule exists twice.

mod access;
mod accounts;
mod admin;
mod audit;
pub mod authz;
pub mod crypto;
pub mod error;
mod hierarchy;
mod invitations;
mod orgs;
pub mod ratelimit;
pub mod secrets;
mod system;

use std::sync::Arc;

use orgbase_domain::{ApiKeyId, Clock, SessionId};
use orgbase_store::{Store, User};

pub use access::{DomainInput, SignupInput, SignupSettings, SignupSettingsInput};
pub use accounts::{
    ApiKeyCreated, LoginResult, MeView, NewUserInput, OrgUserCreated, OrgUserInput, SignupResult,
    UserPatch,
};
pub use authz::{CheckRequest, CheckResult, OrgAccess, OrgRef, perm};
pub use error::{Error, Result};
pub use hierarchy::{MemberInput, ScopePath};
pub use invitations::{InvitationCreated, InvitationInput};
pub use orgbase_store as store;
pub use orgs::{NewOrgInput, OrgPatch, default_tree};
pub use system::{SyncReport, SystemEnv};

pub use orgbase_domain::policy::{AccessPolicy, DomainList, EmailList, SignupMode};

#[derive(Debug, Clone)]
pub struct Config {
    /// Who may sign up, log in and own orgs (SPEC §4).
    pub policy: AccessPolicy,
    /// Session lifetime in seconds.
    pub session_ttl_secs: i64,
    /// Days a soft-deleted org can still be restored.
    pub restore_window_days: i64,
    /// How long an invitation stays valid.
    pub invitation_ttl_secs: i64,
    /// How long a one-time set-password link stays valid.
    pub password_link_ttl_secs: i64,
    /// Where people reach this server, for links in answers (no trailing slash).
    pub public_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            policy: AccessPolicy::default(),
            session_ttl_secs: 14 * 24 * 3600,
            restore_window_days: 30,
            invitation_ttl_secs: 7 * 24 * 3600,
            password_link_ttl_secs: 3 * 24 * 3600,
            public_url: "http://127.0.0.1:8080".to_string(),
        }
    }
}

/// What [`Services`] is built from.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub hasher: crypto::Hasher,
    pub config: Config,
    pub secrets: secrets::SecretBox,
    pub system_env: SystemEnv,
    pub rate_limits: ratelimit::RateLimits,
}

/// Everything a use case needs, built once at start and shared.
#[derive(Clone)]
pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: crypto::Hasher,
    pub(crate) cfg: Arc<Config>,
    pub(crate) secrets: secrets::SecretBox,
    pub(crate) system_env: Arc<SystemEnv>,
    pub(crate) limiter: ratelimit::RateLimiter,
}

impl Services {
    pub fn new(parts: Parts) -> Self {
        Self {
            store: parts.store,
            clock: parts.clock,
            hasher: parts.hasher,
            cfg: Arc::new(parts.config),
            secrets: parts.secrets,
            system_env: Arc::new(parts.system_env),
            limiter: ratelimit::RateLimiter::new(parts.rate_limits),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
}

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

/// How an authenticated caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(SessionId),
    ApiKey(ApiKeyId),
}

/// An authenticated user making a request. Only [`Services::authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub credential: Credential,
    pub origin: Origin,
}

impl Actor {
    pub fn is_system_admin(&self) -> bool {
        self.user.is_system_admin
    }
}
