//! One fresh, migrated store per trial, and the entities stories start from.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use libtest_mimic::Trial;
use orgbase_domain::{
    Email, Name, Org, OrgId, OrgStatus, Role, Slug, Timestamp, User, UserId, default_tree,
};
use orgbase_store::{ConnectOptions, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub type StoryFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One entry of a module's `STORIES`: an `async fn name(store: Arc<dyn Store>)`.
pub struct Story {
    pub module: &'static str,
    pub name: &'static str,
    pub run: fn(Arc<dyn Store>) -> StoryFuture,
}

/// `story!(name)`: the story `async fn name(s: Arc<dyn Store>)`, run on each backend.
#[macro_export]
macro_rules! story {
    ($name:ident) => {
        $crate::harness::Story {
            module: module_path!(),
            name: stringify!($name),
            run: |s| Box::pin($name(s)),
        }
    };
}

impl Story {
    pub fn trials(&self) -> Vec<Trial> {
        // `module_path!()` starts with the crate: `conformance::users`.
        let module = self.module.split_once("::").map_or(self.module, |(_, m)| m);
        [Backend::Sqlite, Backend::Postgres]
            .into_iter()
            .map(|b| {
                let run = self.run;
                Trial::test(
                    format!("{}::{module}::{}", b.name(), self.name),
                    move || {
                        block_on(async move {
                            let db = Fresh::new(b).await;
                            run(db.store.clone()).await;
                        });
                        Ok(())
                    },
                )
                .with_ignored_flag(b == Backend::Postgres && postgres_url().is_none())
            })
            .collect()
    }
}

fn block_on(f: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(f)
}

pub fn postgres_url() -> Option<String> {
    std::env::var("ORGBASE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh database, migrated; removed when the trial ends (passed or not).
struct Fresh {
    store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Fresh {
    async fn new(backend: Backend) -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let mut opts = ConnectOptions {
            max_connections: Some(2),
            ..Default::default()
        };
        let (url, place) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("orgbase-conformance-{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("store.db").display());
                (url, Place::Sqlite(dir))
            }
            Backend::Postgres => {
                let url = postgres_url().expect("ORGBASE_TEST_POSTGRES_URL is not set");
                let schema = format!("c_{id}");
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&url)
                    .await
                    .expect("connect to the test PostgreSQL");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut c)
                    .await
                    .unwrap();
                opts.pg_schema = Some(schema.clone());
                (url.clone(), Place::Postgres { url, schema })
            }
        };
        let store = orgbase_store::connect(&url, &opts).await.unwrap();
        store.migrate().await.unwrap();
        Self { store, place }
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        match &self.place {
            Place::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Postgres { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                // Drop runs inside the trial's runtime; use a thread with its own.
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

// ---- what stories start from ----

/// The time every story starts at.
pub fn t0() -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000)
}

pub fn user(email: &str) -> User {
    User::new(
        UserId::new(t0()),
        Email::parse(email).unwrap(),
        Name::parse("Someone", "name").unwrap(),
        false,
        t0(),
    )
}

/// An org (every org but the system org has an owner).
pub fn org(slug: &str, owner: UserId) -> Org {
    Org {
        id: OrgId::new(t0()),
        slug: Slug::parse(slug).unwrap(),
        name: slug.to_uppercase(),
        description: String::new(),
        is_system: false,
        status: OrgStatus::Active,
        owner_id: Some(owner),
        default_framework: None,
        default_language_model: None,
        public: false,
        signup_enabled: false,
        signup_key: None,
        signup_role: Role::Viewer,
        config: serde_json::json!({}),
        created_at: t0(),
        updated_at: t0(),
        deleted_at: None,
    }
}

/// Stores a user (without a password) and returns it.
pub async fn stored_user(s: &Arc<dyn Store>, email: &str) -> User {
    let u = user(email);
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_user(&u, None).await.unwrap());
    tx.commit().await.unwrap();
    u
}

/// Stores an org with its default workspace and project; returns all three. Without
/// an owner, one is made (`owner-of-<slug>@example.com`).
pub async fn stored_org(
    s: &Arc<dyn Store>,
    slug: &str,
    owner: Option<UserId>,
) -> (Org, orgbase_domain::Workspace, orgbase_domain::Project) {
    let owner = match owner {
        Some(id) => id,
        None => {
            stored_user(s, &format!("owner-of-{slug}@example.com"))
                .await
                .id
        }
    };
    let o = org(slug, owner);
    let (ws, p) = default_tree(o.id, t0());
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_org(&o).await.unwrap());
    assert!(tx.insert_workspace(&ws).await.unwrap());
    assert!(tx.insert_project(&p).await.unwrap());
    tx.commit().await.unwrap();
    (o, ws, p)
}
