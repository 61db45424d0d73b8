//! The system organization, synced from the environment (SPEC §4): provider settings
//! and defaults. Variables that are set overwrite; unset ones leave stored values alone.

use serde_json::{Value, json};

use crate::audit::{AuditCtx, require_system_admin};
use crate::error::{Error, Result};
use crate::{Actor, Services};

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

impl Services {
    /// Applies the environment captured at start to the system org.
    pub async fn sync_system_org(&self) -> Result<SyncReport> {
        self.sync_system_org_as(&AuditCtx::system()).await
    }

    /// `POST /admin/system/sync`.
    pub async fn admin_sync_system_org(&self, actor: &Actor) -> Result<SyncReport> {
        require_system_admin(actor)?;
        self.sync_system_org_as(&actor.into()).await
    }

    async fn sync_system_org_as(&self, ctx: &AuditCtx) -> Result<SyncReport> {
        let env = &self.system_env;
        let sys = self.ensure_system_org().await?;
        let mut tx = self.store.begin().await?;
        let mut org = tx
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
            let context = format!("{}:providers.openai.api_key", org.id);
            let stored = config["providers"]["openai"]["api_key"]
                .as_str()
                .map(|s| self.secrets.open_for(&context, s));
            if !matches!(stored, Some(Ok(ref v)) if v == key) {
                let sealed = self.secrets.seal_for(&context, key)?;
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
        org.updated_at = self.clock.now();
        tx.update_org(&org).await?;
        tx.insert_audit(&self.event(
            ctx,
            Some(org.id),
            "system.sync",
            "org",
            org.id,
            json!({"changed": changed}),
        ))
        .await?;
        tx.commit().await?;
        Ok(SyncReport { changed })
    }

    /// A provider secret of an org's configuration, opened (for the resolved-config
    /// work; tests use it to check what is stored).
    pub fn open_secret(
        &self,
        org: orgbase_domain::OrgId,
        path: &str,
        sealed: &str,
    ) -> Result<String> {
        self.secrets.open_for(&format!("{org}:{path}"), sealed)
    }
}
