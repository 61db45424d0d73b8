//! The command line, run as a user would.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::Test;
use crate::test_on;

/// The tests of this module, in order (see `harness::Test`): the commands run on SQLite.
pub const TESTS: &[Test] = &[
    test_on!(Sqlite, fn admin_org_and_schema_commands),
    test_on!(Sqlite, fn serve_prints_where_to_go_next),
];

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
    assert!(out.contains("3 migration(s) applied"), "{out}");
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
