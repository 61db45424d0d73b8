//! The command line, run as a user would.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::Test;
use crate::test_on;

/// The tests of this module, in order (see `harness::Test`): the commands run on SQLite.
pub const TESTS: &[Test] = &[
    test_on!(Sqlite, fn admin_org_and_schema_commands),
    test_on!(Sqlite, fn serve_prints_where_to_go_next),
    test_on!(Sqlite, fn org_export_and_import_round_trip),
    test_on!(Sqlite, fn org_purge_lists_then_deletes_what_is_past_the_window),
    test_on!(Sqlite, fn oidc_rotate_keys_keeps_the_previous_key),
];

/// `orgbase oidc rotate-keys` makes a new key per algorithm, keeps the previous one
/// and deletes older ones.
fn oidc_rotate_keys_keeps_the_previous_key() {
    let dir = std::env::temp_dir().join(format!("orgbase-oidc-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("oidc.db").display());
    let (ok, out, err) = orgbase(&db, &["oidc", "rotate-keys"], None);
    assert!(ok, "{err}");
    assert_eq!(out.matches("new signing key ").count(), 2, "{out}");
    assert!(
        out.contains("new signing key rsa-") && out.contains("new signing key ed-"),
        "{out}"
    );
    assert!(out.contains("0 older key(s) removed"), "{out}");
    let (ok, out, err) = orgbase(&db, &["oidc", "rotate-keys"], None);
    assert!(ok, "{err}");
    assert!(out.contains("2 older key(s) removed"), "{out}");
    let newest: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("new signing key "))
        .map(String::from)
        .collect();
    crate::harness::block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kid, alg, generation FROM oidc_keys ORDER BY alg, generation")
                .fetch_all(&mut c)
                .await
                .unwrap();
        // Per algorithm the previous (2) and the current (3) generation.
        let gens: Vec<(&str, i64)> = rows.iter().map(|(_, a, g)| (a.as_str(), *g)).collect();
        assert_eq!(
            gens,
            [("EdDSA", 2), ("EdDSA", 3), ("RS256", 2), ("RS256", 3)]
        );
        for kid in &newest {
            assert!(rows.iter().any(|(k, _, g)| k == kid && *g == 3), "{kid}");
        }
        let sealed: Vec<String> = sqlx::query_scalar("SELECT private_key FROM oidc_keys")
            .fetch_all(&mut c)
            .await
            .unwrap();
        assert!(sealed.iter().all(|s| s.starts_with("enc:v1:")));
    });
}

/// `orgbase org purge --dry-run` lists the orgs deleted more than 30 days ago and
/// changes nothing; `orgbase org purge` deletes them for good; an org deleted 29 days
/// ago stays.
fn org_purge_lists_then_deletes_what_is_past_the_window() {
    let dir = std::env::temp_dir().join(format!("orgbase-purge-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("purge.db").display());
    let (ok, _, err) = orgbase(
        &db,
        &["admin", "create", "--email", "root@example.com"],
        Some("a-long-password\n"),
    );
    assert!(ok, "{err}");
    for slug in ["old-one", "recent-one", "live-one"] {
        let (ok, _, err) = orgbase(
            &db,
            &[
                "org",
                "create",
                "--name",
                slug,
                "--slug",
                slug,
                "--owner",
                "root@example.com",
            ],
            None,
        );
        assert!(ok, "{err}");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let day = 86_400_000i64;
    crate::harness::block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
        for (slug, days) in [("old-one", 31), ("recent-one", 29)] {
            sqlx::query("UPDATE orgs SET deleted_at = $1 WHERE slug = $2")
                .bind(now - days * day)
                .bind(slug)
                .execute(&mut c)
                .await
                .unwrap();
        }
    });
    let (ok, out, err) = orgbase(&db, &["org", "purge", "--dry-run"], None);
    assert!(ok, "{err}");
    assert!(
        out.contains("\told-one\t") && !out.contains("recent-one"),
        "{out}"
    );
    assert!(out.contains("would purge 1 organization(s)"), "{out}");
    let (ok, out, err) = orgbase(&db, &["org", "purge"], None);
    assert!(ok, "{err}");
    assert!(out.contains("purged 1 organization(s)"), "{out}");
    let (ok, out, _) = orgbase(&db, &["org", "purge"], None);
    assert!(ok && out.contains("purged 0 organization(s)"), "{out}");
    crate::harness::block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
        let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM orgs ORDER BY slug")
            .fetch_all(&mut c)
            .await
            .unwrap();
        assert_eq!(slugs, ["live-one", "recent-one", "system"]);
        let events: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'org.purge'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(events, 1);
    });
}

