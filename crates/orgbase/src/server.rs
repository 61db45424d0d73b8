//! Putting the parts together: store, services, router; and serving them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use orgbase_domain::{Clock, SystemClock};
use orgbase_service::crypto::Hasher;
use orgbase_service::secrets::{MasterKey, SecretBox};
use orgbase_service::{Mailer, Operator, Parts, Services, Templates};
use orgbase_store::{ConnectOptions, Store};
use tokio::net::TcpListener;

use crate::settings::Settings;
use crate::smtp::Smtp;

/// A ready application: services, the router over them, and what only the binary
/// holds: the store itself (schema dumps, readiness details) and the operator proof.
pub struct App {
    pub services: Services,
    pub operator: Operator,
    pub store: Arc<dyn Store>,
    pub router: axum::Router,
}

/// The services without the HTTP layer (CLI commands), with the operator proof.
pub struct Console {
    pub services: Services,
    pub operator: Operator,
    pub store: Arc<dyn Store>,
}

/// Connects, migrates, makes sure the system org exists and creates the first admin
/// from the environment when asked to.
pub async fn build(settings: &Settings, connect: ConnectOptions) -> anyhow::Result<App> {
    build_with_clock(settings, connect, Arc::new(SystemClock)).await
}

/// [`build`] with a chosen clock (tests move time by hand).
pub async fn build_with_clock(
    settings: &Settings,
    connect: ConnectOptions,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<App> {
    let Console {
        services,
        operator,
        store,
    } = console_with_clock(settings, connect, clock).await?;
    let system = services.system();
    system
        .ensure_org(&operator)
        .await
        .context("creating the system organization")?;
    let report = system
        .sync(&operator)
        .await
        .context("syncing the system organization")?;
    if !report.changed.is_empty() {
        tracing::info!(changed = ?report.changed, "system organization synced from the environment");
    }
    if let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) {
        let (user, created) = system
            .bootstrap_admin(&operator, email, password, None)
            .await
            .context("creating the admin from ORGBASE_ADMIN_EMAIL")?;
        if created {
            tracing::info!(email = %user.email, "created system admin from the environment");
        }
    }
    let trusted_proxies =
        orgbase_http::proxy::ProxyTrust::parse(settings.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("ORGBASE_TRUSTED_PROXIES: {e}"))?;
    let router = orgbase_http::app(
        services.clone(),
        orgbase_http::HttpOptions { trusted_proxies },
    );
    Ok(App {
        services,
        operator,
        store,
        router,
    })
}

/// Store and services without the HTTP layer (for CLI commands).
pub async fn console(settings: &Settings, connect: ConnectOptions) -> anyhow::Result<Console> {
    console_with_clock(settings, connect, Arc::new(SystemClock)).await
}

async fn console_with_clock(
    settings: &Settings,
    mut connect: ConnectOptions,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Console> {
    if connect.max_connections.is_none() {
        connect.max_connections = settings.db_max_connections;
    }
    let store = orgbase_store::connect(&settings.database_url, &connect)
        .await
        .with_context(|| format!("opening the database at {}", redact(&settings.database_url)))?;
    let ran = store.migrate().await.context("running migrations")?;
    if ran > 0 {
        tracing::info!(migrations = ran, "database migrated");
    }
    let hasher = Hasher::new(settings.hash_cost(), settings.hash_permits())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secrets = secret_box(settings)?;
    let templates = Templates::load(settings.mail_templates.as_deref())
        .map_err(|e| anyhow::anyhow!("ORGBASE_MAIL_TEMPLATES: {e}"))?;
    let mailer: Option<Arc<dyn Mailer>> = match &settings.smtp_url {
        Some(url) if !url.trim().is_empty() => {
            let Some(from) = settings
                .mail_from
                .as_deref()
                .filter(|f| !f.trim().is_empty())
            else {
                anyhow::bail!("ORGBASE_SMTP_URL is set but ORGBASE_MAIL_FROM is not");
            };
            let timeout = std::time::Duration::from_secs(settings.smtp_timeout_secs.max(1));
            Some(Arc::new(Smtp::new(url.trim(), from, timeout)?))
        }
        _ => None,
    };
    let (services, operator) = Services::new(Parts {
        store: store.clone(),
        clock,
        hasher,
        config: settings.service_config(),
        secrets,
        system_env: settings.system.to_env(),
        rate_limits: settings.rate_limits()?,
        dns: Arc::new(crate::dns::Hickory::new(settings.dns_servers.as_deref())?),
        mailer,
        templates,
        mail: settings.mail_settings(),
    });
    Ok(Console {
        services,
        operator,
        store,
    })
}

/// The key that seals secrets: ORGBASE_MASTER_KEY, else a key file made on first start.
fn secret_box(settings: &Settings) -> anyhow::Result<SecretBox> {
    let key = match &settings.master_key {
        Some(v) => MasterKey::from_env_value(v).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let path = settings.key_file();
            let (key, created) =
                MasterKey::load_or_create(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    "created a new master key file; back it up, and share it (or set ORGBASE_MASTER_KEY) when several nodes use one database"
                );
            }
            key
        }
    };
    Ok(SecretBox::new(&key))
}

/// Starts the mail worker (ADR 0011), or says why mail stays in the outbox.
pub fn start_mail_worker(
    services: &Services,
    settings: &Settings,
) -> Option<tokio::task::JoinHandle<()>> {
    if !services.mail().configured() {
        tracing::warn!(
            "mail is not configured (ORGBASE_SMTP_URL is unset): invitation and password-reset \
             mails stay in the outbox; `orgbase mail outbox` lists them, and the API keeps \
             returning invitation links to admins"
        );
        return None;
    }
    if let Some(url) = &settings.smtp_url {
        tracing::info!(smtp = %redact(url), "mail worker started");
    }
    let services = services.clone();
    Some(tokio::spawn(
        async move { services.run_mail_worker().await },
    ))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
