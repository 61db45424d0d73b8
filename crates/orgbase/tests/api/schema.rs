//! `schema dump`: deterministic, and the same on both backends.

use crate::harness::{Backend, postgres_url, spawn};

#[tokio::test]
async fn schema_dumps_are_deterministic_and_equal_across_backends() {
    let sqlite = spawn(Backend::Sqlite).await.unwrap();
    let a = sqlite.store.schema().await.unwrap().render();
    let b = sqlite.store.schema().await.unwrap().render();
    assert_eq!(a, b);
    assert!(a.contains("table org_members\n"), "{a}");
    assert!(a.contains("  primary key (org_id, user_id)\n"), "{a}");
    assert!(
        a.contains("  foreign key (user_id) references users (id) on delete cascade\n"),
        "{a}"
    );
    assert!(a.contains("  unique index users_email_uq (email)\n"), "{a}");
    if postgres_url().is_none() {
        eprintln!("skipped the PostgreSQL comparison: ORGBASE_TEST_POSTGRES_URL is not set");
        return;
    }
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
