//! Orgbase persistence: the storage traits (one read and one write trait per aggregate,
//! gathered in [`Store`] and [`Tx`]), one implementation per backend, chosen once at
//! start from the URL scheme (`sqlite://` or `postgres://`).
//!
//! The store keeps no business rules: it maps the domain's entities
//! (`orgbase_domain::entities`) to rows and back, and reports constraint violations as
//! typed conflicts. Writes go through a [`Tx`]; dropping a `Tx` without `commit` rolls
//! it back, so a failed use case leaves nothing half-written.
//!
//! Layout: `traits/` (the traits, by aggregate), `sql/` (their SQL, by aggregate,
//! written once and compiled for each backend), `sqlite/` and `postgres/` (connecting,
//! migrating, locking, schema dumps, hearing of other writers), `migrations/` (per
//! backend), `cache.rs` (the read cache in front of the hot reads, ADR 0024).

pub mod cache;
pub mod dump;
mod migrations;
mod postgres;
mod sqlite;
pub mod traits;

use std::sync::Arc;

pub use traits::{
    AccessReads, AccessWrites, AssistantFilter, AssistantReads, AssistantWrites, AuditFilter,
    AuditReads, AuditWrites, Commit, Database, HierarchyReads, HierarchyWrites, MailReads,
    MailWrites, OidcReads, OidcWrites, OrgAccessRow, OrgFilter, OrgKey, OrgReads, OrgWrites, Store,
    Tx, UserFilter, UserReads, UserWrites,
};

/// Every storage trait, for code that calls store methods on a generic or concrete
/// store rather than through `dyn Store` / `dyn Tx`.
pub mod prelude {
    pub use crate::traits::{
        AccessReads, AccessWrites, AssistantReads, AssistantWrites, AuditReads, AuditWrites,
        Commit, Database, HierarchyReads, HierarchyWrites, MailReads, MailWrites, OidcReads,
        OidcWrites, OrgReads, OrgWrites, Store, Tx, UserReads, UserWrites,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or foreign-key constraint refused the write. The string names the
    /// constraint as well as the backend can tell; it is for logs, not for clients.
    #[error("constraint violated: {0}")]
    Conflict(String),
    /// A stored value did not parse back into its domain type.
    /// The database gave up on the transaction because of concurrent ones (a PostgreSQL
    /// deadlock or serialization failure, SQLite busy): nothing was written, and the
    /// same request may succeed when sent again.
    #[error("transaction contended: {0}")]
    Contended(String),
    /// The database cannot be reached or is shutting down or restarting (connection
    /// refused or lost, pool timeout, PostgreSQL class 08 and 57P0x): nothing was
    /// written by this request, and the same request may succeed once it is back.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
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
            // 40P01 deadlock_detected, 40001 serialization_failure (PostgreSQL);
            // 5 SQLITE_BUSY, 6 SQLITE_LOCKED.
            if let Some(code) = db.code()
                && matches!(code.as_ref(), "40P01" | "40001" | "5" | "6")
            {
                return StoreError::Contended(db.message().to_string());
            }
            // 08xxx connection exceptions; 57P01-57P03: the server is shutting down,
            // crashed or is starting (a restart under load).
            if let Some(code) = db.code()
                && (code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
            {
                return StoreError::Unavailable(db.message().to_string());
            }
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            e => StoreError::Db(e),
        }
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
    /// Every read goes to the database (ORGBASE_READ_CACHE=off).
    pub no_read_cache: bool,
    /// The oldest a cached answer may be (default: `cache::MAX_AGE` on PostgreSQL,
    /// none on SQLite, whose watcher hears of every write).
    pub read_cache_max_age: Option<std::time::Duration>,
}

impl ConnectOptions {
    /// The cache's freshness with these options' maximum age.
    pub(crate) fn freshness(&self, f: cache::Freshness) -> cache::Freshness {
        match self.read_cache_max_age {
            Some(age) => f.with_max_age(age),
            None => f,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn a_lost_database_is_unavailable_not_internal() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            assert!(matches!(StoreError::from(e), StoreError::Unavailable(_)));
        }
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::Db(_)
        ));
    }
}
