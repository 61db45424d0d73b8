//! Server settings: flags, else environment variables, else defaults. Built once in
//! `main` (or by a test) and passed down; nothing reads the environment later.

use std::time::Duration;

use clap::{Args, ValueEnum};
use orgbase_service::crypto::HashCost;
use orgbase_service::ratelimit::RateLimits;
use orgbase_service::{AccessPolicy, Config, DomainList, EmailList, SignupMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupModeArg {
    Restricted,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: sqlite://path (created if missing) or postgres://…
    /// (its value from the environment is never shown: it may hold a password).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://orgbase.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Database connections (PostgreSQL pool size; SQLite readers).
    #[arg(long, env = "ORGBASE_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// The read cache in front of the hot reads (ADR 0024): `on` (default) or `off`
    /// (every read goes to the database; for measuring what the cache buys).
    #[arg(long, env = "ORGBASE_READ_CACHE", default_value = "on", value_parser = ["on", "off"], global = true)]
    pub read_cache: String,

    /// The oldest a cached answer may be, in milliseconds: the bound for database writes
    /// nobody announces (PostgreSQL writes with triggers disabled, e.g. by
    /// `pg_restore --disable-triggers`); every other change reaches the cache within
    /// 100 ms (ADR 0024). Unset: 1000 on PostgreSQL, none on SQLite (whose watcher
    /// hears of every commit, from any process).
    #[arg(long, env = "ORGBASE_READ_CACHE_MAX_AGE_MS", global = true)]
    pub read_cache_max_age_ms: Option<u64>,

    /// Who may sign up by themselves: `restricted` (nobody, for now) or `open`.
    #[arg(
        long,
        env = "ORGBASE_SIGNUP_MODE",
        value_enum,
        default_value = "restricted",
        global = true
    )]
    pub signup_mode: SignupModeArg,

    /// Session lifetime in hours.
    #[arg(
        long,
        env = "ORGBASE_SESSION_TTL_HOURS",
        default_value_t = 336,
        global = true
    )]
    pub session_ttl_hours: i64,

    /// Argon2id memory cost in KiB (default: OWASP's 19 MiB).
    #[arg(long, env = "ORGBASE_ARGON2_MEMORY_KIB", default_value_t = 19 * 1024, global = true)]
    pub argon2_memory_kib: u32,

    /// Argon2id passes.
    #[arg(
        long,
        env = "ORGBASE_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// Password hashes computed at once (default: the number of CPUs).
    #[arg(long, env = "ORGBASE_MAX_CONCURRENT_HASHES", global = true)]
    pub max_concurrent_hashes: Option<usize>,

    /// First system admin, created at start if missing (with ORGBASE_ADMIN_PASSWORD).
    #[arg(long, env = "ORGBASE_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,

    #[arg(
        long,
        env = "ORGBASE_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Sign-up and login only for e-mails of these domains (comma-separated; subdomains match).
    #[arg(long, env = "ORGBASE_ACCESS_ALLOWED_DOMAINS", global = true)]
    pub access_allowed_domains: Option<String>,

    /// Refuse e-mails of these domains (ignored when an allow-list is set).
    #[arg(long, env = "ORGBASE_ACCESS_BLOCKED_DOMAINS", global = true)]
    pub access_blocked_domains: Option<String>,

    /// Refuse these e-mail addresses, whatever else applies.
    #[arg(long, env = "ORGBASE_ACCESS_BLOCKED_EMAILS", global = true)]
    pub access_blocked_emails: Option<String>,

    /// Only these e-mails may own (create) organizations; unset: everyone.
    #[arg(long, env = "ORGBASE_ACCESS_ALLOWED_OWNER_EMAILS", global = true)]
    pub access_allowed_owner_emails: Option<String>,

    /// Where people reach this server, for links in answers (invitations, set-password).
    #[arg(
        long,
        env = "ORGBASE_PUBLIC_URL",
        hide_env_values = true,
        global = true
    )]
    pub public_url: Option<String>,

    /// DNS servers that check domain claims' TXT records (`ip[:port]`, comma-separated).
    /// Unset: the system's resolvers.
    #[arg(long, env = "ORGBASE_DNS_SERVERS", global = true)]
    pub dns_servers: Option<String>,

    /// More public mail providers' domains (comma-separated), which no org may claim,
    /// beyond the built-in list (gmail.com, outlook.com, ...).
    #[arg(long, env = "ORGBASE_PUBLIC_EMAIL_DOMAINS", global = true)]
    pub public_email_domains: Option<String>,

    /// Organizations one user may own (the system org and deleted ones aside). Unset: any.
    #[arg(long, env = "ORGBASE_MAX_ORGS_PER_USER", global = true)]
    pub max_orgs_per_user: Option<u64>,

    /// Domain claims one organization may hold, pending or verified.
    #[arg(
        long,
        env = "ORGBASE_MAX_DOMAINS_PER_ORG",
        default_value_t = 20,
        global = true
    )]
    pub max_domains_per_org: usize,

    /// Reverse proxies whose X-Forwarded-For is believed (addresses or networks,
    /// comma-separated). Unset: the peer address is the client.
    #[arg(long, env = "ORGBASE_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,

    /// Key that encrypts secrets at rest: 64 hex characters or base64 of 32 bytes.
    #[arg(
        long,
        env = "ORGBASE_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<String>,

    /// Key file used when ORGBASE_MASTER_KEY is unset (created on first start).
    /// Default: beside the SQLite database (`orgbase.key`), or `./orgbase.key`.
    #[arg(long, env = "ORGBASE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<std::path::PathBuf>,

    /// Per-client and per-account limits on login, sign-up, signup keys and invitation
    /// accepts: `on` (default) or `off` (only for tests and benchmarks).
    #[arg(long, env = "ORGBASE_RATE_LIMITS", default_value = "on", global = true)]
    pub rate_limits: String,

    /// SMTP server for outgoing mail: smtp://host:port (plain; `?tls=required` for
    /// STARTTLS) or smtps://host:port (TLS), with user:password@ when it needs a login.
    /// Unset: mail stays in the outbox (`orgbase mail outbox`).
    #[arg(long, env = "ORGBASE_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// The From of outgoing mail, e.g. `Orgbase <orgbase@example.com>` (needed with
    /// ORGBASE_SMTP_URL).
    #[arg(long, env = "ORGBASE_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// Directory whose `<kind>/subject.txt`, `<kind>/body.txt` and `<kind>/body.html`
    /// replace the built-in mail templates (kinds: invitation, password_reset).
    #[arg(long, env = "ORGBASE_MAIL_TEMPLATES", global = true)]
    pub mail_templates: Option<std::path::PathBuf>,

    /// Seconds one SMTP exchange may take before it counts as failed.
    #[arg(
        long,
        env = "ORGBASE_SMTP_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub smtp_timeout_secs: u64,

    /// Seconds before the first retry of a mail that was not delivered (doubles after
    /// each failure, up to an hour).
    #[arg(
        long,
        env = "ORGBASE_MAIL_RETRY_SECS",
        default_value_t = 30,
        global = true
    )]
    pub mail_retry_secs: i64,

    /// How often the mail worker looks for due mail, in milliseconds.
    #[arg(
        long,
        env = "ORGBASE_MAIL_POLL_MS",
        default_value_t = 5000,
        hide = true,
        global = true
    )]
    pub mail_poll_ms: u64,

    /// How often `serve` purges organizations deleted longer ago than the restore
    /// window, in seconds (0: never; `orgbase org purge` does it by hand).
    #[arg(
        long,
        env = "ORGBASE_PURGE_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub purge_interval_secs: u64,
    /// Seconds a request's head may take to arrive: from the connection's opening for
    /// the first request, from its first byte for later ones on a kept-alive connection.
    #[arg(
        long,
        env = "ORGBASE_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_read_timeout_secs: u64,

    /// Seconds a request may take, from its head to its answer (body upload included);
    /// then the answer is 503 `request_timeout`. 0 disables.
    #[arg(
        long,
        env = "ORGBASE_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Seconds a kept-alive connection may wait for its next request before it is closed.
    #[arg(
        long,
        env = "ORGBASE_IDLE_TIMEOUT_SECS",
        default_value_t = 60,
        global = true
    )]
    pub idle_timeout_secs: u64,

    /// Connections open at once; further ones wait to be accepted.
    #[arg(
        long,
        env = "ORGBASE_MAX_CONNECTIONS",
        default_value_t = 1024,
        global = true
    )]
    pub max_connections: usize,

    #[command(flatten)]
    pub system: SystemVars,

    /// Log filter, e.g. `info` or `orgbase=debug,warn`.
    #[arg(long, env = "ORGBASE_LOG", default_value = "info", global = true)]
    pub log: String,

    #[arg(
        long,
        env = "ORGBASE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

