//! `--postgres`: a fresh database on a PostgreSQL server for one run, dropped after it.

use anyhow::Context;
use sqlx::Connection;

pub struct Fresh {
    server: String,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl Fresh {
    pub async fn create(server: &str) -> anyhow::Result<Self> {
        let name = format!(
            "orgbase_bench_{}_{}",
            std::process::id(),
            crate::bench::clock_nanos() % 1_000_000
        );
        let mut c = sqlx::PgConnection::connect(server)
            .await
            .with_context(|| format!("connecting to {}", orgbase::server::redact(server)))?;
        // The name is ours (letters, digits, underscores): nothing to quote.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .with_context(|| format!("creating the database {name}"))?;
        c.close().await.ok();
        Ok(Self {
            url: with_database(server, &name),
            server: server.to_string(),
            name,
        })
    }

    /// Best effort: a failure is printed, not returned (the run's figures matter more).
    pub async fn drop_database(self) {
        let dropped = async {
            let mut c = sqlx::PgConnection::connect(&self.server).await?;
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c)
            .await?;
            anyhow::Ok(())
        };
        if let Err(e) = dropped.await {
            eprintln!("could not drop the database {}: {e:#}", self.name);
        }
    }
}

/// Gathers the planner's statistics of the database (`ANALYZE`).
pub async fn analyze(url: &str) -> anyhow::Result<()> {
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {}", orgbase::server::redact(url)))?;
    sqlx::query("ANALYZE").execute(&mut c).await?;
    c.close().await.ok();
    Ok(())
}

/// The URL with its database (path) replaced, the query kept.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
