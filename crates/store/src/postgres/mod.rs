//! PostgreSQL: for several stateless Orgbase nodes sharing one database.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use crate::cache::{CONFIRM_EVERY, Freshness, MAX_AGE, ReadCache};
use crate::dump::{Column, ForeignKey, Index, Schema, Table};
use crate::{ConnectOptions, Result, migrations};
use orgbase_domain::{Member, Page, PageRequest, Scope};

pub type Db = sqlx::Postgres;
pub const NAME: &str = "postgres";
/// Row lock, so concurrent nodes serialize read-modify-write of one org.
pub const LOCK_SUFFIX: &str = " FOR UPDATE";

// The same SQL, compiled for this backend (see sql/mod.rs).
#[allow(clippy::duplicate_mod)]
#[path = "../sql/mod.rs"]
pub mod sql;

pub struct BackendStore {
    pub read: PgPool,
    pub write: PgPool,
    pub cache: ReadCache,
}

pub type PgStore = BackendStore;

/// A reader connection: from the pool (PostgreSQL needs no separate readers).
pub type ReadGuard<'a> = sqlx::pool::PoolConnection<sqlx::Postgres>;

impl BackendStore {
    pub async fn reader(&self) -> Result<ReadGuard<'_>> {
        Ok(self.read.acquire().await?)
    }
}

/// Serializes creating signing keys across nodes: a transaction-scoped advisory lock
/// (released at commit or rollback), so two nodes starting together make one set.
pub async fn lock_signing_keys(c: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('orgbase.oidc_keys'))")
        .execute(c)
        .await?;
    Ok(())
}

/// Member pages: rows stream from the socket, so plain rows are cheap here.
pub async fn members_page(
    c: &mut sqlx::PgConnection,
    scope: Scope,
    page: PageRequest,
) -> Result<Page<Member>> {
    sql::hierarchy::member_rows(c, scope, page).await
}

/// Arbitrary constant naming Orgbase's migration lock among advisory locks.
const MIGRATION_LOCK: i64 = 0x006f_7267_6261_7365;

impl BackendStore {
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = &opts.pg_schema {
            options = options.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            // No ping before each use: it costs a round trip per query; a broken
            // connection fails its query and is replaced.
            .test_before_acquire(false)
            .max_connections(opts.max_connections.unwrap_or(16).max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let cache_on = !opts.no_read_cache;
        let cache = ReadCache::new(opts.freshness(Freshness::new(cache_on).with_max_age(MAX_AGE)));
        if cache_on {
            // Two connections of its own (the listener and the heartbeat), so the
            // watcher never waits for, or holds, one the requests need.
            let own = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(5))
                .connect_lazy_with(options);
            watch(&cache.fresh, own);
        }
        Ok(Self {
            read: pool.clone(),
            write: pool,
            cache,
        })
    }
}

/// Hears of changes committed by anyone (the change-notice triggers of migration 0010
/// notify `orgbase_<schema>`), and confirms that it has heard of all of them: a
/// heartbeat sent through the same channel comes back behind every notification
/// committed before it, so receiving the beat sent at `t` means every change committed
/// before `t` has been heard of. Stops when the store is dropped.
fn watch(fresh: &Arc<Freshness>, pool: PgPool) {
    let me = format!("beat:{}:", uuid::Uuid::now_v7().simple());
    let weak = Arc::downgrade(fresh);
    tokio::spawn(async move {
        let mut listener: Option<(PgListener, String)> = None;
        let mut beating: Option<tokio::task::JoinHandle<()>> = None;
        loop {
            if weak.strong_count() == 0 {
                break;
            }
            let (l, _) = match listener.as_mut() {
                Some(l) => l,
                None => match listen(&pool).await {
                    Ok((l, channel)) => {
                        // Whatever was said while nobody listened is unknown.
                        if let Some(f) = weak.upgrade() {
                            f.changed();
                        }
                        if let Some(b) = beating.take() {
                            b.abort();
                        }
                        beating = Some(tokio::spawn(beat(
                            weak.clone(),
                            pool.clone(),
                            channel.clone(),
                            me.clone(),
                        )));
                        listener.insert((l, channel))
                    }
                    Err(_) => {
                        tokio::time::sleep(CONFIRM_EVERY).await;
                        continue;
                    }
                },
            };
            // Our own heartbeat arrives every CONFIRM_EVERY: a second of silence means
            // the connection is gone without saying so (a half-open socket); start
            // over rather than wait on it forever with the cache off.
            let heard = tokio::time::timeout(SILENCE, l.try_recv())
                .await
                .unwrap_or(Ok(None));
            let Some(fresh) = weak.upgrade() else { break };
            match heard {
                Ok(Some(n)) => match n.payload().strip_prefix(&me) {
                    Some(sent) => {
                        if let Ok(at) = sent.parse::<u64>() {
                            fresh.confirm_micros(at);
                        }
                    }
                    // Another node's heartbeat says nothing changed.
                    None if n.payload().starts_with("beat:") => {}
                    None => fresh.changed(),
                },
                // The connection was lost: notices may be missed until a new listener
                // is in place, so the cache is voided again once it is (above).
                Ok(None) | Err(_) => {
                    fresh.changed();
                    listener = None;
                }
            }
        }
        if let Some(b) = beating {
            b.abort();
        }
    });
}

