//! The system organization, synced from the environment (SPEC §4): provider settings
//! and defaults. Variables that are set overwrite; unset ones leave stored values alone.

use orgbase_domain::{AuditAction, Email, Name, Org, Password, User, UserId};
use serde_json::{Value, json};

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::sealed::Sealed;
use crate::shared::authz::{Operator, Platform};
use crate::shared::provision::NewOrgInput;

mod purge;
mod rotate;
pub use purge::PurgeReport;
pub(crate) use purge::purge;
pub use rotate::RotationReport;

/// The variables of SPEC §4, as read at start. `None` means unset.
#[derive(Debug, Clone, Default)]
pub struct SystemEnv {
    pub openai_api_key: Option<String>,
    pub openai_base_url: Option<String>,
    /// Comma-separated.
    pub openai_models: Option<String>,
    pub openai_model: Option<String>,
    pub ollama_base_url: Option<String>,
    pub ollama_model: Option<String>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
}

/// What a sync changed: setting names only, never values.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncReport {
    pub changed: Vec<String>,
}

fn set(config: &mut Value, path: &[&str], value: Value) -> bool {
    let mut node = config;
    for key in &path[..path.len() - 1] {
        if !node.get(*key).is_some_and(Value::is_object) {
            node[*key] = json!({});
        }
        node = &mut node[*key];
    }
    let last = path[path.len() - 1];
    if node.get(last) == Some(&value) {
        return false;
    }
    node[last] = value;
    true
}

fn list(csv: &str) -> Value {
    Value::Array(
        csv.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| json!(s))
            .collect(),
    )
}

/// What [`System::bootstrap_admin`] found or did.
#[derive(Debug, Clone)]
pub enum Bootstrap {
    /// No account had the e-mail: a system admin was created with the password.
    Created(User),
    /// The account exists and is a system admin already; nothing was changed.
    AlreadyAdmin(User),
    /// The account exists and is not a system admin; nothing was changed (promoting
    /// it takes the explicit `orgbase admin promote`).
    NotAdmin(User),
    /// No account has the e-mail and no password was given: nothing was created.
    PasswordMissing,
}

/// The system organization and start-up duties.
pub struct System<'a>(pub(crate) &'a Core);

