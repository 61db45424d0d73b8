//! Orgbase's use cases. The only layer that combines permission checks, rules and
//! storage: the HTTP handlers, the admin pages and the CLI all call these functions, so
//! no rule exists twice.

mod accounts;
mod admin;
mod audit;
pub mod authz;
pub mod crypto;
pub mod error;
mod hierarchy;
mod orgs;

use std::sync::Arc;

use orgbase_domain::{ApiKeyId, Clock, SessionId};
use orgbase_store::{Store, User};

pub use accounts::{ApiKeyCreated, LoginResult, MeView, NewUserInput, SignupResult};
pub use authz::{CheckRequest, CheckResult, OrgAccess, OrgRef, perm};
pub use error::{Error, Result};
pub use hierarchy::{MemberInput, ScopePath};
pub use orgbase_store as store;
pub use orgs::{NewOrgInput, OrgPatch};

/// How people may sign up. The full policy (allow and block lists, keys, domains,
/// invitations) arrives with the sign-up policy work; today `open` gives every new
/// user a personal organization and `restricted` refuses self-service sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignupMode {
    #[default]
    Restricted,
    Open,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub signup_mode: SignupMode,
    /// Session lifetime in seconds.
    pub session_ttl_secs: i64,
    /// Days a soft-deleted org can still be restored.
    pub restore_window_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            signup_mode: SignupMode::default(),
            session_ttl_secs: 14 * 24 * 3600,
            restore_window_days: 30,
        }
    }
}

/// Everything a use case needs, built once at start and shared.
#[derive(Clone)]
pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: crypto::Hasher,
    pub(crate) cfg: Arc<Config>,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hasher: crypto::Hasher,
        cfg: Config,
    ) -> Self {
        Self {
            store,
            clock,
            hasher,
            cfg: Arc::new(cfg),
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
