//! PostgreSQL: for several stateless Orgbase nodes sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

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
}

pub type PgStore = BackendStore;

/// A reader connection: from the pool (PostgreSQL needs no separate readers).
pub type ReadGuard<'a> = sqlx::pool::PoolConnection<sqlx::Postgres>;

impl BackendStore {
    pub async fn reader(&self) -> Result<ReadGuard<'_>> {
        Ok(self.read.acquire().await?)
    }
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
            .connect_with(options)
            .await?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
        })
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
