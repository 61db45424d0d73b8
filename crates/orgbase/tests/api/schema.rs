//! `schema dump`: deterministic, and the same on both backends.

use crate::harness::{Backend, Test, spawn};
use crate::{story, test_on};

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(schema_dump_is_deterministic),
    test_on!(Postgres, schema_dumps_are_equal_across_backends),
    test_on!(Postgres, tables_announce_their_changes_to_other_nodes),
];

/// Every table a node may cache answers from tells the other nodes when it changes
/// (ADR 0024, migration 0010): a new table must get the trigger, or be named here as
/// one that no cached read touches.
async fn tables_announce_their_changes_to_other_nodes() {
    const UNANNOUNCED: &[&str] = &[
        "audit_events",
        "email_tokens",
        "mail_outbox",
        "oidc_codes",
        "oidc_consents",
        "oidc_tokens",
        "orgbase_migrations",
        "password_tokens",
    ];
    let Some(app) = spawn(Backend::Postgres).await else {
        return;
    };
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_trigger t \
           WHERE t.tgrelid = c.oid AND t.tgname = 'orgbase_changed') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(&mut app.raw_postgres().await)
    .await
    .unwrap();
    assert!(rows.len() > 10, "{rows:?}");
    for (table, announced) in rows {
        assert_eq!(
            announced,
            !UNANNOUNCED.contains(&table.as_str()),
            "{table}: announced {announced}"
        );
    }
}

async fn schema_dump_is_deterministic(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.store.schema().await.unwrap().render();
    let again = app.store.schema().await.unwrap().render();
    assert_eq!(a, again);
    assert!(a.contains("table org_members\n"), "{a}");
    assert!(a.contains("  primary key (org_id, user_id)\n"), "{a}");
    assert!(
        a.contains("  foreign key (user_id) references users (id) on delete cascade\n"),
        "{a}"
    );
    assert!(a.contains("  unique index users_email_uq (email)\n"), "{a}");
}

/// Needs both backends; named and counted as a PostgreSQL trial.
async fn schema_dumps_are_equal_across_backends() {
    let sqlite = spawn(Backend::Sqlite).await.unwrap();
    let a = sqlite.store.schema().await.unwrap().render();
    let pg = spawn(Backend::Postgres).await.unwrap();
    let p = pg.store.schema().await.unwrap().render();
    if a != p {
        let diff: Vec<String> = a
            .lines()
            .zip(p.lines())
            .filter(|(x, y)| x != y)
            .take(10)
            .map(|(x, y)| format!("sqlite: {x}\npostgres: {y}"))
            .collect();
        panic!(
            "schemas differ:\n{}\n\nsqlite:\n{a}\npostgres:\n{p}",
            diff.join("\n")
        );
    }
}
