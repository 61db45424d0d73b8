//! Mail (ADR 0011): invitation and password-reset mails through the outbox, delivered
//! over SMTP to a real SMTP server run in the test (`smtp.rs`); retries with backoff,
//! crashes between commit and delivery, and what happens without SMTP.

use std::time::Duration;

use orgbase_domain::{Clock, MailKind, MailStatus, OutboxMail, PageRequest};
use serde_json::json;

use crate::harness::{Account, Backend, TEST_MASTER_KEY, Test, TestApp, s, spawn_with};
use crate::smtp::{Mode, SmtpServer};
use crate::{story, test_on};

pub const TESTS: &[Test] = &[
    story!(invitation_mail_arrives_and_its_link_works_once),
    story!(reset_mail_link_works_once_and_ends_sessions),
    story!(reset_is_rate_limited_and_says_nothing),
    story!(outbox_survives_a_crash_and_delivers_once),
    story!(refused_mail_is_retried_with_backoff),
    test_on!(
        Sqlite,
        without_smtp_mails_stay_queued_and_the_cli_lists_them
    ),
    test_on!(Sqlite, the_real_binary_killed_9_delivers_after_restart_once),
];

/// The server binary itself, on a SQLite file, killed with SIGKILL: a mail committed
/// before the kill is delivered after the restart, exactly once, and never again after
/// a further kill and restart.
async fn the_real_binary_killed_9_delivers_after_restart_once() {
    use std::process::{Child, Command, Stdio};
    let dir = std::env::temp_dir().join(format!("orgbase-kill9-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("kill9.db").display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let start = |smtp: Option<String>| -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgbase"));
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &db)
            .env("ORGBASE_MASTER_KEY", TEST_MASTER_KEY)
            .env("ORGBASE_ADMIN_EMAIL", "root@kill9.test")
            .env("ORGBASE_ADMIN_PASSWORD", "root-password-1")
            .env("ORGBASE_ARGON2_MEMORY_KIB", "64")
            .env("ORGBASE_ARGON2_ITERATIONS", "1")
            .env("ORGBASE_MAIL_POLL_MS", "100")
            .env("ORGBASE_LOG", "warn")
            .env_remove("ORGBASE_SMTP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = smtp {
            cmd.env("ORGBASE_SMTP_URL", url)
                .env("ORGBASE_MAIL_FROM", FROM);
        }
        cmd.spawn().unwrap()
    };
    let http = reqwest::Client::new();
    let ready = |http: reqwest::Client, base: String| async move {
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    };

    // 1. No SMTP: the invitation mail is committed to the outbox; then SIGKILL.
    let mut server = start(None);
    ready(http.clone(), base.clone()).await;
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "root@kill9.test", "password": "root-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = s(&login["token"]);
    let org: serde_json::Value = http
        .post(format!("{base}/api/v1/orgs"))
        .bearer_auth(&token)
        .json(&json!({"name": "Kill Nine"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invited = http
        .post(format!("{base}/api/v1/orgs/{}/invitations", s(&org["id"])))
        .bearer_auth(&token)
        .json(&json!({"email": "survivor@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 201);
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    // 2. Restarted with SMTP: delivered once.
    let smtp = SmtpServer::start(Mode::Accept).await;
    let mut server = start(Some(smtp.url()));
    ready(http.clone(), base.clone()).await;
    let inbox = smtp.wait_for(1).await;
    assert_eq!(inbox[0].to, vec!["survivor@example.com".to_string()]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill().unwrap();
    server.wait().unwrap();

    // 3. Killed and restarted again: nothing is sent twice.
    let mut server = start(Some(smtp.url()));
    ready(http.clone(), base.clone()).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(smtp.inbox().len(), 1, "delivered exactly once across kills");
    let _ = std::fs::remove_dir_all(&dir);
}

const FROM: &str = "Orgbase <noreply@orgbase.test>";

async fn with_smtp(b: Backend, smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_with(b, move |s| {
        s.smtp_url = Some(url);
        s.mail_from = Some(FROM.into());
    })
    .await
    .unwrap()
}

/// The outbox without the verification mails every sign-up queues (those have their
/// own stories): the invitation and reset mails these stories are about.
async fn outbox(app: &TestApp) -> Vec<OutboxMail> {
    app.store
        .outbox(None, PageRequest::first(200))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|m| m.kind != MailKind::EmailVerification)
        .collect()
}

/// Waits (up to 10 s) until the outbox's first mail is in `status`.
async fn wait_status(app: &TestApp, status: MailStatus) -> OutboxMail {
    for _ in 0..200 {
        if let Some(m) = outbox(app).await.into_iter().next()
            && m.status == status
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the mail never became {}", status.as_str());
}

/// An org owner made by a system admin, so no verification mail is queued: these
/// stories count the invitation and reset mails alone.
async fn quiet_owner(app: &TestApp) -> Account {
    let admin = app.admin_token().await;
    let (st, u) = app
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "owner@example.com", "password": "password-123", "name": "Owner"}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let (st, org) = app
        .post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "Owner Org", "owner_email": "owner@example.com"}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let token = s(&app.login("owner@example.com", "password-123").await.1["token"]);
    Account {
        id: s(&u["id"]),
        email: "owner@example.com".into(),
        token,
        org_id: s(&org["id"]),
        org_slug: s(&org["slug"]),
    }
}

async fn invite(app: &TestApp, token: &str, org: &str, email: &str) -> serde_json::Value {
    let (st, inv) = app
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            token,
            json!({"email": email, "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    inv
}

async fn invitation_mail_arrives_and_its_link_works_once(b: Backend) {
    let smtp = SmtpServer::start(Mode::Accept).await;
    let app = with_smtp(b, &smtp).await;
    let owner = quiet_owner(&app).await;
    let (st, org) = app
        .post(
            "/api/v1/orgs",
            &owner.token,
            json!({"name": "Acme Research"}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let org = s(&org["slug"]);
    let inv = invite(&app, &owner.token, &org, "Bob@Example.com").await;

    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["bob@example.com".to_string()]);
    assert!(mail.from.contains("noreply@orgbase.test"), "{}", mail.from);
    assert!(mail.data.contains("Acme Research"), "{}", mail.data);
    assert!(mail.data.contains("text/html"), "{}", mail.data);
    assert_eq!(mail.distinct_links(), 1, "one link only: {}", mail.data);
    // With mail, the link goes to the invitee only: the admin's answer has none, so
    // using it proves the address (found by an outside audit: a link shown to the admin
    // let any org owner "prove" addresses they do not own).
    assert_eq!(inv["accept_url"], serde_json::Value::Null, "{inv}");
    assert_eq!(inv["token"], serde_json::Value::Null, "{inv}");
    let token = mail.token();

    // The link works once, and proves the address.
    let (st, body) = app
        .signup_with("bob@example.com", json!({"invitation_token": token}))
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"]["slug"], org.as_str());
    assert_eq!(body["user"]["email_verified"], true, "{body}");
    let again = app
        .signup_with("bob2@example.com", json!({"invitation_token": token}))
        .await;
    assert!(again.0.is_client_error(), "{:?}", again);

    // Sent: recorded, and the link is gone from the outbox.
    let sent = wait_status(&app, MailStatus::Sent).await;
    assert!(sent.link_sealed.is_empty());
    assert_eq!(sent.attempts, 1);

    // A resend mails a new link; the old one is dead.
    let carol = invite(&app, &owner.token, &org, "carol@example.com").await;
    let first = smtp.wait_for(2).await[1].token();
    let (st, resent) = app
        .post(
            &format!("/api/v1/orgs/{org}/invitations/{}/resend", s(&carol["id"])),
            &owner.token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{resent}");
    let mails = smtp.wait_for(3).await;
    let second = mails[2].token();
    assert_ne!(first, second);
    assert_eq!(mails[2].to, vec!["carol@example.com".to_string()]);
    let old = app
        .signup_with("carol@example.com", json!({"invitation_token": first}))
        .await;
    assert!(old.0.is_client_error(), "{:?}", old);
    let (st, body) = app
        .signup_with("carol@example.com", json!({"invitation_token": second}))
        .await;
    assert_eq!(st, 201, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.inbox().len(), 3, "each mail exactly once");
}

async fn reset_mail_link_works_once_and_ends_sessions(b: Backend) {
    let smtp = SmtpServer::start(Mode::Accept).await;
    let app = with_smtp(b, &smtp).await;
    let alice = app.signup("alice@example.com", "Alice").await;
    let (st, second) = app.login("alice@example.com", "password-123").await;
    assert_eq!(st, 200);
    let second = s(&second["token"]);
    let (st, key) = app
        .post("/api/v1/me/api-keys", &alice.token, json!({"name": "kept"}))
        .await;
    assert_eq!(st, 201, "{key}");
    let alice_key = s(&key["token"]);
    assert_eq!(app.get("/api/v1/me", &alice_key).await.0, 200);

    let known = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "Alice@example.com"})),
        )
        .await;
    let unknown = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "nobody@example.com"})),
        )
        .await;
    assert_eq!(known.0, 204);
    assert_eq!(known, unknown, "the same answer for unknown addresses");

    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["alice@example.com".to_string()]);
    assert!(mails[0].data.contains("Alice"), "the home org's name");
    assert_eq!(mails[0].distinct_links(), 1);
    let link = mails[0].link();
    assert!(link.contains("/set-password?token="), "{link}");
    let token = mails[0].token();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.inbox().len(), 1, "no mail for an unknown address");

    let set = |token: String, password: &'static str| {
        let app = &app;
        async move {
            app.call(
                reqwest::Method::POST,
                "/api/v1/auth/set-password",
                None,
                Some(json!({"token": token, "password": password})),
            )
            .await
        }
    };
    assert_eq!(set(token.clone(), "new-password-1").await.0, 204);
    // Every session and personal API key ended (an outside audit kept a squatter's key
    // alive through the real owner's reset).
    assert_eq!(app.get("/api/v1/me", &alice_key).await.0, 401);
    // Every session ended.
    assert_eq!(app.get("/api/v1/me", &alice.token).await.0, 401);
    assert_eq!(app.get("/api/v1/me", &second).await.0, 401);
    assert_eq!(app.login("alice@example.com", "password-123").await.0, 401);
    let (st, fresh) = app.login("alice@example.com", "new-password-1").await;
    assert_eq!(st, 200);
    // The link was mailed to the address: using it proved the address.
    let (_, me) = app.get("/api/v1/me", &s(&fresh["token"])).await;
    assert_eq!(me["user"]["email_verified"], true, "{me}");
    // Once only.
    assert_eq!(set(token, "new-password-2").await.0, 404);

    // An hour later, a reset link is dead.
    let (st, _) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "alice@example.com"})),
        )
        .await;
    assert_eq!(st, 204);
    let late = smtp.wait_for(2).await[1].token();
    app.clock.advance_seconds(3601);
    assert_eq!(set(late, "new-password-3").await.0, 404);
    assert_eq!(
        app.login("alice@example.com", "new-password-1").await.0,
        200
    );
}

