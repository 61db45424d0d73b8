//! The embedded default: one SQLite file in WAL mode, foreign keys on.
//!
//! SQLite allows one writer at a time, so writes go through a pool of exactly one
//! connection (no SQLITE_BUSY between our own writers) and reads through a pool of
//! several, which WAL lets run beside the writer.

use std::str::FromStr;
use std::time::Duration;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::dump::{Column, ForeignKey, Index, Schema, Table};
use orgbase_domain::{Email, OrgId, Timestamp, UserId};
use uuid::Uuid;

use orgbase_domain::{Member, Membership, Page, PageRequest, Scope};

use crate::cache::{CONFIRM_EVERY, Freshness, ReadCache};
use crate::{ConnectOptions, Result, StoreError, migrations};

/// Creates the database file, empty and readable by its owner only (0600 on unix), when
/// it does not exist yet. It holds e-mails, password hashes and signup keys; SQLite
/// gives its `-wal` and `-shm` files the database file's permissions.
fn create_owner_only(path: &std::path::Path) -> Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Db(sqlx::Error::Io(e))),
    }
}

pub type Db = sqlx::Sqlite;
pub const NAME: &str = "sqlite";
/// SQLite has no row locks; the single writer connection already serializes writers.
pub const LOCK_SUFFIX: &str = "";

// The same SQL, compiled for this backend (see sql/mod.rs).
#[allow(clippy::duplicate_mod)]
#[path = "../sql/mod.rs"]
pub mod sql;

pub struct BackendStore {
    pub read: ReadPool,
    pub write: SqlitePool,
    pub cache: ReadCache,
}

/// Reader connections, handed out without sqlx's pool: its on-release ping costs a
/// round trip to the connection's thread after every query, which on the read path is
/// a third of the work. Reads leave no state behind, so there is nothing to check.
pub enum ReadPool {
    Own {
        conns: Mutex<Vec<SqliteConnection>>,
        permits: Semaphore,
    },
    /// In-memory databases live in one connection: reads share the writer's.
    Shared(SqlitePool),
}

pub enum ReadGuard<'a> {
    Own {
        pool: &'a Mutex<Vec<SqliteConnection>>,
        conn: Option<SqliteConnection>,
        _permit: SemaphorePermit<'a>,
    },
    Shared(PoolConnection<Sqlite>),
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            ReadGuard::Own { conn: Some(c), .. } => c,
            ReadGuard::Own { conn: None, .. } => {
                unreachable!("the connection is taken only on drop")
            }
            ReadGuard::Shared(c) => c,
        }
    }
}

impl std::ops::DerefMut for ReadGuard<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            ReadGuard::Own { conn: Some(c), .. } => c,
            ReadGuard::Own { conn: None, .. } => {
                unreachable!("the connection is taken only on drop")
            }
            ReadGuard::Shared(c) => c,
        }
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        if let ReadGuard::Own { pool, conn, .. } = self
            && let Some(c) = conn.take()
        {
            pool.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(c);
        }
    }
}

impl BackendStore {
    pub async fn reader(&self) -> Result<ReadGuard<'_>> {
        match &self.read {
            ReadPool::Shared(p) => Ok(ReadGuard::Shared(p.acquire().await?)),
            ReadPool::Own { conns, permits } => {
                let permit = permits
                    .acquire()
                    .await
                    .map_err(|_| StoreError::from(sqlx::Error::PoolClosed))?;
                let conn = conns
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop();
                match conn {
                    Some(c) => Ok(ReadGuard::Own {
                        pool: conns,
                        conn: Some(c),
                        _permit: permit,
                    }),
                    None => Err(StoreError::from(sqlx::Error::PoolTimedOut)),
                }
            }
        }
    }
}

pub type SqliteStore = BackendStore;

