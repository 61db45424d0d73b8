//! Orgbase's use cases. The only layer that combines permission checks, rules and
//! storage: the HTTP handlers, the admin pages and the CLI all call these functions, so
//! no rule exists twice.
//!
//! The crate has two floors:
//! - `shared/`: the parts every capability stands on (authorization proofs, the audit
//!   trail, crypto, sealed secrets, rate limits, and provisioning: what several
//!   capabilities do to create orgs and grant memberships). They import nothing above.
//! - one module per capability (`accounts`, `me`, `orgs`, `hierarchy`, `access`,
//!   `invitations`, `admin`, `system`, `configuration`, `service_keys`, `portability`, `assistants`). Each is its own type reached from [`Services`]
//!   (`svc.orgs()`, ...), imports only `shared/`, and never another capability.
//!
//! Every use case takes the proof of authorization it needs ([`OrgAccess`],
//! [`ScopeAccess`], [`SystemAdmin`], [`Operator`], or an authenticated [`Actor`] for the
//! caller's own things); only `shared::authz` builds proofs.

mod error;
mod shared;

mod access;
mod accounts;
mod admin;
mod assistants;
mod configuration;
mod hierarchy;
mod invitations;
mod mail;
mod me;
pub mod oidc;
mod orgs;
mod portability;
mod service_keys;
mod system;

use std::sync::Arc;

use orgbase_domain::Clock;
use orgbase_store::Store;

pub use access::{
    Access, DomainInput, ImportOutcome, ImportPhase, ImportProgress, ImportReport, ImportRow,
    ImportTotals, MAX_IMPORT_ROWS, OrgUserCreated, OrgUserInput, SignupSettings,
    SignupSettingsInput,
};
pub use accounts::{Accounts, LoginResult, SignupInput, SignupResult};
pub use admin::{Admin, CheckRequest, CheckResult, NewUserInput, UserPatch, UserRef};
pub use assistants::{
    AssistantDetail, AssistantInput, AssistantPatch, Assistants, RederiveReport, ResolvedConfig,
};
pub use configuration::{Configuration, Usage};
pub use error::{Error, Result};
pub use hierarchy::{Hierarchy, MemberInput};
pub use invitations::{InvitationCreated, InvitationInput, Invitations};
pub use mail::{Mail, OutboxEntry};
pub use me::{ApiKeyCreated, Me, MeView};
/// The filters of an org's assistant list.
pub use orgbase_store::AssistantFilter;
pub use orgs::{OrgPatch, Orgs};
pub use portability::{
    DomainEntry, EXPORT_VERSION, ImportOptions, ImportSummary, MemberEntry, OrgDocument, OrgMeta,
    Portability, ProjectEntry, ScopedMember, SignupEntry, WorkspaceEntry,
};
pub use service_keys::{ServiceKeyCreated, ServiceKeyInput, ServiceKeys};
pub use shared::authz::{
    self, Actor, AssistantAccess, Caller, CheckAuthority, Credential, Operator, OrgAccess, OrgRef,
    Origin, Platform, ScopeAccess, ScopePath, ServiceActor, SystemAdmin, perm,
};
pub use shared::mail::{DeliveryReport, MailSettings, Mailer, Rendered, Templates};
pub use shared::provision::NewOrgInput;
pub use shared::{crypto, dns, ratelimit, secrets};
pub use system::{Bootstrap, PurgeReport, RotationReport, SyncReport, System, SystemEnv};

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
    /// How long a password-reset link (mailed) stays valid.
    pub password_reset_ttl_secs: i64,
    /// How long an e-mail verification link stays valid.
    pub email_verification_ttl_secs: i64,
    /// Where people reach this server, for links in answers (no trailing slash).
    pub public_url: String,
    /// Mail providers' domains, which no org may claim, beyond the built-in list.
    pub public_email_domains: DomainList,
    /// Domain claims (pending or verified) one org may hold.
    pub max_domains_per_org: usize,
    /// Organizations one user may own (system org and deleted ones aside); `None`: any.
    pub max_orgs_per_user: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            policy: AccessPolicy::default(),
            session_ttl_secs: 14 * 24 * 3600,
            restore_window_days: 30,
            invitation_ttl_secs: 7 * 24 * 3600,
            password_link_ttl_secs: 3 * 24 * 3600,
            password_reset_ttl_secs: 3600,
            email_verification_ttl_secs: 24 * 3600,
            public_url: "http://127.0.0.1:8080".to_string(),
            public_email_domains: DomainList::default(),
            max_domains_per_org: 20,
            max_orgs_per_user: None,
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
    /// Looks up the TXT records that prove domain claims.
    pub dns: Arc<dyn dns::TxtLookup>,
    /// Hands mail to an SMTP server; `None`: mail stays in the outbox.
    pub mailer: Option<Arc<dyn Mailer>>,
    pub templates: Templates,
    pub mail: MailSettings,
}

