//! The SQL both backends share, written once, one module per aggregate.
//!
//! This directory is compiled twice, as `sqlite::sql` and `postgres::sql` (see the
//! `#[path]` in each backend's `mod.rs`), each time with that backend's `Db`, so every
//! query is checked against both drivers' types without generic trait bounds. Only
//! what truly differs (connecting, migrating, locking, schema dumps, how a page of
//! members is fetched) lives in the backend modules. Placeholders are `$N`, which both
//! drivers accept.
//!
//! Each aggregate module holds its queries as functions of a connection, one `reads!`
//! line per read (implementing the read trait for the store, on a reader connection,
//! and for a transaction, on its own) and the write trait for the transaction.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use async_trait::async_trait;
use orgbase_domain::{ApiKeyId, Timestamp};
use tokio::sync::{Mutex, MutexGuard};

use super::{BackendStore, Db, LOCK_SUFFIX, ReadGuard};
use crate::Result;
use crate::cache::Freshness;

/// Implements a read trait twice: for the store (on a reader connection) and for a
/// transaction (on the transaction's connection). Each method runs the query function
/// of the same name in the invoking module.
///
/// A method of the store may be answered from the read cache (`crate::cache`) by
/// naming its memo and key: `=> memo(key)`, or `=> memo(key) at now` for a read whose
/// answer depends on the time. Reads inside a transaction never are: they must see the
/// transaction's own writes and locks.
macro_rules! reads {
    ($trait:ident { $(fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty $(=> $memo:ident($key:expr) $(at $now:ident)?)?;)* }) => {
        #[async_trait::async_trait]
        impl crate::$trait for super::BackendStore {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> crate::Result<$ret> {
                    let load = async { $name(&mut *self.conn().await?, $($arg),*).await };
                    reads!(@via self, load $(, $memo, $key $(, $now)?)?)
                }
            )*
        }
        reads!(@impl $trait for super::SqlTx { $(fn $name($($arg: $ty),*) -> $ret;)* });
    };
    (@via $s:ident, $load:ident) => { $load.await };
    (@via $s:ident, $load:ident, $memo:ident, $key:expr) => {
        $s.cache.$memo.get_or(&$s.cache.fresh, $key, $load).await
    };
    (@via $s:ident, $load:ident, $memo:ident, $key:expr, $now:ident) => {
        $s.cache.$memo.get_or_at(&$s.cache.fresh, $key, $now, $load).await
    };
    (@impl $trait:ident for $t:ty { $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait::async_trait]
        impl crate::$trait for $t {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> crate::Result<$ret> {
                    $name(&mut *self.conn().await?, $($arg),*).await
                }
            )*
        }
    };
}

pub(crate) mod access;
pub(crate) mod assistants;
pub(crate) mod audit;
pub(crate) mod hierarchy;
pub(crate) mod mail;
pub(crate) mod oidc;
pub(crate) mod orgs;
pub(crate) mod rows;
pub(crate) mod users;

/// A connection of this backend.
/// A `LIKE` pattern (with `ESCAPE '\'`) for "contains `text`", lower-cased to match
/// `LOWER(column)`: the text's own `%`, `_` and `\` match only themselves.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

pub(crate) type DbConn = <Db as sqlx::Database>::Connection;
type DbTx = sqlx::Transaction<'static, Db>;

/// Where a read runs: a reader connection of the store, or the open transaction.
pub(crate) enum Conn<'a> {
    Reader(ReadGuard<'a>),
    Tx(MutexGuard<'a, DbTx>),
}

impl Deref for Conn<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        match self {
            Conn::Reader(r) => r,
            Conn::Tx(t) => t,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        match self {
            Conn::Reader(r) => r,
            Conn::Tx(t) => t,
        }
    }
}

impl BackendStore {
    /// Reads outside a transaction go to a reader connection.
    pub(crate) async fn conn(&self) -> Result<Conn<'_>> {
        Ok(Conn::Reader(self.reader().await?))
    }

    /// After a write outside a transaction: cached answers (the keys' last use) are
    /// void here.
    async fn touched(&self) -> Result<()> {
        self.cache.fresh.changed();
        Ok(())
    }
}

/// A transaction. Reads (`&self`) take its connection through a lock that is never
/// contended (one use case drives one transaction); writes (`&mut self`) need none.
/// Dropping it without committing rolls it back (sqlx's `Transaction` does so).
pub struct SqlTx {
    tx: Mutex<DbTx>,
    /// The store's read cache's freshness: a commit that wrote voids the cache.
    fresh: Arc<Freshness>,
    wrote: bool,
}

impl SqlTx {
    async fn conn(&self) -> Result<Conn<'_>> {
        Ok(Conn::Tx(self.tx.lock().await))
    }

    /// The transaction's connection, for writes.
    fn c(&mut self) -> &mut DbConn {
        self.wrote = true;
        self.tx.get_mut()
    }
}

#[async_trait]
impl crate::Commit for SqlTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        let SqlTx { tx, fresh, wrote } = *self;
        let tx = tx.into_inner();
        if !wrote {
            return Ok(tx.commit().await?);
        }
        // This node's cache is void right after the commit: the next request here sees
        // the change (other nodes hear of it from the database: ADR 0024). Also when
        // the commit fails, as its outcome may be unknown.
        let done = tx.commit().await;
        fresh.changed();
        Ok(done?)
    }
}

#[async_trait]
impl crate::Database for BackendStore {
    fn backend(&self) -> &'static str {
        super::NAME
    }

    async fn migrate(&self) -> Result<usize> {
        super::migrate(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn schema(&self) -> Result<crate::dump::Schema> {
        super::schema(self).await
    }

    async fn begin(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(SqlTx {
            tx: Mutex::new(self.write.begin().await?),
            fresh: self.cache.fresh.clone(),
            wrote: false,
        }))
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(id.0)
            .execute(&self.write)
            .await?;
        self.touched().await
    }

    async fn touch_org_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE org_api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(id.0)
            .execute(&self.write)
            .await?;
        self.touched().await
    }
}
