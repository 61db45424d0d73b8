//! Users, sign-up, login, sessions, passwords and personal API keys.

use orgbase_domain::Slug;
use orgbase_domain::{ApiKeyId, Email, Name, OrgId, Password, SessionId, Timestamp, UserId};
use orgbase_store::{ApiKey, Membership, Org, Page, PageRequest, Session, User};
use serde_json::json;

use crate::audit::{AuditCtx, require_system_admin};
use crate::crypto::{TokenKind, hashes_equal, new_token, token_hash};
use crate::error::{Error, Result};
use crate::orgs::NewOrgInput;
use crate::{Actor, Credential, Origin, Services, SignupMode};

pub struct SignupResult {
    pub user: User,
    pub token: String,
    pub expires_at: Timestamp,
    pub organization: Option<Org>,
}

pub struct LoginResult {
    pub user: User,
    pub token: String,
    pub expires_at: Timestamp,
}

pub struct MeView {
    pub user: User,
    pub memberships: Vec<(Membership, Slug)>,
}

pub struct ApiKeyCreated {
    pub key: ApiKey,
    /// Shown once; only its hash is stored.
    pub token: String,
}

/// A user a system admin creates.
pub struct NewUserInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub is_system_admin: bool,
}

/// API keys may live at most this long when an expiry is asked for.
const MAX_KEY_DAYS: i64 = 3650;

impl Services {
    /// Resolves a bearer token to the user behind it. Disabled users and expired
    /// tokens fail here, on every request, not at the next login.
    pub async fn authenticate(&self, token: &str, origin: Origin) -> Result<Actor> {
        let now = self.clock.now();
        let hash = token_hash(token);
        let (user, credential) = match TokenKind::of(token) {
            Some(TokenKind::Session) => {
                let found = self
                    .store
                    .session_user(&hash, now)
                    .await?
                    .ok_or(Error::Unauthenticated)?;
                if !hashes_equal(&found.token_hash, &hash) {
                    return Err(Error::Unauthenticated);
                }
                (found.user, Credential::Session(found.id))
            }
            Some(TokenKind::ApiKey) => {
                let found = self
                    .store
                    .api_key_user(&hash, now)
                    .await?
                    .ok_or(Error::Unauthenticated)?;
                if !hashes_equal(&found.token_hash, &hash) {
                    return Err(Error::Unauthenticated);
                }
                let (kid, last_used, user) = (found.id, found.last_used_at, found.user);
                // Record use at most once a minute: a write per request would cost more
                // than the look-up itself.
                if last_used.is_none_or(|t| now.as_millis() - t.as_millis() > 60_000) {
                    let store = self.store.clone();
                    tokio::spawn(async move {
                        if let Err(e) = store.touch_api_key(kid, now).await {
                            tracing::warn!(error = %e, "could not record api key use");
                        }
                    });
                }
                (user, Credential::ApiKey(kid))
            }
            None => return Err(Error::Unauthenticated),
        };
        if !user.enabled {
            return Err(Error::Unauthenticated);
        }
        Ok(Actor {
            user,
            credential,
            origin,
        })
    }

    /// Self-service sign-up. In `open` mode the new user gets a personal organization
    /// as its owner; in `restricted` mode sign-up is refused.
    pub async fn signup(
        &self,
        email: &str,
        password: &str,
        name: &str,
        origin: Origin,
    ) -> Result<SignupResult> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let name = Name::parse(name, "name")?;
        if self.cfg.signup_mode != SignupMode::Open {
            return Err(Error::forbidden(
                "signup_closed",
                "self-service sign-up is closed on this server",
            ));
        }
        let hash = self.hasher.hash(password.expose()).await?;
        let now = self.clock.now();
        let mut user = new_user(UserId::new(now), email, name, Some(hash), false, now);
        let session = new_session(user.id, now, self.cfg.session_ttl_secs)?;
        let ctx = AuditCtx {
            user: Some(user.id),
            api_key: None,
            origin,
        };