/// What every capability works with, built once at start and shared.
pub(crate) struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub hasher: crypto::Hasher,
    pub cfg: Config,
    pub secrets: secrets::SecretBox,
    pub system_env: SystemEnv,
    pub limiter: ratelimit::RateLimiter,
    pub dns: Arc<dyn dns::TxtLookup>,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub templates: Templates,
    pub mail: MailSettings,
    /// Wakes the mail worker when a change queued a mail.
    pub mail_queued: tokio::sync::Notify,
}

/// The way into every capability. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    core: Arc<Core>,
}

impl Services {
    /// Builds the services and the one [`Operator`] proof: whoever assembles the
    /// server (the binary) holds it for start-up duties and CLI commands; the HTTP
    /// layer is handed only the services.
    pub fn new(parts: Parts) -> (Self, Operator) {
        let core = Core {
            store: parts.store,
            clock: parts.clock,
            hasher: parts.hasher,
            cfg: parts.config,
            secrets: parts.secrets,
            system_env: parts.system_env,
            limiter: ratelimit::RateLimiter::new(parts.rate_limits),
            dns: parts.dns,
            mailer: parts.mailer,
            templates: parts.templates,
            mail: parts.mail,
            mail_queued: tokio::sync::Notify::new(),
        };
        (
            Self {
                core: Arc::new(core),
            },
            Operator::new(),
        )
    }

    pub fn config(&self) -> &Config {
        &self.core.cfg
    }

    /// Now, by the services' clock (to show, say, whether an invitation has expired).
    pub fn now(&self) -> orgbase_domain::Timestamp {
        self.core.clock.now()
    }

    /// Sign-up, login, logout, one-time password links.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts(&self.core)
    }
    /// The caller's own account: profile, password, personal API keys.
    pub fn me(&self) -> Me<'_> {
        Me(&self.core)
    }
    /// Organization lifecycle.
    pub fn orgs(&self) -> Orgs<'_> {
        Orgs(&self.core)
    }
    /// Workspaces, projects and memberships.
    pub fn hierarchy(&self) -> Hierarchy<'_> {
        Hierarchy(&self.core)
    }
    /// Who gets in: signup settings, claimed domains, accounts made by org admins.
    pub fn access(&self) -> Access<'_> {
        Access(&self.core)
    }
    pub fn invitations(&self) -> Invitations<'_> {
        Invitations(&self.core)
    }
    /// Platform administration: users, all orgs, the global audit, permission checks.
    pub fn admin(&self) -> Admin<'_> {
        Admin(&self.core)
    }
    /// The system organization and start-up duties.
    pub fn system(&self) -> System<'_> {
        System(&self.core)
    }

    /// The mail outbox: what is queued, and its delivery.
    pub fn mail(&self) -> Mail<'_> {
        Mail(&self.core)
    }
    /// The org's configuration document.
    pub fn configuration(&self) -> Configuration<'_> {
        Configuration(&self.core)
    }
    /// Assistants, their sharing and their resolved configuration.
    pub fn assistants(&self) -> Assistants<'_> {
        Assistants(&self.core)
    }
    /// Exporting an organization to a document, and importing one.
    pub fn portability(&self) -> Portability<'_> {
        Portability(&self.core)
    }
    /// Organizations' service keys.
    pub fn service_keys(&self) -> ServiceKeys<'_> {
        ServiceKeys(&self.core)
    }

    /// The OpenID Connect provider: discovery, signing keys (ADR 0025).
    pub fn oidc(&self) -> oidc::Oidc<'_> {
        oidc::Oidc(&self.core)
    }

    /// Delivers the outbox until the future is dropped: a pass whenever a change
    /// queued a mail, and at least every `poll_ms`. Does nothing without a mailer.
    pub async fn run_mail_worker(&self) {
        if self.core.mailer.is_none() {
            return;
        }
        let poll = std::time::Duration::from_millis(self.core.mail.poll_ms.max(10));
        loop {
            let woken = self.core.mail_queued.notified();
            match self.core.deliver_due().await {
                // A full batch: there may be more due now.
                Ok(r) if r.sent + r.retried + r.failed > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail delivery pass failed"),
            }
            let _ = tokio::time::timeout(poll, woken).await;
        }
    }

    /// Purges organizations past their restore window every `every`, as the server
    /// itself (SPEC §5). Every node may run it: each org is purged exactly once.
    pub async fn run_purge_worker(&self, every: std::time::Duration) {
        loop {
            match system::purge(&self.core, shared::audit::AuditCtx::system(), false).await {
                Ok(r) if !r.orgs.is_empty() => {
                    tracing::info!(
                        purged = r.orgs.len(),
                        "purged organizations past their restore window"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging deleted organizations failed"),
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Authentication and authorization of requests (see [`authz`]).
    pub fn authz(&self) -> authz::Authz<'_> {
        authz::Authz(&self.core)
    }

    /// Readiness: the database answers. Names the backend.
    pub async fn ready(&self) -> Result<&'static str> {
        match self.core.store.ping().await {
            Ok(()) => Ok(self.core.store.backend()),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check failed");
                Err(Error::Unavailable)
            }
        }
    }
}