/// The system organization's settings (SPEC §4), synced on every start.
#[derive(Debug, Clone, Default, Args)]
pub struct SystemVars {
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true, global = true)]
    pub openai_api_key: Option<String>,
    #[arg(long, env = "OPENAI_BASE_URL", hide_env_values = true, global = true)]
    pub openai_base_url: Option<String>,
    #[arg(long, env = "OPENAI_MODELS", global = true)]
    pub openai_models: Option<String>,
    #[arg(long, env = "OPENAI_MODEL", global = true)]
    pub openai_model: Option<String>,
    #[arg(long, env = "OLLAMA_BASE_URL", hide_env_values = true, global = true)]
    pub ollama_base_url: Option<String>,
    #[arg(long, env = "OLLAMA_MODEL", global = true)]
    pub ollama_model: Option<String>,
    #[arg(long, env = "ORGBASE_DEFAULT_FRAMEWORK", global = true)]
    pub default_framework: Option<String>,
    #[arg(long, env = "ORGBASE_DEFAULT_LANGUAGE_MODEL", global = true)]
    pub default_language_model: Option<String>,
}

impl SystemVars {
    pub fn to_env(&self) -> orgbase_service::SystemEnv {
        orgbase_service::SystemEnv {
            openai_api_key: self.openai_api_key.clone(),
            openai_base_url: self.openai_base_url.clone(),
            openai_models: self.openai_models.clone(),
            openai_model: self.openai_model.clone(),
            ollama_base_url: self.ollama_base_url.clone(),
            ollama_model: self.ollama_model.clone(),
            default_framework: self.default_framework.clone(),
            default_language_model: self.default_language_model.clone(),
        }
    }
}

