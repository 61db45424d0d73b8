//! The caller's own account: who they are, their password, their personal API keys.

use orgbase_domain::{
    ApiKey, ApiKeyId, AuditAction, Membership, Name, Page, PageRequest, Password, Slug, User,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{Actor, Credential};
use crate::shared::crypto::{TokenKind, key_expiry, new_token};
use crate::shared::ratelimit::Action;

pub struct MeView {
    pub user: User,
    pub memberships: Vec<(Membership, Slug)>,
}

pub struct ApiKeyCreated {
    pub key: ApiKey,
    /// Shown once; only its hash is stored.
    pub token: String,
}

/// The caller's own account. Every use case takes the authenticated [`Actor`].
pub struct Me<'a>(pub(crate) &'a Core);

impl Me<'_> {
    pub async fn show(&self, actor: &Actor) -> Result<MeView> {
        let memberships = self.0.store.memberships_of(actor.id()).await?;
        Ok(MeView {
            user: actor.user().clone(),
            memberships,
        })
    }

    /// Mails the caller a new link that proves their address (none when it is proven).
    /// Limited like password-reset mails: per address and per client.
    pub async fn resend_verification(&self, actor: &Actor) -> Result<()> {
        let core = self.0;
        let user = actor.user();
        if user.email_verified() {
            return Err(Error::conflict(
                "email_already_verified",
                "your address is verified already",
            ));
        }
        core.limiter.check(
            Action::PasswordReset,
            actor.origin().client_addr.as_deref(),
            Some(user.email.as_str()),
            core.clock.now(),
        )?;
        let org_name = match user.home_org_id {
            Some(o) => core.store.org_by_id(o).await?.map(|o| o.name),
            None => None,
        };
        let mut change = core.change(actor.into()).await?;
        core.queue_email_verification(&mut change, user, org_name)
            .await?;
        change
            .record(
                Event::new(AuditAction::UserVerifyEmailRequest, "user", user.id)
                    .details(json!({"email": user.email})),
            )
            .await?;
        change.commit().await
    }

    /// Renames the caller.
    pub async fn rename(&self, actor: &Actor, name: &str) -> Result<User> {
        let name = Name::parse(name, "name")?;
        let mut change = self.0.change(actor.into()).await?;
        let mut user = change
            .user_by_id(actor.id())
            .await?
            .ok_or(Error::Unauthenticated)?;
        user.name = name.as_str().to_string();
        user.updated_at = self.0.clock.now();
        change.update_user(&user).await?;
        change
            .record(
                Event::new(AuditAction::UserUpdate, "user", user.id)
                    .details(json!({"changed": ["name"]})),
            )
            .await?;
        change.commit().await?;
        Ok(user)
    }

    /// Changes the caller's password and ends all their other sessions.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let core = self.0;
        let current = Password::for_login(current)?;
        let new = Password::parse(new)?;
        // Guessing the current password with a stolen session or key is limited per
        // account, whatever address it comes from.
        let account = actor.id().0.to_string();
        core.limiter.check(
            Action::PasswordCheck,
            actor.origin().client_addr.as_deref(),
            Some(&account),
            core.clock.now(),
        )?;
        let stored = core.store.password_hash(actor.id()).await?;
        if !core
            .hasher
            .verify(current.expose(), stored.as_ref())
            .await?
        {
            return Err(Error::forbidden(
                "wrong_password",
                "the current password is wrong",
            ));
        }
        core.limiter.reset(Action::PasswordCheck, &account);
        let hash = core.hasher.hash(new.expose()).await?;
        let now = core.clock.now();
        let keep = match actor.credential() {
            Credential::Session(s) => Some(s),
            Credential::ApiKey(_) => None,
        };
        let mut change = core.change(actor.into()).await?;
        change.set_password_hash(actor.id(), &hash, now).await?;
        let ended = change.delete_sessions_of(actor.id(), keep).await?;
        change
            .record(
                Event::new(AuditAction::UserPasswordChange, "user", actor.id())
                    .details(json!({"sessions_ended": ended})),
            )
            .await?;
        change.commit().await
    }

    pub async fn create_api_key(
        &self,
        actor: &Actor,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<ApiKeyCreated> {
        let name = Name::parse(name, "name")?;
        let now = self.0.clock.now();
        let expires_at = key_expiry(now, expires_in_days)?;
        let t = new_token(TokenKind::ApiKey)?;
        let key = ApiKey {
            id: ApiKeyId::new(now),
            user_id: actor.id(),
            name: name.as_str().to_string(),
            prefix: t.plaintext.chars().take(12).collect(),
            token_hash: t.hash,
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        let mut change = self.0.change(actor.into()).await?;
        change.insert_api_key(&key).await?;
        change
            .record(
                Event::new(AuditAction::ApiKeyCreate, "api_key", key.id)
                    .details(json!({"name": key.name, "prefix": key.prefix})),
            )
            .await?;
        change.commit().await?;
        Ok(ApiKeyCreated {
            key,
            token: t.plaintext,
        })
    }

    pub async fn api_keys(&self, actor: &Actor, page: PageRequest) -> Result<Page<ApiKey>> {
        Ok(self.0.store.api_keys_of(actor.id(), page).await?)
    }

    pub async fn delete_api_key(&self, actor: &Actor, id: ApiKeyId) -> Result<()> {
        let mut change = self.0.change(actor.into()).await?;
        if !change.delete_api_key(actor.id(), id).await? {
            return Err(Error::not_found("api_key_not_found", "API key"));
        }
        change
            .record(Event::new(AuditAction::ApiKeyDelete, "api_key", id))
            .await?;
        change.commit().await
    }
}