fn orgbase(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgbase"));
    cmd.args(args)
        .env("DATABASE_URL", db)
        .env("ORGBASE_ARGON2_MEMORY_KIB", "64")
        .env("ORGBASE_ARGON2_ITERATIONS", "1")
        .env_remove("ORGBASE_ADMIN_EMAIL")
        .env_remove("ORGBASE_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn admin_org_and_schema_commands() {
    let dir = std::env::temp_dir().join(format!("orgbase-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());

    let (ok, out, err) = orgbase(&db, &["migrate"], None);
    assert!(ok, "{err}");
    assert!(out.contains(" migration(s) applied"), "{out}");
    let (ok, out, _) = orgbase(&db, &["migrate"], None);
    assert!(ok && out.contains("0 migration(s)"), "{out}");

    let (ok, out, err) = orgbase(
        &db,
        &["admin", "create", "--email", "Root@Example.com"],
        Some("a-long-password\n"),
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("created system admin root@example.com"),
        "{out}"
    );
    let (ok, out, _) = orgbase(
        &db,
        &["admin", "create", "--email", "root@example.com"],
        Some("whatever-else\n"),
    );
    assert!(ok && out.contains("already exists"), "{out}");
    let (ok, _, err) = orgbase(
        &db,
        &["admin", "create", "--email", "short@example.com"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("password"), "{err}");

    let (ok, out, err) = orgbase(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Aarhus Kommune",
            "--owner",
            "root@example.com",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("\taarhus-kommune\tAarhus Kommune"), "{out}");
    let (ok, _, err) = orgbase(
        &db,
        &[
            "org",
            "create",
            "--name",
            "X",
            "--owner",
            "nobody@example.com",
        ],
        None,
    );
    assert!(!ok && err.contains("no user"), "{err}");
    let (ok, out, _) = orgbase(&db, &["org", "list"], None);
    assert!(ok);
    assert!(
        out.contains("\tsystem\tSystem") && out.contains("\taarhus-kommune\t"),
        "{out}"
    );

    let (ok, out, err) = orgbase(&db, &["user", "disable", "root@example.com"], None);
    assert!(
        ok && out.contains("root@example.com") && out.contains("is disabled"),
        "{out}{err}"
    );
    let (ok, out, _) = orgbase(&db, &["user", "enable", "ROOT@example.com"], None);
    assert!(ok && out.contains("is enabled"), "{out}");
    let (ok, _, err) = orgbase(
        &db,
        &["user", "reset-password", "root@example.com"],
        Some("tiny\n"),
    );
    assert!(!ok && err.contains("password"), "{err}");
    let (ok, out, err) = orgbase(
        &db,
        &["user", "reset-password", "root@example.com"],
        Some("another-long-password\n"),
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = orgbase(&db, &["user", "disable", "ghost@example.com"], None);
    assert!(!ok && err.contains("not found"), "{err}");

    let (ok, out, _) = orgbase(&db, &["schema", "dump"], None);
    assert!(ok && out.starts_with("table api_keys\n"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

fn serve_prints_where_to_go_next() {
    let dir = std::env::temp_dir().join(format!("orgbase-serve-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("fresh.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgbase"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db)
        .env_remove("ORGBASE_ADMIN_EMAIL")
        .env_remove("ORGBASE_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while !seen.contains("ORGBASE_ADMIN_EMAIL") && std::time::Instant::now() < deadline {
        use std::io::Read;
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.contains("Orgbase is listening on http://127.0.0.1:"),
        "{seen}"
    );
    assert!(seen.contains("There is no system admin yet"), "{seen}");
    assert!(
        dir.join("fresh.db").exists(),
        "the database file is created"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `orgbase org export` from one database, `orgbase org import` into a fresh one, and
/// an export from there: the same document.
fn org_export_and_import_round_trip() {
    let dir = std::env::temp_dir().join(format!("orgbase-port-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = format!("sqlite://{}", dir.join("one.db").display());
    let two = format!("sqlite://{}", dir.join("two.db").display());
    let (f1, f2) = (dir.join("one.json"), dir.join("two.json"));
    let (f1s, f2s) = (f1.to_str().unwrap(), f2.to_str().unwrap());

    let (ok, _, err) = orgbase(
        &one,
        &["admin", "create", "--email", "root@example.com"],
        Some("a-long-password\n"),
    );
    assert!(ok, "{err}");
    let args = [
        "org",
        "create",
        "--name",
        "Cli Co",
        "--slug",
        "cli-co",
        "--owner",
        "root@example.com",
    ];
    let (ok, _, err) = orgbase(&one, &args, None);
    assert!(ok, "{err}");
    let (ok, _, err) = orgbase(
        &one,
        &["org", "export", "cli-co", "--include-secrets", "--out", f1s],
        None,
    );
    assert!(ok, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f1).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the document may hold secrets");
    }
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f1).unwrap()).unwrap();
    assert_eq!(first["version"], 1);
    assert_eq!(first["secrets_included"], true);
    assert_eq!(first["members"][0]["email"], "root@example.com");
    let (ok, out, _) = orgbase(&one, &["org", "export", "cli-co"], None);
    assert!(ok);
    let bare: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(bare["secrets_included"], false);

    let (ok, _, err) = orgbase(&two, &["migrate"], None);
    assert!(ok, "{err}");
    let (ok, out, err) = orgbase(&two, &["org", "import", f1s], None);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("created\t") && out.contains("\tcli-co"),
        "{out}"
    );
    assert!(
        out.contains("account created (no password)\troot@example.com"),
        "{out}"
    );
    let (ok, out, err) = orgbase(&two, &["org", "import", f1s], None);
    assert!(ok && out.starts_with("unchanged\t"), "{out}{err}");
    let (ok, _, err) = orgbase(
        &two,
        &["org", "export", "cli-co", "--include-secrets", "--out", f2s],
        None,
    );
    assert!(ok, "{err}");
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f2).unwrap()).unwrap();
    assert_eq!(first, second);

    let mut future = first.clone();
    future["version"] = serde_json::json!(2);
    std::fs::write(&f2, future.to_string()).unwrap();
    let (ok, _, err) = orgbase(&two, &["org", "import", f2s], None);
    assert!(!ok && err.contains("unsupported_export_version"), "{err}");
    let (ok, _, err) = orgbase(&two, &["org", "export", "nope"], None);
    assert!(!ok && err.contains("not found"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
