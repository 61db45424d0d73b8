//! Server settings: flags, else environment variables, else defaults. Built once in
//! `main` (or by a test) and passed down; nothing reads the environment later.

use clap::{Args, ValueEnum};
use orgbase_service::crypto::HashCost;
use orgbase_service::{Config, SignupMode};

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
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://orgbase.db",
        global = true
    )]
    pub database_url: String,

    /// Database connections (PostgreSQL pool size; SQLite readers).
    #[arg(long, env = "ORGBASE_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

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

impl Settings {
    /// Defaults, as if no flag and no variable were given.
    pub fn defaults() -> Self {
        Self {
            database_url: "sqlite://orgbase.db".into(),
            db_max_connections: None,
            signup_mode: SignupModeArg::Restricted,
            session_ttl_hours: 336,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_concurrent_hashes: None,
            admin_email: None,
            admin_password: None,
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }

    pub fn service_config(&self) -> Config {
        Config {
            signup_mode: match self.signup_mode {
                SignupModeArg::Open => SignupMode::Open,
                SignupModeArg::Restricted => SignupMode::Restricted,
            },
            session_ttl_secs: self.session_ttl_hours.max(1) * 3600,
            ..Config::default()
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