impl Settings {
    /// Defaults, as if no flag and no variable were given.
    pub fn defaults() -> Self {
        Self {
            database_url: "sqlite://orgbase.db".into(),
            db_max_connections: None,
            read_cache: "on".into(),
            read_cache_max_age_ms: None,
            signup_mode: SignupModeArg::Restricted,
            session_ttl_hours: 336,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_concurrent_hashes: None,
            admin_email: None,
            admin_password: None,
            access_allowed_domains: None,
            access_blocked_domains: None,
            access_blocked_emails: None,
            access_allowed_owner_emails: None,
            public_url: None,
            dns_servers: None,
            public_email_domains: None,
            max_domains_per_org: 20,
            max_orgs_per_user: None,
            trusted_proxies: None,
            master_key: None,
            master_key_file: None,
            rate_limits: "on".into(),
            smtp_url: None,
            mail_from: None,
            mail_templates: None,
            smtp_timeout_secs: 30,
            mail_retry_secs: 30,
            mail_poll_ms: 5000,
            purge_interval_secs: 3600,
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_connections: 1024,
            system: SystemVars::default(),
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }

    pub fn service_config(&self) -> Config {
        let csv = |v: &Option<String>| v.clone().unwrap_or_default();
        let policy = AccessPolicy {
            mode: match self.signup_mode {
                SignupModeArg::Open => SignupMode::Open,
                SignupModeArg::Restricted => SignupMode::Restricted,
            },
            allowed_domains: DomainList::parse(&csv(&self.access_allowed_domains)),
            blocked_domains: DomainList::parse(&csv(&self.access_blocked_domains)),
            blocked_emails: EmailList::parse(&csv(&self.access_blocked_emails)),
            allowed_owner_emails: self
                .access_allowed_owner_emails
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(EmailList::parse),
        };
        let defaults = Config::default();
        Config {
            policy,
            session_ttl_secs: self.session_ttl_hours.max(1) * 3600,
            public_url: self
                .public_url
                .clone()
                .map_or(defaults.public_url.clone(), |u| {
                    u.trim_end_matches('/').to_string()
                }),
            public_email_domains: DomainList::parse(&csv(&self.public_email_domains)),
            max_domains_per_org: self.max_domains_per_org,
            max_orgs_per_user: self.max_orgs_per_user,
            ..defaults
        }
    }

    /// How the outbox is worked. A claimed mail's lease outlasts one SMTP exchange.
    pub fn mail_settings(&self) -> orgbase_service::MailSettings {
        let timeout = i64::try_from(self.smtp_timeout_secs.max(1)).unwrap_or(3600);
        orgbase_service::MailSettings {
            retry_base_secs: self.mail_retry_secs.max(1),
            lease_secs: timeout.saturating_mul(2).saturating_add(10),
            poll_ms: self.mail_poll_ms.max(10),
            ..Default::default()
        }
    }

    pub fn rate_limits(&self) -> anyhow::Result<RateLimits> {
        match self.rate_limits.trim() {
            "on" | "" => Ok(RateLimits::default()),
            "off" => Ok(RateLimits::disabled()),
            other => anyhow::bail!("ORGBASE_RATE_LIMITS must be on or off, not {other:?}"),
        }
    }

    /// The connection limits (`serve`).
    pub fn conn_limits(&self) -> crate::conn::ConnLimits {
        crate::conn::ConnLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }

    /// The request timeout of the HTTP layer; `None` when disabled (0).
    pub fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_secs > 0).then(|| Duration::from_secs(self.request_timeout_secs))
    }

    /// Where the master key file lives when ORGBASE_MASTER_KEY is unset.
    pub fn key_file(&self) -> std::path::PathBuf {
        if let Some(p) = &self.master_key_file {
            return p.clone();
        }
        let path = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"));
        match path.map(|p| p.split('?').next().unwrap_or(p)) {
            Some(p) if !p.is_empty() && !p.contains(":memory:") => {
                std::path::Path::new(p).with_extension("key")
            }
            _ => std::path::PathBuf::from("orgbase.key"),
        }
    }

    pub fn hash_cost(&self) -> HashCost {
        HashCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: 1,
        }
    }

    pub fn hash_permits(&self) -> usize {
        self.max_concurrent_hashes.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        })
    }
}
