//! An organization's configuration document (SPEC §6): read masked, replaced (PUT) or
//! merged (PATCH, RFC 7396), validated on every write. Secrets are sealed with the
//! master key, bound to the org and their place in the document, and never leave the
//! server in the clear here: a read shows `sk-…abcd`, and writing that mask back keeps
//! the stored secret.

use std::collections::BTreeMap;

use orgbase_domain::config::{OrgConfig, is_masked, mask_secret, merge_patch};
use orgbase_domain::{AuditAction, OrgId};
use serde_json::{Value, json};

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{OrgAccess, perm};
use crate::shared::secrets::stored_config;

/// Longest secret accepted (API keys are far shorter).
const MAX_SECRET_LEN: usize = 4096;

/// The org's configuration.
pub struct Configuration<'a>(pub(crate) &'a Core);

/// Where a secret's sealing is bound: the org and the secret's path.
fn context(org: OrgId, path: &str) -> String {
    crate::shared::secrets::config_context(org, path)
}

/// Use of the org against each limit of its configuration (`None`: no limit).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Usage {
    pub members: u64,
    pub max_members: Option<u64>,
    /// Assistants whose home is the org.
    pub assistants: u64,
    pub max_assistants: Option<u64>,
    /// The most assistants one member may own in the org.
    pub max_assistants_per_user: Option<u64>,
}

impl Configuration<'_> {
    /// What the org uses against its limits.
    pub async fn usage(&self, access: &OrgAccess<perm::ConfigManage>) -> Result<Usage> {
        let org = access.org();
        let members = self.0.store.count_active_members(org.id).await?;
        let assistants = self.0.store.count_assistants(org.id).await?;
        let limits = crate::shared::provision::limits_of(org);
        Ok(Usage {
            members: u64::try_from(members).unwrap_or(0),
            max_members: limits.max_members,
            assistants: u64::try_from(assistants).unwrap_or(0),
            max_assistants: limits.max_assistants,
            max_assistants_per_user: limits.max_assistants_per_user,
        })
    }

    /// The document, secrets masked.
    pub async fn get(&self, access: &OrgAccess<perm::ConfigManage>) -> Result<Value> {
        let stored = stored_config(&access.org().config)?;
        Ok(self.masked(access.org().id, stored))
    }

    /// Replaces the document.
    pub async fn put(&self, access: &OrgAccess<perm::ConfigManage>, doc: Value) -> Result<Value> {
        self.write(access, |_| Ok(doc)).await
    }

    /// Merges a JSON merge patch (RFC 7396) into the document as the caller sees it
    /// (masks included, which keep their secrets).
    pub async fn patch(
        &self,
        access: &OrgAccess<perm::ConfigManage>,
        patch: Value,
    ) -> Result<Value> {
        if !patch.is_object() {
            return Err(Error::Unprocessable {
                code: "invalid_config",
                message: "a merge patch of the configuration is a JSON object".into(),
            });
        }
        self.write(access, |current| {
            let mut doc = current;
            merge_patch(&mut doc, &patch);
            Ok(doc)
        })
        .await
    }

    fn masked(&self, org: OrgId, mut config: OrgConfig) -> Value {
        for (path, slot) in config.secrets_mut() {
            if let Some(sealed) = slot.as_deref() {
                let shown = match self.0.secrets.open_for(&context(org, &path), sealed) {
                    Ok(plain) => mask_secret(&plain),
                    Err(_) => "…".to_string(),
                };
                *slot = Some(shown);
            }
        }
        config.to_value()
    }

    /// Reads the stored document under the org's lock, builds the new one from the
    /// caller's view of the current one, validates it, carries masked secrets over,
    /// seals new ones, and stores it with a `config.update` event naming what changed
    /// (never a value of a secret).
    async fn write(
        &self,
        access: &OrgAccess<perm::ConfigManage>,
        build: impl FnOnce(Value) -> Result<Value>,
    ) -> Result<Value> {
        let core = self.0;
        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let mut stored = stored_config(&org.config)?;
        let view = self.masked(org.id, stored.clone());
        let doc = build(view.clone())?;
        let mut next = OrgConfig::parse(&doc).map_err(Error::unprocessable)?;
        if next.inherit_system_providers != stored.inherit_system_providers
            && !access.is_system_admin()
        {
            return Err(Error::forbidden(
                "system_admin_required",
                "only a system admin lets an organization use the server's own providers",
            ));
        }
        let old: BTreeMap<String, Option<String>> = stored
            .secrets_mut()
            .into_iter()
            .map(|(p, s)| (p, s.clone()))
            .collect();
        let mut secrets_changed = Vec::new();
        for (path, slot) in next.secrets_mut() {
            let before = old.get(&path).cloned().flatten();
            let Some(value) = slot.clone() else {
                if before.is_some() {
                    secrets_changed.push(path);
                }
                continue;
            };
            if is_masked(&value) {
                // The mask of the stored secret keeps it; any other mask is refused.
                let keeps = before.as_deref().is_some_and(|sealed| {
                    core.secrets
                        .open_for(&context(org.id, &path), sealed)
                        .is_ok_and(|plain| mask_secret(&plain) == value)
                });
                if !keeps {
                    return Err(Error::Unprocessable {
                        code: "masked_secret_unknown",
                        message: format!(
                            "{path} holds a mask but no such secret is stored; send the secret itself"
                        ),
                    });
                }
                *slot = before;
            } else {
                if value.is_empty() || value.len() > MAX_SECRET_LEN {
                    return Err(Error::Unprocessable {
                        code: "invalid_config",
                        message: format!("{path} must be 1 to {MAX_SECRET_LEN} characters"),
                    });
                }
                *slot = Some(core.secrets.seal_for(&context(org.id, &path), &value)?);
                secrets_changed.push(path);
            }
        }
        let next_value = next.to_value();
        let mut changed: Vec<String> = Vec::new();
        let (a, b) = (view.as_object(), doc.as_object());
        for key in orgbase_domain::config::TOP_LEVEL_KEYS {
            let before = a.and_then(|o| o.get(*key));
            let after = b.and_then(|o| o.get(*key));
            if before != after {
                changed.push((*key).to_string());
            }
        }
        org.config = next_value;
        org.updated_at = core.clock.now();
        change.update_org(&org).await?;
        change
            .record(
                Event::new(AuditAction::ConfigUpdate, "org", org.id)
                    .org(org.id)
                    .details(json!({"changed": changed, "secrets_changed": secrets_changed})),
            )
            .await?;
        change.commit().await?;
        stored = next;
        Ok(self.masked(org.id, stored))
    }
}