impl System<'_> {
    /// Creates the system organization (slug `system`) if it does not exist yet.
    pub async fn ensure_org(&self, by: &Operator) -> Result<Org> {
        self.ensure(by.audit()).await
    }

    async fn ensure(&self, ctx: AuditCtx) -> Result<Org> {
        let core = self.0;
        if let Some(org) = core.store.system_org().await? {
            return Ok(org);
        }
        let mut change = core.change(ctx).await?;
        if let Some(org) = change.system_org().await? {
            return Ok(org);
        }
        let input = NewOrgInput {
            name: "System".to_string(),
            slug: Some("system".to_string()),
            description: Some("The platform's own organization.".to_string()),
            ..Default::default()
        };
        let org = core.create_org_in(&mut change, None, input, true).await?;
        change.commit().await?;
        Ok(org)
    }

    /// Creates a system admin with this e-mail and password, only when no account has
    /// the e-mail. An existing account is never changed: not its password, and not its
    /// role (promoting is [`System::promote`], an explicit operator command); the
    /// outcome says what was found.
    pub async fn bootstrap_admin(
        &self,
        by: &Operator,
        email: &str,
        password: Option<&str>,
        name: Option<&str>,
    ) -> Result<Bootstrap> {
        let core = self.0;
        let email = Email::parse(email)?;
        if let Some(user) = core.store.user_by_email(&email).await? {
            return Ok(if user.is_system_admin {
                Bootstrap::AlreadyAdmin(user)
            } else {
                Bootstrap::NotAdmin(user)
            });
        }
        let Some(password) = password else {
            return Ok(Bootstrap::PasswordMissing);
        };
        let password = Password::parse(password)?;
        let name = Name::parse(name.unwrap_or("Administrator"), "name")?;
        let hash = core.hasher.hash(password.expose()).await?;
        let now = core.clock.now();
        let user = User::new(UserId::new(now), email, name, true, now);
        let mut change = core.change(by.audit()).await?;
        if !change.insert_user(&user, Some(&hash)).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        change
            .record(
                Event::new(AuditAction::UserCreate, "user", user.id)
                    .details(json!({"email": user.email, "is_system_admin": true})),
            )
            .await?;
        core.adopt_system_org(&mut change, &user).await?;
        change.commit().await?;
        Ok(Bootstrap::Created(user))
    }

    /// Makes an existing account a system admin (`orgbase admin promote`), and the
    /// system org's owner when it has none. Its password is left alone. Returns the
    /// user and whether anything changed (`false`: already a system admin).
    pub async fn promote(&self, by: &Operator, email: &str) -> Result<(User, bool)> {
        let core = self.0;
        let email = Email::parse(email)?;
        let mut change = core.change(by.audit()).await?;
        let Some(mut user) = change.user_by_email(&email).await? else {
            return Err(Error::not_found("user_not_found", "user"));
        };
        if user.is_system_admin {
            return Ok((user, false));
        }
        user.is_system_admin = true;
        user.updated_at = core.clock.now();
        change.update_user(&user).await?;
        change
            .record(
                Event::new(AuditAction::UserPromote, "user", user.id)
                    .details(json!({"email": user.email, "is_system_admin": true})),
            )
            .await?;
        core.adopt_system_org(&mut change, &user).await?;
        change.commit().await?;
        Ok((user, true))
    }

    pub async fn has_admin(&self, _by: &Operator) -> Result<bool> {
        Ok(self.0.store.count_system_admins().await? > 0)
    }

    /// Applies the environment captured at start to the system org
    /// (`POST /admin/system/sync`, and every start).
    pub async fn sync(&self, by: &impl Platform) -> Result<SyncReport> {
        let core = self.0;
        let env = &core.system_env;
        let sys = self.ensure(by.audit()).await?;
        let mut change = core.change(by.audit()).await?;
        let mut org = change
            .lock_org(sys.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let mut changed: Vec<String> = Vec::new();
        let mut config = if org.config.is_object() {
            org.config.clone()
        } else {
            json!({})
        };
        let put = |config: &mut Value, path: &[&str], value: Value, changed: &mut Vec<String>| {
            if set(config, path, value) {
                changed.push(path.join("."));
            }
        };
        if let Some(key) = &env.openai_api_key {
            // Sealing is randomized, so compare with the stored secret opened.
            let context =
                crate::shared::secrets::config_context(org.id, "providers.openai.api_key");
            let stored = config["providers"]["openai"]["api_key"]
                .as_str()
                .map(|s| core.secrets.open_for(&context, s));
            if !matches!(stored, Some(Ok(ref v)) if v == key) {
                let sealed = core.secrets.seal_for(&context, key)?;
                set(
                    &mut config,
                    &["providers", "openai", "api_key"],
                    json!(sealed),
                );
                changed.push("providers.openai.api_key".into());
            }
        }
        if let Some(v) = &env.openai_base_url {
            put(
                &mut config,
                &["providers", "openai", "base_url"],
                json!(v),
                &mut changed,
            );
        }
        if let Some(v) = &env.openai_models {
            put(
                &mut config,
                &["providers", "openai", "models"],
                list(v),
                &mut changed,
            );
        }
        if let Some(v) = &env.openai_model {
            put(
                &mut config,
                &["providers", "openai", "default_model"],
                json!(v),
                &mut changed,
            );
        }
        if let Some(v) = &env.ollama_base_url {
            put(
                &mut config,
                &["providers", "ollama", "base_url"],
                json!(v),
                &mut changed,
            );
        }
        if let Some(v) = &env.ollama_model {
            put(
                &mut config,
                &["providers", "ollama", "models"],
                list(v),
                &mut changed,
            );
            put(
                &mut config,
                &["providers", "ollama", "default_model"],
                json!(v),
                &mut changed,
            );
        }
        if let Some(v) = &env.default_framework
            && org.default_framework.as_deref() != Some(v)
        {
            org.default_framework =
                Some(orgbase_domain::parse_label(v, "ORGBASE_DEFAULT_FRAMEWORK")?);
            changed.push("default_framework".into());
        }
        if let Some(v) = &env.default_language_model
            && org.default_language_model.as_deref() != Some(v)
        {
            org.default_language_model = Some(orgbase_domain::parse_label(
                v,
                "ORGBASE_DEFAULT_LANGUAGE_MODEL",
            )?);
            changed.push("default_language_model".into());
        }
        if changed.is_empty() {
            return Ok(SyncReport::default());
        }
        org.config = config;
        org.updated_at = core.clock.now();
        change.update_org(&org).await?;
        change
            .record(
                Event::new(AuditAction::SystemSync, "org", org.id)
                    .org(org.id)
                    .details(json!({"changed": changed})),
            )
            .await?;
        change.commit().await?;
        Ok(SyncReport { changed })
    }
}