        let mut tx = self.store.begin().await?;
        if !tx.insert_user(&user).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        tx.insert_audit(&self.event(
            &ctx,
            None,
            "user.signup",
            "user",
            user.id,
            json!({"email": user.email}),
        ))
        .await?;
        let org_input = NewOrgInput {
            name: user.name.clone(),
            ..Default::default()
        };
        let org = self
            .create_org_in(&mut *tx, &ctx, Some(user.id), org_input, false)
            .await?;
        tx.set_home_org(user.id, Some(org.id), now).await?;
        user.home_org_id = Some(org.id);
        tx.insert_session(&session.0).await?;
        tx.commit().await?;
        Ok(SignupResult {
            user,
            token: session.1,
            expires_at: session.0.expires_at,
            organization: Some(org),
        })
    }

    pub async fn login(&self, email: &str, password: &str, origin: Origin) -> Result<LoginResult> {
        let password = Password::for_login(password)?;
        // A malformed e-mail still pays one hash, like an unknown one.
        let user = match Email::parse(email) {
            Ok(e) => self.store.user_by_email(&e).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let ok = self.hasher.verify(password.expose(), stored).await?;
        let user = match user {
            Some(u) if ok => u,
            _ => return Err(Error::BadCredentials),
        };
        if !user.enabled {
            return Err(Error::forbidden(
                "account_disabled",
                "this account is disabled",
            ));
        }
        let now = self.clock.now();
        let (session, token) = new_session(user.id, now, self.cfg.session_ttl_secs)?;
        let ctx = AuditCtx {
            user: Some(user.id),
            api_key: None,
            origin,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_session(&session).await?;
        tx.set_last_login(user.id, now).await?;
        tx.insert_audit(&self.event(&ctx, None, "auth.login", "user", user.id, json!({})))
            .await?;
        tx.commit().await?;
        Ok(LoginResult {
            user: User {
                last_login_at: Some(now),
                ..user
            },
            token,
            expires_at: session.expires_at,
        })
    }

    /// Ends the session the request came with. API keys are revoked by deleting them.
    pub async fn logout(&self, actor: &Actor) -> Result<()> {
        let Credential::Session(sid) = actor.credential else {
            return Err(Error::bad_request(
                "not_a_session",
                "log out with a session token; delete API keys instead",
            ));
        };
        let mut tx = self.store.begin().await?;
        tx.delete_session(sid).await?;
        tx.insert_audit(&self.event(
            &actor.into(),
            None,
            "auth.logout",
            "user",
            actor.user.id,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn me(&self, actor: &Actor) -> Result<MeView> {
        let memberships = self.store.memberships_of(actor.user.id).await?;
        Ok(MeView {
            user: actor.user.clone(),
            memberships,
        })
    }

    /// Changes the caller's password and ends all their other sessions.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let current = Password::for_login(current)?;
        let new = Password::parse(new)?;
        if !self
            .hasher
            .verify(current.expose(), actor.user.password_hash.as_deref())
            .await?
        {
            return Err(Error::forbidden(
                "wrong_password",
                "the current password is wrong",
            ));
        }
        let hash = self.hasher.hash(new.expose()).await?;
        let now = self.clock.now();
        let keep = match actor.credential {
            Credential::Session(s) => Some(s),
            Credential::ApiKey(_) => None,
        };
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(actor.user.id, &hash, now).await?;
        let ended = tx.delete_sessions_of(actor.user.id, keep).await?;
        let ev = self.event(
            &actor.into(),
            None,
            "user.password_change",
            "user",
            actor.user.id,
            json!({"sessions_ended": ended}),
        );
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_api_key(
        &self,
        actor: &Actor,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<ApiKeyCreated> {
        let name = Name::parse(name, "name")?;
        if let Some(d) = expires_in_days
            && !(1..=MAX_KEY_DAYS).contains(&d)
        {
            return Err(Error::bad_request(
                "invalid_expiry",
                format!("expires_in_days must be 1 to {MAX_KEY_DAYS}"),
            ));
        }
        let now = self.clock.now();
        let t = new_token(TokenKind::ApiKey)?;
        let key = ApiKey {
            id: ApiKeyId::new(now),
            user_id: actor.user.id,
            name: name.as_str().to_string(),
            prefix: t.plaintext.chars().take(12).collect(),
            token_hash: t.hash,
            created_at: now,
            expires_at: expires_in_days.map(|d| now.plus_seconds(d * 86_400)),
            last_used_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_api_key(&key).await?;
        let ev = self.event(
            &actor.into(),
            None,
            "api_key.create",
            "api_key",
            key.id,
            json!({"name": key.name, "prefix": key.prefix}),
        );
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        Ok(ApiKeyCreated {
            key,
            token: t.plaintext,
        })
    }

    pub async fn list_api_keys(&self, actor: &Actor, page: PageRequest) -> Result<Page<ApiKey>> {
        Ok(self.store.api_keys_of(actor.user.id, page).await?)
    }

    pub async fn delete_api_key(&self, actor: &Actor, id: ApiKeyId) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !tx.delete_api_key(actor.user.id, id).await? {
            return Err(Error::not_found("api_key_not_found", "API key"));
        }
        tx.insert_audit(&self.event(
            &actor.into(),
            None,
            "api_key.delete",
            "api_key",
            id,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A system admin creates a user (no personal org; they join orgs by membership).
    pub async fn admin_create_user(&self, actor: &Actor, input: NewUserInput) -> Result<User> {
        require_system_admin(actor)?;
        self.create_user(&actor.into(), input).await
    }

    pub async fn admin_list_users(&self, actor: &Actor, page: PageRequest) -> Result<Page<User>> {
        require_system_admin(actor)?;
        Ok(self.store.users(page).await?)
    }

    pub(crate) async fn create_user(&self, ctx: &AuditCtx, input: NewUserInput) -> Result<User> {
        let email = Email::parse(&input.email)?;
        let password = Password::parse(&input.password)?;
        let name = Name::parse(&input.name, "name")?;
        let hash = self.hasher.hash(password.expose()).await?;
        let now = self.clock.now();
        let user = new_user(
            UserId::new(now),
            email,
            name,
            Some(hash),
            input.is_system_admin,
            now,
        );
        let mut tx = self.store.begin().await?;
        if !tx.insert_user(&user).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        let details = json!({"email": user.email, "is_system_admin": user.is_system_admin});
        tx.insert_audit(&self.event(ctx, None, "user.create", "user", user.id, details))
            .await?;
        if user.is_system_admin {
            self.adopt_system_org(&mut *tx, ctx, &user).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Looks a user up by e-mail (CLI and admin helpers).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.store.user_by_email(&Email::parse(email)?).await?)
    }
}

fn new_user(
    id: UserId,
    email: Email,
    name: Name,
    hash: Option<String>,
    admin: bool,
    now: Timestamp,
) -> User {
    User {
        id,
        email,
        name: name.as_str().to_string(),
        password_hash: hash,
        is_system_admin: admin,
        enabled: true,
        home_org_id: None::<OrgId>,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

fn new_session(user: UserId, now: Timestamp, ttl_secs: i64) -> Result<(Session, String)> {
    let t = new_token(TokenKind::Session)?;
    let s = Session {
        id: SessionId::new(now),
        user_id: user,
        token_hash: t.hash,
        created_at: now,
        expires_at: now.plus_seconds(ttl_secs),
    };
    Ok((s, t.plaintext))
}
