//! Organizations' service keys (SPEC §2): a key acts as a service account of its org,
//! with a role there (at most admin) and optional scopes (`secrets:read`, `check`).
//! People manage them; a service key cannot mint or revoke keys, so a leaked key cannot
//! outlive its revocation through a copy of itself.

use orgbase_domain::{
    ApiKeyId, AuditAction, KeyScope, Name, OrgApiKey, Page, PageRequest, Permission, Role,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{OrgAccess, perm};
use crate::shared::crypto::{TokenKind, key_expiry, new_token};

/// What an admin asks for.
#[derive(Debug, Clone, Default)]
pub struct ServiceKeyInput {
    pub name: String,
    /// `viewer` (default), `editor` or `admin`.
    pub role: Option<String>,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<i64>,
}

pub struct ServiceKeyCreated {
    pub key: OrgApiKey,
    /// Shown once; only its hash is stored.
    pub token: String,
}

pub struct ServiceKeys<'a>(pub(crate) &'a Core);

impl ServiceKeys<'_> {
    pub async fn list(
        &self,
        access: &OrgAccess<perm::ApiKeysManage>,
        page: PageRequest,
    ) -> Result<Page<OrgApiKey>> {
        Ok(self.0.store.org_api_keys_of(access.org().id, page).await?)
    }

    pub async fn create(
        &self,
        access: &OrgAccess<perm::ApiKeysManage>,
        input: ServiceKeyInput,
    ) -> Result<ServiceKeyCreated> {
        let core = self.0;
        people_only(access)?;
        let name = Name::parse(&input.name, "name")?;
        let role = Role::parse_grantable(input.role.as_deref().unwrap_or("viewer"))?;
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        let mut scopes = Vec::new();
        for raw in &input.scopes {
            let scope: KeyScope = raw.parse().map_err(|_| {
                Error::bad_request(
                    "invalid_scope",
                    format!("unknown scope '{raw}'; scopes are secrets:read and check"),
                )
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.contains(&KeyScope::SecretsRead) {
            if !role.allows(Permission::SecretsRead) {
                return Err(Error::bad_request(
                    "invalid_scope",
                    "secrets:read is only for keys with the admin role",
                ));
            }
            // Nobody hands out more than they hold.
            access.require::<perm::SecretsRead>()?;
        }
        let now = core.clock.now();
        let expires_at = key_expiry(now, input.expires_in_days)?;
        let t = new_token(TokenKind::OrgKey)?;
        let key = OrgApiKey {
            id: ApiKeyId::new(now),
            org_id: access.org().id,
            name: name.as_str().to_string(),
            prefix: t.plaintext.chars().take(12).collect(),
            token_hash: t.hash,
            role,
            scopes,
            created_by: access.caller().user_id(),
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        let mut change = core.change(access.audit()).await?;
        change.insert_org_api_key(&key).await?;
        change
            .record(
                Event::new(AuditAction::OrgApiKeyCreate, "org_api_key", key.id)
                    .org(key.org_id)
                    .details(json!({
                        "name": key.name,
                        "prefix": key.prefix,
                        "role": key.role,
                        "scopes": key.scopes_text(),
                    })),
            )
            .await?;
        change.commit().await?;
        Ok(ServiceKeyCreated {
            key,
            token: t.plaintext,
        })
    }

    /// Revokes a key at once: the next request with it is refused.
    pub async fn delete(
        &self,
        access: &OrgAccess<perm::ApiKeysManage>,
        id: ApiKeyId,
    ) -> Result<()> {
        people_only(access)?;
        let org = access.org().id;
        let mut change = self.0.change(access.audit()).await?;
        if !change.delete_org_api_key(org, id).await? {
            return Err(Error::not_found("api_key_not_found", "API key"));
        }
        change
            .record(Event::new(AuditAction::OrgApiKeyDelete, "org_api_key", id).org(org))
            .await?;
        change.commit().await
    }
}

fn people_only(access: &OrgAccess<perm::ApiKeysManage>) -> Result<()> {
    if access.caller().service_key().is_some() {
        return Err(Error::forbidden(
            "service_key_not_allowed",
            "service keys are managed by people, not by other service keys",
        ));
    }
    Ok(())
}