async fn reset_is_rate_limited_and_says_nothing(b: Backend) {
    let app = spawn_with(b, |s| s.rate_limits = "on".into())
        .await
        .unwrap();
    app.signup("dora@example.com", "Dora").await;
    let reset = |email: String| {
        let app = &app;
        async move {
            app.call(
                reqwest::Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(json!({"email": email})),
            )
            .await
        }
    };
    // Per address, known or not, the same: three an hour.
    for email in ["dora@example.com", "ghost@example.com"] {
        for _ in 0..3 {
            assert_eq!(reset(email.to_string()).await.0, 204);
        }
        let over = reset(email.to_string()).await;
        assert_eq!(over.0, 429, "{:?}", over);
        assert_eq!(over.1["code"], "rate_limited");
    }
    // Per client: ten an hour, whatever the addresses.
    let mut refused = false;
    for n in 0..4 {
        if reset(format!("spray-{n}@example.com")).await.0 == 429 {
            refused = true;
        }
    }
    assert!(refused, "one client cannot spray addresses");
    // Three mails were queued for Dora, none for the others.
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .all(|m| m.recipient.as_str() == "dora@example.com")
    );
}

async fn outbox_survives_a_crash_and_delivers_once(b: Backend) {
    // 1. Committed, and the server dies before any attempt (no SMTP yet).
    let good = SmtpServer::start(Mode::Accept).await;
    let mut app = spawn_with(b, |_| {}).await.unwrap();
    let owner = quiet_owner(&app).await;
    invite(&app, &owner.token, &owner.org_id, "first@example.com").await;
    app.kill_mail_worker();
    let url = good.url();
    let restarted = app
        .restart_services(|s| {
            s.smtp_url = Some(url.clone());
            s.mail_from = Some(FROM.into());
        })
        .await;
    let r = restarted.services.mail().deliver_due().await.unwrap();
    assert_eq!(r.sent, 1);
    assert_eq!(
        restarted.services.mail().deliver_due().await.unwrap().sent,
        0
    );
    assert_eq!(good.wait_for(1).await.len(), 1);
    drop(restarted);
    drop(app);

    // 2. Killed mid-delivery: the worker claimed the mail and was talking to a server
    // that never answered when it died.
    let stall = SmtpServer::start(Mode::Stall).await;
    let good = SmtpServer::start(Mode::Accept).await;
    let mut app = with_smtp(b, &stall).await;
    let owner = quiet_owner(&app).await;
    invite(&app, &owner.token, &owner.org_id, "second@example.com").await;
    let claimed = wait_status(&app, MailStatus::Sending).await;
    app.kill_mail_worker();
    let url = good.url();
    let restarted = app
        .restart_services(|s| {
            s.smtp_url = Some(url.clone());
            s.mail_from = Some(FROM.into());
        })
        .await;
    let mail = restarted.services.mail();
    // Its lease still runs: nobody else may send it yet.
    assert_eq!(mail.deliver_due().await.unwrap().sent, 0);
    let lease = claimed.lease_until.unwrap().as_millis() - app.clock.now().as_millis();
    app.clock.advance_seconds(lease / 1000 + 1);
    assert_eq!(mail.deliver_due().await.unwrap().sent, 1);
    assert_eq!(mail.deliver_due().await.unwrap().sent, 0);
    app.clock.advance_seconds(24 * 3600);
    assert_eq!(mail.deliver_due().await.unwrap().sent, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inbox = good.inbox();
    assert_eq!(inbox.len(), 1, "delivered exactly once");
    assert_eq!(inbox[0].to, vec!["second@example.com".to_string()]);
    let sent = outbox(&app).await;
    assert_eq!(sent[0].status, MailStatus::Sent);
    assert_eq!(sent[0].attempts, 2);
}

async fn refused_mail_is_retried_with_backoff(b: Backend) {
    let smtp = SmtpServer::start(Mode::Refuse).await;
    let app = with_smtp(b, &smtp).await;
    let owner = quiet_owner(&app).await;
    invite(&app, &owner.token, &owner.org_id, "later@example.com").await;
    smtp.wait_refused(1).await;
    let m = wait_status(&app, MailStatus::Queued).await;
    assert_eq!(m.attempts, 1);
    let now = app.clock.now().as_millis();
    assert_eq!(
        m.next_attempt_at.as_millis(),
        now + 30_000,
        "first retry after 30 s"
    );
    assert!(
        m.last_error.as_deref().unwrap_or("").contains("451"),
        "{:?}",
        m.last_error
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.refused(), 1, "not before it is due");

    app.clock.advance_seconds(30);
    smtp.wait_refused(2).await;
    let mut m = wait_status(&app, MailStatus::Queued).await;
    for _ in 0..100 {
        if m.attempts == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        m = wait_status(&app, MailStatus::Queued).await;
    }
    assert_eq!(m.attempts, 2);
    let now = app.clock.now().as_millis();
    assert_eq!(
        m.next_attempt_at.as_millis(),
        now + 60_000,
        "then after 60 s"
    );

    smtp.set_mode(Mode::Accept);
    app.clock.advance_seconds(59);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.inbox().is_empty());
    app.clock.advance_seconds(1);
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["later@example.com".to_string()]);
    let sent = wait_status(&app, MailStatus::Sent).await;
    assert_eq!(sent.attempts, 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.inbox().len(), 1);
}

async fn without_smtp_mails_stay_queued_and_the_cli_lists_them() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await.unwrap();
    let owner = quiet_owner(&app).await;
    let inv = invite(&app, &owner.token, &owner.org_id, "queued@example.com").await;
    let link = s(&inv["accept_url"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = wait_status(&app, MailStatus::Queued).await;
    assert_eq!(m.attempts, 0);
    assert!(
        !m.link_sealed.contains(&s(&inv["token"])),
        "the link is sealed at rest"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orgbase"))
        .args(["mail", "outbox"])
        .env("DATABASE_URL", &app.database_url)
        .env("ORGBASE_MASTER_KEY", TEST_MASTER_KEY)
        .env_remove("ORGBASE_ADMIN_EMAIL")
        .env_remove("ORGBASE_ADMIN_PASSWORD")
        .env_remove("ORGBASE_SMTP_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("queued@example.com"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("\tqueued\tinvitation\t"), "{row}");
    assert!(row.ends_with(&link), "{row}");
    // The link is the only token in the listing.
    assert_eq!(stdout.matches("token=").count(), 1, "{stdout}");
}