/// How long the listener waits for any notice before it reconnects.
const SILENCE: Duration = Duration::from_secs(1);

/// A listener on this schema's channel, and the channel's name.
async fn listen(pool: &PgPool) -> std::result::Result<(PgListener, String), sqlx::Error> {
    let channel: String = sqlx::query_scalar("SELECT 'orgbase_' || left(current_schema(), 48)")
        .fetch_one(pool)
        .await?;
    let mut l = PgListener::connect_with(pool).await?;
    l.listen(&channel).await?;
    Ok((l, channel))
}

/// The heartbeat: `beat:<this store>:<microseconds after its epoch>`, every
/// `CONFIRM_EVERY`, until the store is dropped.
async fn beat(fresh: std::sync::Weak<Freshness>, pool: PgPool, channel: String, me: String) {
    while let Some(f) = fresh.upgrade() {
        let payload = format!("{me}{}", f.micros_now());
        drop(f);
        let _ = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&channel)
            .bind(payload)
            .execute(&pool)
            .await;
        tokio::time::sleep(CONFIRM_EVERY).await;
    }
}

pub async fn migrate(s: &BackendStore) -> Result<usize> {
    let mut ran = 0;
    for m in migrations::POSTGRES {
        let mut tx = s.write.begin().await?;
        // Nodes starting together take turns; the loser sees the version already applied.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(migrations::CREATE_TABLE)
            .execute(&mut *tx)
            .await?;
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
            "INSERT INTO orgbase_migrations (version, name, applied_at) \
             VALUES ($1, $2, (extract(epoch from now()) * 1000)::bigint)",
        )
        .bind(m.version)
        .bind(m.name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        ran += 1;
    }
    Ok(ran)
}

pub async fn schema(s: &BackendStore) -> Result<Schema> {
    let pool = &s.read;
    let names: Vec<String> = sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
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
            "SELECT column_name::text AS name, data_type::text AS ty, is_nullable::text AS nullable \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        for c in &cols {
            t.columns.push(Column {
                name: c.try_get("name")?,
                ty: c.try_get("ty")?,
                nullable: c.try_get::<String, _>("nullable")? == "YES",
            });
        }
        let idx = sqlx::query(
            "SELECT ic.relname::text AS index_name, i.indisunique AS uq, i.indisprimary AS pk, \
                    a.attname::text AS col \
             FROM pg_index i \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) \
             WHERE n.nspname = current_schema() AND t.relname = $1 \
             ORDER BY ic.relname, array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        for r in &idx {
            let iname: String = r.try_get("index_name")?;
            let col: String = r.try_get("col")?;
            if r.try_get::<bool, _>("pk")? {
                t.primary_key.push(col);
                continue;
            }
            match t.indexes.last_mut() {
                Some(last) if last.name == iname => last.columns.push(col),
                _ => t.indexes.push(Index {
                    name: iname,
                    columns: vec![col],
                    unique: r.try_get("uq")?,
                }),
            }
        }
        let fks = sqlx::query(
            "SELECT c.conname::text AS name, rt.relname::text AS ref_table, c.confdeltype::text AS del, \
                    a.attname::text AS col, ra.attname::text AS ref_col \
             FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_class rt ON rt.oid = c.confrelid \
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, ref_col, pos) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
             JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.ref_col \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1 \
             ORDER BY c.conname, k.pos",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        let mut last_name = String::new();
        for r in &fks {
            let cname: String = r.try_get("name")?;
            if cname != last_name {
                let del: String = r.try_get("del")?;
                t.foreign_keys.push(ForeignKey {
                    columns: vec![],
                    ref_table: r.try_get("ref_table")?,
                    ref_columns: vec![],
                    on_delete: on_delete_name(&del).to_string(),
                });
                last_name = cname;
            }
            if let Some(fk) = t.foreign_keys.last_mut() {
                fk.columns.push(r.try_get("col")?);
                fk.ref_columns.push(r.try_get("ref_col")?);
            }
        }
        tables.push(t);
    }
    Ok(Schema { tables })
}

fn on_delete_name(code: &str) -> &'static str {
    match code {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "r" => "RESTRICT",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
}
