//! Each test spawns the real application in-process on port 0, over a fresh database:
//! a new SQLite file, or a new schema in the PostgreSQL named by
//! `ORGBASE_TEST_POSTGRES_URL`. Every story runs once per backend (see `story!`).
//!
//! Each module lists its tests in `TESTS`; `main.rs` turns them into libtest-mimic
//! trials named `<backend>::<module>::<test>`. Without `ORGBASE_TEST_POSTGRES_URL` the
//! `postgres::` trials are marked ignored, so they are reported as such.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::Trial;
use orgbase::server::App;
use orgbase::settings::{Settings, SignupModeArg};
use orgbase_domain::{ManualClock, Timestamp};
use orgbase_store::{ConnectOptions, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_EMAIL: &str = "root@orgbase.test";
pub const ADMIN_PASSWORD: &str = "root-password-1";
pub const TEST_MASTER_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One entry of a module's `TESTS`.
pub enum Test {
    /// Runs on each backend: two trials (see `story!`).
    Story {
        module: &'static str,
        name: &'static str,
        run: fn(Backend),
    },
    /// Runs on each backend when an outside program is there (see `story_needing!`):
    /// without it the trials are ignored, except under CI, where they fail.
    StoryNeeding {
        program: &'static str,
        module: &'static str,
        name: &'static str,
        run: fn(Backend),
    },
    /// Runs once, named after the backend it needs (see `test_on!`).
    Once {
        backend: Backend,
        module: &'static str,
        name: &'static str,
        run: fn(),
    },
}

/// `story!(name)`: the story `async fn name(b: Backend)`, as one trial per backend.
#[macro_export]
macro_rules! story {
    ($name:ident) => {
        $crate::harness::Test::Story {
            module: module_path!(),
            name: stringify!($name),
            run: |b| $crate::harness::block_on($name(b)),
        }
    };
}

/// `story_needing!("dnsmasq", name)`: a story that needs an outside program.
#[macro_export]
macro_rules! story_needing {
    ($program:literal, $name:ident) => {
        $crate::harness::Test::StoryNeeding {
            program: $program,
            module: module_path!(),
            name: stringify!($name),
            run: |b| $crate::harness::block_on($name(b)),
        }
    };
}

/// `test_on!(Sqlite, name)`: the test `async fn name()`, as one trial that needs this
/// backend; `test_on!(Sqlite, fn name)` for a plain `fn name()`.
#[macro_export]
macro_rules! test_on {
    ($backend:ident, fn $name:ident) => {
        $crate::harness::Test::Once {
            backend: $crate::harness::Backend::$backend,
            module: module_path!(),
            name: stringify!($name),
            run: $name,
        }
    };
    ($backend:ident, $name:ident) => {
        $crate::harness::Test::Once {
            backend: $crate::harness::Backend::$backend,
            module: module_path!(),
            name: stringify!($name),
            run: || $crate::harness::block_on($name()),
        }
    };
}

impl Test {
    /// The trials of this test: `<backend>::<module>::<name>`, the PostgreSQL ones
    /// ignored when `ORGBASE_TEST_POSTGRES_URL` is not set.
    pub fn trials(&self) -> Vec<Trial> {
        match *self {
            Test::Story { module, name, run } => [Backend::Sqlite, Backend::Postgres]
                .into_iter()
                .map(|b| trial(b, module, name, move || run(b)))
                .collect(),
            Test::StoryNeeding {
                program,
                module,
                name,
                run,
            } => {
                let missing = find_program(program).is_none() && std::env::var_os("CI").is_none();
                [Backend::Sqlite, Backend::Postgres]
                    .into_iter()
                    .map(|b| {
                        let t = trial(b, module, name, move || run(b));
                        if missing {
                            t.with_ignored_flag(true)
                        } else {
                            t
                        }
                    })
                    .collect()
            }
            Test::Once {
                backend,
                module,
                name,
                run,
            } => vec![trial(backend, module, name, run)],
        }
    }
}

fn trial(backend: Backend, module: &str, name: &str, run: impl FnOnce() + Send + 'static) -> Trial {
    // `module_path!()` starts with the crate: `api::orgs`.
    let module = module.split_once("::").map_or(module, |(_, m)| m);
    Trial::test(format!("{}::{module}::{name}", backend.name()), move || {
        run();
        Ok(())
    })
    .with_ignored_flag(backend == Backend::Postgres && postgres_url().is_none())
}

/// An outside program on PATH or in /usr/sbin (where Debian puts dnsmasq).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs a test on a runtime of its own: multi-threaded, two workers.
pub fn block_on(test: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(test)
}

pub fn postgres_url() -> Option<String> {
    std::env::var("ORGBASE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// What to clean up when the test ends.
enum Db {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        schema: String,
    },
    /// Another node's database: the first node cleans it up.
    Shared,
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Db::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Db::Shared => {}
            Db::Postgres { admin_url, schema } => {
                let (url, schema) = (admin_url.clone(), schema.clone());
                // Drop runs inside the test's runtime; use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                                .execute(&mut c)
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The database itself, for checking what is stored.
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub database_url: String,
    pub pg_schema: Option<String>,
    mail_worker: Option<tokio::task::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: Db,
}

impl TestApp {
    /// The link of the newest mail of `kind` (`email_verification`, ...) queued for
    /// `to`, read from the outbox as an operator would (the links are sealed with the
    /// test master key).
    pub async fn mailed_link(&self, to: &str, kind: &str) -> Option<String> {
        use orgbase_service::secrets::{MasterKey, SecretBox};
        let sealer = SecretBox::new(&MasterKey::from_env_value(TEST_MASTER_KEY).unwrap());
        let mails = self
            .store
            .outbox(None, orgbase_domain::PageRequest::first(200))
            .await
            .unwrap()
            .items;
        mails
            .into_iter()
            .rev()
            .find(|m| {
                m.recipient.as_str() == to && m.kind.as_str() == kind && !m.link_sealed.is_empty()
            })
            .map(|m| {
                sealer
                    .open_for(&format!("mail:{}", m.id), &m.link_sealed)
                    .unwrap()
            })
    }

    /// The token of that link (`…?token=<this>`).
    pub async fn mailed_token(&self, to: &str, kind: &str) -> Option<String> {
        let link = self.mailed_link(to, kind).await?;
        link.split_once("token=").map(|(_, t)| t.to_string())
    }

    /// Proves `to`'s address with the link mailed to it; the answer of verify-email.
    pub async fn verify_email(&self, to: &str) -> Value {
        let token = self
            .mailed_token(to, "email_verification")
            .await
            .unwrap_or_else(|| panic!("no verification mail to {to}"));
        let (st, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/verify-email",
                None,
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        body
    }

    /// Stops this server's mail worker at once, wherever it is (as a kill -9 would).
    pub fn kill_mail_worker(&mut self) {
        if let Some(w) = self.mail_worker.take() {
            w.abort();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill_mail_worker();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings every test starts from: cheap password hashing, open sign-up, a known admin.
pub fn test_settings() -> Settings {
    let mut s = Settings::defaults();
    s.argon2_memory_kib = 64;
    s.argon2_iterations = 1;
    s.signup_mode = SignupModeArg::Open;
    s.admin_email = Some(ADMIN_EMAIL.into());
    s.admin_password = Some(ADMIN_PASSWORD.into());
    s.db_max_connections = Some(4);
    s.master_key = Some(TEST_MASTER_KEY.into());
    // The clock stands still in tests, so buckets never refill: the rate-limit story
    // turns limits on for itself.
    s.rate_limits = "off".into();
    // The isolation matrix claims many domains for one org; one story tests the limit.
    s.max_domains_per_org = 10_000;
    s.mail_poll_ms = 50;
    s
}

/// The application over a fresh database of `backend`. Always `Some` (a missing
/// PostgreSQL is a failure); stories read `let Some(app) = spawn(b).await else ...`.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let mut settings = test_settings();
    tweak(&mut settings);
    let id = uuid::Uuid::now_v7().simple().to_string();
    let mut connect = ConnectOptions::default();
    let (db, url, pg_schema) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("orgbase-test-{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}", dir.join("orgbase.db").display());
            (Db::Sqlite(dir), url, None)
        }
        Backend::Postgres => {
            // Only reached without the URL when ignored trials are asked for.
            let admin_url = postgres_url()
                .expect("ORGBASE_TEST_POSTGRES_URL is not set: no PostgreSQL to test on");
            let schema = format!("t_{id}");
            {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to test PostgreSQL");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            connect.pg_schema = Some(schema.clone());
            (
                Db::Postgres {
                    admin_url: admin_url.clone(),
                    schema: schema.clone(),
                },
                admin_url,
                Some(schema),
            )
        }
    };
    settings.database_url = url.clone();
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    let app = orgbase::server::build_with_clock(&settings, connect, Arc::new(clock.clone()))
        .await
        .expect("build app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mail_worker = orgbase::server::start_mail_worker(&app.services, &settings);
    tokio::spawn(orgbase::server::serve(
        listener,
        app.router,
        app.limits,
        async {
            let _ = rx.await;
        },
    ));
    Some(TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store: app.store,
        clock,
        database_url: url,
        pg_schema,
        mail_worker,
        shutdown: Some(tx),
        _db: db,
    })
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
    /// The personal org's id and slug.
    pub org_id: String,
    pub org_slug: String,
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from {path}: {value}"
        );
        (status, value)
    }

    /// A request with a raw body of `content_type` (a CSV file, say).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from {path}: {value}"
        );
        (status, value)
    }

    /// Posts a CSV file.
    pub async fn post_csv(&self, path: &str, token: &str, csv: &str) -> (StatusCode, Value) {
        self.call_raw(Method::POST, path, Some(token), "text/csv", csv.to_string())
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn signup(&self, email: &str, name: &str) -> Account {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                None,
                Some(json!({"email": email, "password": "password-123", "name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Account {
            id: s(&body["user"]["id"]),
            email: s(&body["user"]["email"]),
            token: s(&body["token"]),
            org_id: s(&body["organization"]["id"]),
            org_slug: s(&body["organization"]["slug"]),
        }
    }

    /// Signs up with extra fields (signup key, invitation token); returns the raw answer.
    pub async fn signup_with(&self, email: &str, extra: Value) -> (StatusCode, Value) {
        let mut body = json!({"email": email, "password": "password-123", "name": "New Person"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.call(Method::POST, "/api/v1/auth/signup", None, Some(body))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn admin_token(&self) -> String {
        let (status, body) = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s(&body["token"])
    }

    /// Makes `user` a member of `org` with `role` (through the admin API).
    pub async fn add_to_org(&self, org: &str, user_id: &str, role: &str) {
        let admin = self.admin_token().await;
        let (status, body) = self
            .post(
                &format!("/api/v1/orgs/{org}/members"),
                &admin,
                json!({"user_id": user_id, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Services built anew over this test's database, as a restarted server would
    /// build them (no HTTP), with changed settings.
    pub async fn restart_services(&self, tweak: impl FnOnce(&mut Settings)) -> App {
        self.try_restart_services(tweak).await.expect("rebuild")
    }

    /// A second server (node) on this test's database, with the same clock and its own
    /// listener, mail worker and in-process state, as a second `orgbase serve` on the
    /// same PostgreSQL would be. `tweak` changes its settings.
    pub async fn another_node(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = test_settings();
        settings.database_url = self.database_url.clone();
        tweak(&mut settings);
        let connect = ConnectOptions {
            pg_schema: self.pg_schema.clone(),
            ..Default::default()
        };
        let app =
            orgbase::server::build_with_clock(&settings, connect, Arc::new(self.clock.clone()))
                .await
                .expect("build the second node");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mail_worker = orgbase::server::start_mail_worker(&app.services, &settings);
        tokio::spawn(orgbase::server::serve(
            listener,
            app.router,
            app.limits,
            async {
                let _ = rx.await;
            },
        ));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            store: app.store,
            clock: self.clock.clone(),
            database_url: self.database_url.clone(),
            pg_schema: self.pg_schema.clone(),
            mail_worker,
            shutdown: Some(tx),
            _db: Db::Shared,
        }
    }

    /// [`TestApp::restart_services`], returning a refused start as an error.
    pub async fn try_restart_services(
        &self,
        tweak: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<App> {
        let mut settings = test_settings();
        settings.database_url = self.database_url.clone();
        tweak(&mut settings);
        let connect = ConnectOptions {
            pg_schema: self.pg_schema.clone(),
            ..Default::default()
        };
        orgbase::server::build_with_clock(&settings, connect, Arc::new(self.clock.clone())).await
    }

    /// A raw connection to this test's database, to check what the schema enforces.
    pub async fn raw_sqlite(&self) -> sqlx::SqliteConnection {
        use sqlx::Connection;
        let opts: sqlx::sqlite::SqliteConnectOptions = self.database_url.parse().unwrap();
        sqlx::SqliteConnection::connect_with(&opts.foreign_keys(true))
            .await
            .unwrap()
    }

    pub async fn raw_postgres(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        let opts: sqlx::postgres::PgConnectOptions = self.database_url.parse().unwrap();
        let opts = opts.options([("search_path", self.pg_schema.clone().unwrap_or_default())]);
        sqlx::PgConnection::connect_with(&opts).await.unwrap()
    }
}

/// A JSON string value as a `String` (panics otherwise: tests only).
pub fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// Asserts a problem document with this status and code.
#[track_caller]
pub fn problem(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert_eq!(got.1["status"], status);
}