impl BackendStore {
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let parsed = SqliteConnectOptions::from_str(url)?;
        if !memory {
            create_owner_only(parsed.get_filename())?;
        }
        let options = parsed
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            // No ping before each use: it costs a round trip per query; a broken
            // connection fails its query and is replaced.
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().pragma("cache_size", "-16384"))
            .await?;
        let cache_on = !opts.no_read_cache;
        // An in-memory database exists per connection: share the writer. Nobody else
        // can write it, so the cache needs no watcher.
        if memory {
            return Ok(Self {
                read: ReadPool::Shared(write.clone()),
                write,
                cache: ReadCache::new(opts.freshness(Freshness::sole_writer(cache_on))),
            });
        }
        // A larger page cache than SQLite's 2 MB default keeps the hot index pages of a
        // big database in the reader instead of re-reading them from the OS.
        let readers = options.read_only(true).pragma("cache_size", "-8192");
        let n = opts.max_connections.unwrap_or(4).max(1) as usize;
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(sqlx::ConnectOptions::connect(&readers).await?);
        }
        let read = ReadPool::Own {
            conns: Mutex::new(conns),
            permits: Semaphore::new(n),
        };
        let cache = ReadCache::new(opts.freshness(Freshness::new(cache_on)));
        if cache_on {
            watch(&cache.fresh, readers);
        }
        Ok(Self { read, write, cache })
    }
}

/// Hears of changes other processes (the CLI, a second server on the same file) commit:
/// `PRAGMA data_version` changes when another connection has committed. Polled on a
/// connection of its own; stops when the store is dropped.
fn watch(fresh: &Arc<Freshness>, options: SqliteConnectOptions) {
    let weak = Arc::downgrade(fresh);
    tokio::spawn(async move {
        let mut conn: Option<SqliteConnection> = None;
        let mut seen: Option<i64> = None;
        while let Some(fresh) = weak.upgrade() {
            let started = Instant::now();
            if conn.is_none() {
                conn = sqlx::ConnectOptions::connect(&options).await.ok();
                seen = None;
            }
            if let Some(c) = conn.as_mut() {
                match sqlx::query_scalar::<_, i64>("PRAGMA data_version")
                    .fetch_one(&mut *c)
                    .await
                {
                    Ok(v) => {
                        if seen != Some(v) {
                            fresh.changed();
                            seen = Some(v);
                        }
                        fresh.confirm(started);
                    }
                    Err(_) => {
                        fresh.changed();
                        conn = None;
                    }
                }
            }
            drop(fresh);
            tokio::time::sleep(CONFIRM_EVERY).await;
        }
    });
}

