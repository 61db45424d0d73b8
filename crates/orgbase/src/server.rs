//! Putting the parts together: store, services, router; and serving them.

use std::sync::Arc;

use anyhow::Context;
use orgbase_domain::{Clock, SystemClock};
use orgbase_service::crypto::Hasher;
use orgbase_service::secrets::{MasterKey, SecretBox};
use orgbase_service::{Bootstrap, Mailer, Operator, Parts, Services, Templates};
use orgbase_store::{ConnectOptions, Store};
use tokio::net::TcpListener;

use crate::conn::ConnLimits;
use crate::settings::Settings;
use crate::smtp::Smtp;

/// A ready application: services, the router over them, and what only the binary
/// holds: the store itself (schema dumps, readiness details) and the operator proof.
pub struct App {
    pub services: Services,
    pub operator: Operator,
    pub store: Arc<dyn Store>,
    pub router: axum::Router,
    /// Connection limits for [`serve`].
    pub limits: ConnLimits,
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
    if let Some(email) = &settings.admin_email {
        bootstrap_admin(
            &services,
            &operator,
            email,
            settings.admin_password.as_deref(),
        )
        .await?;
    }
    let trusted_proxies =
        orgbase_http::proxy::ProxyTrust::parse(settings.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("ORGBASE_TRUSTED_PROXIES: {e}"))?;
    let pages = orgbase_web::router(orgbase_web::WebConfig::from_services(services.config()));
    let router = orgbase_http::app_with(
        services.clone(),
        orgbase_http::HttpOptions {
            trusted_proxies,
            request_timeout: settings.request_timeout(),
        },
        pages,
    );
    Ok(App {
        services,
        operator,
        store,
        router,
        limits: settings.conn_limits(),
    })
}

/// ORGBASE_ADMIN_EMAIL at start: creates that system admin when no account has the
/// e-mail, and otherwise changes nothing. An existing account that is not a system admin
/// stops the start: it may have been signed up by anyone, so only the explicit
/// `orgbase admin promote` makes it one.
async fn bootstrap_admin(
    services: &Services,
    operator: &Operator,
    email: &str,
    password: Option<&str>,
) -> anyhow::Result<()> {
    match services
        .system()
        .bootstrap_admin(operator, email, password, None)
        .await
        .context("creating the admin from ORGBASE_ADMIN_EMAIL")?
    {
        Bootstrap::Created(user) => {
            tracing::info!(email = %user.email, "created system admin from ORGBASE_ADMIN_EMAIL");
        }
        Bootstrap::AlreadyAdmin(user) => {
            tracing::info!(
                email = %user.email,
                "ORGBASE_ADMIN_EMAIL names an existing system admin; left unchanged (ORGBASE_ADMIN_PASSWORD is only used to create the account)"
            );
        }
        Bootstrap::NotAdmin(user) => {
            tracing::error!(email = %user.email, "ORGBASE_ADMIN_EMAIL names an existing account that is not a system admin");
            anyhow::bail!(
                "ORGBASE_ADMIN_EMAIL is {email}, an existing account that is not a system admin. \
                 Orgbase does not promote existing accounts at start (anyone may have signed \
                 up with that address). If the account is yours, promote it explicitly with \
                 `orgbase admin promote --email {email}`, or unset ORGBASE_ADMIN_EMAIL.",
                email = user.email
            );
        }
        Bootstrap::PasswordMissing => {
            tracing::warn!(
                email,
                "ORGBASE_ADMIN_EMAIL is set but ORGBASE_ADMIN_PASSWORD is not; no admin was created"
            );
        }
    }
    Ok(())
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
    connect.no_read_cache |= settings.read_cache == "off";
    connect.read_cache_max_age = settings
        .read_cache_max_age_ms
        .map(std::time::Duration::from_millis);
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

/// Starts the purge of organizations past their restore window (SPEC §5), unless
/// `ORGBASE_PURGE_INTERVAL_SECS` is 0.
pub fn start_purge_worker(
    services: &Services,
    settings: &Settings,
) -> Option<tokio::task::JoinHandle<()>> {
    if settings.purge_interval_secs == 0 {
        return None;
    }
    let every = std::time::Duration::from_secs(settings.purge_interval_secs);
    let services = services.clone();
    Some(tokio::spawn(async move {
        services.run_purge_worker(every).await
    }))
}

/// Serves until `shutdown` resolves.
/// Serves until `shutdown` resolves, with the connection limits of the settings
/// (see [`crate::conn`]).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::conn::serve(listener, router, limits, shutdown).await
}

/// A URL without its password, for messages and logs: the password of the user-info
/// part, and the value of any query parameter whose name contains `password` (sqlx and
/// libpq accept `?password=` and `?sslpassword=`), become `***`.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match base.find("://") {
        Some(s) => {
            let rest = &base[s + 3..];
            // The authority ends at the first '/'; its user-info at the last '@'.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            match authority.rfind('@') {
                Some(at) => {
                    let creds = &authority[..at];
                    let user = match creds.split_once(':') {
                        Some((user, _)) => format!("{user}:***"),
                        None => creds.to_string(),
                    };
                    format!("{}://{user}@{}", &base[..s], &rest[at + 1..])
                }
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/orgbase"),
            "postgres://app:***@db:5432/orgbase"
        );
        assert_eq!(
            redact("postgres://app:p@ss@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(
            redact("postgres://db/x?user=app&password=s3cret&sslmode=require"),
            "postgres://db/x?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/x?sslpassword=s3cret"),
            "postgres://db/x?sslpassword=***"
        );
        assert_eq!(redact("sqlite://orgbase.db"), "sqlite://orgbase.db");
        assert_eq!(
            redact("sqlite:///var/lib/a@b/orgbase.db"),
            "sqlite:///var/lib/a@b/orgbase.db"
        );
    }
}
