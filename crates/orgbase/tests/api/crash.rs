//! Crash safety: the real binary, killed with SIGKILL in the middle of a burst of
//! concurrent writes, loses no write it acknowledged and leaves nothing half-written;
//! on SQLite the file passes `PRAGMA integrity_check`.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TEST_MASTER_KEY, Test, postgres_url, s};
use crate::test_on;

pub const TESTS: &[Test] = &[
    test_on!(Sqlite, killed_mid_burst_on_sqlite),
    test_on!(Postgres, killed_mid_burst_on_postgres),
];

async fn killed_mid_burst_on_sqlite() {
    killed_mid_burst(Backend::Sqlite).await
}

async fn killed_mid_burst_on_postgres() {
    killed_mid_burst(Backend::Postgres).await
}

/// What the burst got a success answer for.
#[derive(Default)]
struct Acknowledged {
    orgs: Vec<String>,
    /// (org id, invitation id)
    invitations: Vec<(String, String)>,
    /// Orgs where the helper's role change to editor was answered 200.
    promoted: Vec<String>,
}

fn start(db: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_orgbase"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db)
        .env("ORGBASE_MASTER_KEY", TEST_MASTER_KEY)
        .env("ORGBASE_ADMIN_EMAIL", "root@crash.test")
        .env("ORGBASE_ADMIN_PASSWORD", "root-password-1")
        .env("ORGBASE_ARGON2_MEMORY_KIB", "64")
        .env("ORGBASE_ARGON2_ITERATIONS", "1")
        .env("ORGBASE_SIGNUP_MODE", "open")
        .env("ORGBASE_RATE_LIMITS", "off")
        .env("ORGBASE_LOG", "warn")
        .env_remove("ORGBASE_SMTP_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn ready(http: &reqwest::Client, base: &str) {
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

async fn killed_mid_burst(b: Backend) {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let dir = std::env::temp_dir().join(format!("orgbase-crash-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (db, pg) = match b {
        Backend::Sqlite => (format!("sqlite://{}", dir.join("crash.db").display()), None),
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = postgres_url().expect("ORGBASE_TEST_POSTGRES_URL");
            let name = format!("orgbase_crash_{id}");
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .await
                .unwrap();
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            (url, Some((admin, name)))
        }
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let mut server = start(&db, port);
    ready(&http, &base).await;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "root@crash.test", "password": "root-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = s(&login["token"]);
    let helper: Value = http
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": "helper@crash.test", "password": "password-123", "name": "Helper"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let helper = s(&helper["user"]["id"]);

    // The burst: workers creating orgs, inviting into them, adding the helper and
    // changing its role, as fast as they can, until the server dies under them.
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut workers = Vec::new();
    for w in 0..6 {
        let (http, base, token, helper, acked) = (
            http.clone(),
            base.clone(),
            token.clone(),
            helper.clone(),
            acked.clone(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let Ok(r) = http
                    .post(format!("{base}/api/v1/orgs"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("Crash {w} {i}")}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 201 {
                    return;
                }
                let Ok(org) = r.json::<Value>().await else {
                    return;
                };
                let org = s(&org["id"]);
                acked.lock().unwrap().orgs.push(org.clone());
                let Ok(r) = http
                    .post(format!("{base}/api/v1/orgs/{org}/invitations"))
                    .bearer_auth(&token)
                    .json(&json!({"email": format!("guest-{w}-{i}@crash.test")}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() == 201
                    && let Ok(inv) = r.json::<Value>().await
                {
                    let inv_id = s(&inv["id"]);
                    acked
                        .lock()
                        .unwrap()
                        .invitations
                        .push((org.clone(), inv_id));
                }
                let Ok(r) = http
                    .post(format!("{base}/api/v1/orgs/{org}/members"))
                    .bearer_auth(&token)
                    .json(&json!({"user_id": helper, "role": "viewer"}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 201 {
                    continue;
                }
                let Ok(r) = http
                    .patch(format!("{base}/api/v1/orgs/{org}/members/{helper}"))
                    .bearer_auth(&token)
                    .json(&json!({"role": "editor"}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() == 200 {
                    acked.lock().unwrap().promoted.push(org.clone());
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap(); // SIGKILL, mid-burst
    server.wait().unwrap();
    for w in workers {
        let _ = w.await;
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.orgs.len() >= 5,
        "the burst barely started ({} orgs)",
        acked.orgs.len()
    );

    // Restarted: every acknowledged write is there.
    let mut server = start(&db, port);
    ready(&http, &base).await;
    let get = |path: String| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for org in &acked.orgs {
        assert_eq!(
            get(format!("/api/v1/orgs/{org}")).await.0,
            200,
            "org {org} lost"
        );
    }
    for (org, inv) in &acked.invitations {
        let (_, page) = get(format!("/api/v1/orgs/{org}/invitations?limit=200")).await;
        assert!(
            page.to_string().contains(inv.as_str()),
            "invitation {inv} lost: {page}"
        );
    }
    for org in &acked.promoted {
        let (_, page) = get(format!("/api/v1/orgs/{org}/members")).await;
        let role = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| s(&m["user_id"]) == helper)
            .map(|m| s(&m["role"]));
        assert_eq!(role.as_deref(), Some("editor"), "role change in {org} lost");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Nothing half-written: every org has its default workspace, its owner's
    // membership and its org.create event; every invitation its event. SQLite's file
    // is sound.
    let checks = [
        "SELECT COUNT(*) FROM orgs o WHERE NOT EXISTS \
         (SELECT 1 FROM workspaces w WHERE w.org_id = o.id)",
        "SELECT COUNT(*) FROM orgs o WHERE o.owner_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.user_id = o.owner_id)",
        "SELECT COUNT(*) FROM orgs o WHERE NOT EXISTS (SELECT 1 FROM audit_events e \
         WHERE e.org_id = o.id AND e.action = 'org.create')",
        "SELECT COUNT(*) FROM invitations i WHERE NOT EXISTS (SELECT 1 FROM audit_events e \
         WHERE e.org_id = i.org_id AND e.action = 'invitation.create')",
    ];
    match &pg {
        None => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
            for q in checks {
                let n: i64 = sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap();
                assert_eq!(n, 0, "half-written: {q}");
            }
            let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut c)
                .await
                .unwrap();
            assert_eq!(ok, "ok");
        }
        Some((admin, name)) => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db).await.unwrap();
            for q in checks {
                let n: i64 = sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap();
                assert_eq!(n, 0, "half-written: {q}");
            }
            drop(c);
            let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "crash ({}): {} orgs, {} invitations, {} role changes acknowledged before SIGKILL; all there after restart",
        b.name(),
        acked.orgs.len(),
        acked.invitations.len(),
        acked.promoted.len()
    );
}