pub async fn migrate(s: &BackendStore) -> Result<usize> {
    let mut conn = s.write.acquire().await?;
    sqlx::query(migrations::CREATE_TABLE)
        .execute(&mut *conn)
        .await?;
    let mut ran = 0;
    for m in migrations::SQLITE {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let done = sqlx::query("SELECT 1 FROM orgbase_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        for stmt in migrations::statements(m.sql) {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO orgbase_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        ran += 1;
    }
    Ok(ran)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub async fn schema(s: &BackendStore) -> Result<Schema> {
    let mut guard = s.reader().await?;
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *guard)
    .await?
    .iter()
    .map(|r| r.try_get("name"))
    .collect::<Result<_, _>>()?;
    let mut tables = Vec::new();
    for name in names {
        let mut t = Table {
            name: name.clone(),
            ..Default::default()
        };
        let cols = sqlx::query(
            "SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *guard)
        .await?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let cname: String = c.try_get("name")?;
            let pkpos: i64 = c.try_get("pk")?;
            if pkpos > 0 {
                pk.push((pkpos, cname.clone()));
            }
            t.columns.push(Column {
                name: cname,
                ty: c.try_get("type")?,
                nullable: c.try_get::<i64, _>("nn")? == 0,
            });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();

        let fks = sqlx::query(
            "SELECT id, seq, \"table\" AS ref_table, \"from\" AS col, \"to\" AS ref_col, on_delete \
             FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *guard)
        .await?;
        let mut current: Option<(i64, ForeignKey)> = None;
        for f in &fks {
            let id: i64 = f.try_get("id")?;
            if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
                if let Some((_, fk)) = current.take() {
                    t.foreign_keys.push(fk);
                }
                current = Some((
                    id,
                    ForeignKey {
                        columns: vec![],
                        ref_table: f.try_get("ref_table")?,
                        ref_columns: vec![],
                        on_delete: f.try_get("on_delete")?,
                    },
                ));
            }
            if let Some((_, fk)) = current.as_mut() {
                fk.columns.push(f.try_get("col")?);
                fk.ref_columns.push(f.try_get("ref_col")?);
            }
        }
        if let Some((_, fk)) = current {
            t.foreign_keys.push(fk);
        }

        let idx = sqlx::query("SELECT name, \"unique\" AS uq, origin FROM pragma_index_list($1)")
            .bind(&name)
            .fetch_all(&mut *guard)
            .await?;
        for i in &idx {
            let origin: String = i.try_get("origin")?;
            if origin == "pk" {
                continue;
            }
            let iname: String = i.try_get("name")?;
            let cols: Vec<String> =
                sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&iname)
                    .fetch_all(&mut *guard)
                    .await?
                    .iter()
                    .map(|r| r.try_get("name"))
                    .collect::<Result<_, _>>()?;
            t.indexes.push(Index {
                name: iname,
                columns: cols,
                unique: i.try_get::<i64, _>("uq")? == 1,
            });
        }
        tables.push(t);
    }
    Ok(Schema { tables })
}

/// Serializes creating signing keys, across processes too (the CLI beside a server):
/// a write statement, even one that changes nothing, takes the database's write lock
/// for the rest of the transaction; called first, before the transaction reads.
pub async fn lock_signing_keys(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query("UPDATE oidc_keys SET created_at = created_at WHERE 1 = 0")
        .execute(c)
        .await?;
    Ok(())
}

/// A page of members as one row: SQLite builds the page as a JSON array.
///
/// sqlx hands every result row from the connection's thread to the async task on its
/// own, waking the task each time; for a 30-row page those hand-offs cost more than the
/// query. One row per page pays one.
pub async fn members_page(
    c: &mut SqliteConnection,
    scope: Scope,
    page: PageRequest,
) -> Result<Page<Member>> {
    let (table, key) = sql::rows::scope_table(scope);
    let sql = format!(
        "SELECT json_group_array(json_array(hex(user_id), hex(org_id), role, status, hex(invited_by), \
         joined_at, updated_at, email, name)) AS page FROM (\
         SELECT m.user_id, m.org_id, m.role, m.status, m.invited_by, m.joined_at, m.updated_at, \
         u.email, u.name FROM {table} m JOIN users u ON u.id = m.user_id \
         WHERE m.{key} = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3)"
    );
    let row = sqlx::query(&sql)
        .bind(scope.uuid())
        .bind(sql::rows::after(page))
        .bind(sql::rows::overfetch(page))
        .fetch_one(c)
        .await?;
    let json: String = row.try_get("page")?;
    type Cols = (
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        String,
        String,
    );
    let raw: Vec<Cols> =
        serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("members page"))?;
    let id = |hex: &str| Uuid::parse_str(hex).map_err(|_| StoreError::Corrupt("members page"));
    let mut items = raw
        .into_iter()
        .map(
            |(user, org, role, status, invited_by, joined, updated, email, name)| {
                Ok(Member {
                    membership: Membership {
                        scope,
                        org_id: OrgId(id(&org)?),
                        user_id: UserId(id(&user)?),
                        role: role.parse().map_err(|_| StoreError::Corrupt("role"))?,
                        status: status.parse().map_err(|_| StoreError::Corrupt("status"))?,
                        invited_by: if invited_by.is_empty() {
                            None
                        } else {
                            Some(UserId(id(&invited_by)?))
                        },
                        joined_at: Timestamp::from_millis(joined),
                        updated_at: Timestamp::from_millis(updated),
                    },
                    email: Email::from_trusted(email),
                    name,
                })
            },
        )
        .collect::<Result<Vec<_>>>()?;
    // The aggregate keeps the subquery's order on SQLite; sorting makes it a rule.
    items.sort_by_key(|m| m.membership.user_id);
    Ok(Page::from_overfetch(items, page.limit, |m| {
        m.membership.user_id.0
    }))
}
