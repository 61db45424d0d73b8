//! `schema dump`: deterministic, and the same on both backends.

use crate::harness::{Backend, Test, spawn};
use crate::{story, test_on};

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(schema_dump_is_deterministic),
    test_on!(Postgres, schema_dumps_are_equal_across_backends),
];

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
