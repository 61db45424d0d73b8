//! Users, sign-up, login, sessions, passwords and personal API keys.

use orgbase_domain::Slug;
use orgbase_domain::{ApiKeyId, Email, Name, OrgId, Password, SessionId, Timestamp, UserId};
use orgbase_store::{ApiKey, Membership, Org, Page, PageRequest, Session, User};
use serde_json::json;

use crate::audit::{AuditCtx, require_system_admin};
use crate::crypto::{TokenKind, hashes_equal, new_token, token_hash};
use crate::error::{Error, Result};
use crate::ratelimit::Action;
use crate::{Actor, Credential, Origin, Services};

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

/// A user a system admin creates, optionally straight into an org with a role.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub is_system_admin: bool,
    pub org: Option<crate::OrgRef>,
    pub role: Option<String>,
}

/// A system admin's change to a user: only the fields given.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub enabled: Option<bool>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub is_system_admin: Option<bool>,
}

/// An account an org admin creates in their org.
#[derive(Debug, Clone, Default)]
pub struct OrgUserInput {
    pub email: String,
    pub name: String,
    pub role: Option<String>,
    /// Without a password, the answer carries a one-time set-password link.
    pub password: Option<String>,
}

pub struct OrgUserCreated {
    pub user: User,
    pub role: orgbase_domain::Role,
    pub set_password_token: Option<String>,
    pub set_password_url: Option<String>,
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
            _ => return Err(Error::Unauthenticated),
        };
        self.admit(user, credential, origin)
    }

    /// The checks every credential's user passes, on every request: disabled users
    /// stop at once, and the access lists apply (a session opened before a list was
    /// tightened stops too; system admins are exempt, as at login).
    pub(crate) fn admit(
        &self,
        user: User,
        credential: Credential,
        origin: Origin,
    ) -> Result<Actor> {
        if !user.enabled {
            return Err(Error::Unauthenticated);
        }
        if !user.is_system_admin {
            self.cfg.policy.admits(&user.email)?;
        }
        Ok(Actor {
            user,
            credential,
            origin,
        })
    }

    pub async fn login(&self, email: &str, password: &str, origin: Origin) -> Result<LoginResult> {
        let password = Password::for_login(password)?;
        let now = self.clock.now();
        let account = email.trim().to_lowercase();
        self.limiter.check(
            Action::Login,
            origin.client_addr.as_deref(),
            Some(&account),
            now,
        )?;
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
        // The allow and block lists gate login as they gate sign-up; system admins are
        // exempt so that a tightened list cannot lock the operators out.
        if !user.is_system_admin {
            self.cfg.policy.admits(&user.email)?;
        }
        self.limiter.reset(Action::Login, &account);
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
        let placement = match &input.org {
            Some(r) => {
                let org = self
                    .find_org(r)
                    .await?
                    .filter(|o| o.deleted_at.is_none())
                    .ok_or_else(Error::org_not_found)?;
                let role = orgbase_domain::Role::parse_grantable(
                    input.role.as_deref().unwrap_or("viewer"),
                )?;
                Some((org, role))
            }
            None => None,
        };
        let hash = self.hasher.hash(password.expose()).await?;
        let now = self.clock.now();
        let mut user = new_user(
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
        if let Some((org, role)) = placement {
            self.place_user(&mut *tx, ctx, &mut user, org.id, role)
                .await?;
        }
        if user.is_system_admin {
            self.adopt_system_org(&mut *tx, ctx, &user).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Makes a new user a member of an org, which becomes their home org.
    async fn place_user(
        &self,
        tx: &mut dyn orgbase_store::Tx,
        ctx: &AuditCtx,
        user: &mut User,
        org: OrgId,
        role: orgbase_domain::Role,
    ) -> Result<()> {
        let now = self.clock.now();
        tx.lock_org(org).await?;
        let m = crate::orgs::member(
            orgbase_store::Scope::Org(org),
            org,
            user.id,
            role,
            ctx.user,
            now,
        );
        tx.upsert_membership(&m).await?;
        tx.set_home_org(user.id, Some(org), now).await?;
        user.home_org_id = Some(org);
        let details = json!({"scope": "org", "scope_id": org, "user_id": user.id, "role": role});
        tx.insert_audit(&self.event(ctx, Some(org), "member.add", "user", user.id, details))
            .await?;
        Ok(())
    }

    /// An org admin creates an account in their org, for an e-mail of one of the org's
    /// claimed domains (system admins: any e-mail), with a password or a one-time
    /// set-password link.
    pub async fn org_create_user(
        &self,
        access: &crate::OrgAccess<crate::perm::MembersManage>,
        actor: &Actor,
        input: OrgUserInput,
    ) -> Result<OrgUserCreated> {
        let email = Email::parse(&input.email)?;
        let name = Name::parse(&input.name, "name")?;
        let role =
            orgbase_domain::Role::parse_grantable(input.role.as_deref().unwrap_or("viewer"))?;
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        self.cfg.policy.admits(&email)?;
        if !access.system_admin {
            let domains = self.store.domains_of(access.org.id).await?;
            let ok = domains.iter().any(|d| {
                let e = email.domain();
                e == d.domain
                    || e.strip_suffix(d.domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            });
            if !ok {
                return Err(Error::forbidden(
                    "domain_not_claimed",
                    "the e-mail must be in one of the organization's domains",
                ));
            }
        }
        let hash = match &input.password {
            Some(p) => Some(self.hasher.hash(Password::parse(p)?.expose()).await?),
            None => None,
        };
        let now = self.clock.now();
        let mut user = new_user(UserId::new(now), email, name, hash, false, now);
        let ctx = AuditCtx::from(actor);
        let link = if user.password_hash.is_none() {
            Some(new_token(TokenKind::PasswordLink)?)
        } else {
            None
        };
        let mut tx = self.store.begin().await?;
        if !tx.insert_user(&user).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        let details = json!({"email": user.email, "set_password_link": link.is_some()});
        tx.insert_audit(&self.event(
            &ctx,
            Some(access.org.id),
            "user.create",
            "user",
            user.id,
            details,
        ))
        .await?;
        self.place_user(&mut *tx, &ctx, &mut user, access.org.id, role)
            .await?;
        if let Some(t) = &link {
            let pt = orgbase_store::PasswordToken {
                token_hash: t.hash.clone(),
                user_id: user.id,
                created_at: now,
                expires_at: now.plus_seconds(self.cfg.password_link_ttl_secs),
            };
            tx.insert_password_token(&pt).await?;
        }
        tx.commit().await?;
        let token = link.map(|t| t.plaintext);
        let url = token
            .as_ref()
            .map(|t| format!("{}/set-password?token={t}", self.cfg.public_url));
        Ok(OrgUserCreated {
            user,
            role,
            set_password_token: token,
            set_password_url: url,
        })
    }

    /// Sets a password with a one-time link; the link is used up either way.
    pub async fn set_password_with_token(
        &self,
        token: &str,
        password: &str,
        origin: Origin,
    ) -> Result<()> {
        self.limiter.check(
            Action::Invitation,
            origin.client_addr.as_deref(),
            None,
            self.clock.now(),
        )?;
        let password = Password::parse(password)?;
        let hash = self.hasher.hash(password.expose()).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let Some(user) = tx
            .take_password_token(&token_hash(token.trim()), now)
            .await?
        else {
            return Err(Error::not_found(
                "password_link_not_found",
                "set-password link",
            ));
        };
        tx.set_password_hash(user, &hash, now).await?;
        tx.delete_sessions_of(user, None).await?;
        let ctx = AuditCtx {
            user: Some(user),
            api_key: None,
            origin,
        };
        tx.insert_audit(&self.event(&ctx, None, "user.password_set", "user", user, json!({})))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enable or disable, rename, reset the password, grant or drop system admin.
    /// Disabling or resetting ends the user's sessions; a disabled user's API keys stop
    /// working at once because every request reads `enabled`.
    pub async fn admin_update_user(
        &self,
        actor: &Actor,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User> {
        require_system_admin(actor)?;
        self.update_user_as(&actor.into(), Some(actor.user.id), id, patch)
            .await
    }

    pub(crate) async fn update_user_as(
        &self,
        ctx: &AuditCtx,
        me: Option<UserId>,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User> {
        if patch.enabled.is_none()
            && patch.password.is_none()
            && patch.name.is_none()
            && patch.is_system_admin.is_none()
        {
            return Err(Error::bad_request(
                "empty_patch",
                "give at least one field to change",
            ));
        }
        if me == Some(id) && (patch.enabled == Some(false) || patch.is_system_admin == Some(false))
        {
            return Err(Error::conflict(
                "cannot_change_self",
                "you cannot disable or demote yourself",
            ));
        }
        let name = patch
            .name
            .as_deref()
            .map(|n| Name::parse(n, "name"))
            .transpose()?;
        let hash = match &patch.password {
            Some(p) => Some(self.hasher.hash(Password::parse(p)?.expose()).await?),
            None => None,
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut user = tx
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::not_found("user_not_found", "user"))?;
        let mut changed = Vec::new();
        if let Some(e) = patch.enabled
            && e != user.enabled
        {
            user.enabled = e;
            changed.push(if e { "enabled" } else { "disabled" });
        }
        if let Some(a) = patch.is_system_admin
            && a != user.is_system_admin
        {
            user.is_system_admin = a;
            changed.push("is_system_admin");
        }
        if let Some(n) = name {
            user.name = n.as_str().to_string();
            changed.push("name");
        }
        if let Some(h) = hash {
            user.password_hash = Some(h);
            changed.push("password");
        }
        user.updated_at = now;
        tx.update_user(&user).await?;
        if !user.enabled || patch.password.is_some() {
            tx.delete_sessions_of(user.id, None).await?;
            tx.delete_password_tokens_of(user.id).await?;
        }
        tx.insert_audit(&self.event(
            ctx,
            None,
            "user.update",
            "user",
            user.id,
            json!({"changed": changed}),
        ))
        .await?;
        if user.is_system_admin {
            self.adopt_system_org(&mut *tx, ctx, &user).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// `orgbase user enable|disable|reset-password`.
    pub async fn cli_update_user(&self, email: &str, patch: UserPatch) -> Result<User> {
        let user = self
            .user_by_email(email)
            .await?
            .ok_or_else(|| Error::not_found("user_not_found", "user"))?;
        self.update_user_as(&AuditCtx::system(), None, user.id, patch)
            .await
    }

    /// Looks a user up by e-mail (CLI and admin helpers).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.store.user_by_email(&Email::parse(email)?).await?)
    }
}

pub(crate) fn new_user(
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

pub(crate) fn new_session(
    user: UserId,
    now: Timestamp,
    ttl_secs: i64,
) -> Result<(Session, String)> {
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
