//! Accounts: sign-up (SPEC §4), login, logout, password reset and one-time
//! set-password links.

use orgbase_domain::policy::{
    InvitationFact, JoinTarget, SignupFacts, SignupOutcome, decide_signup,
};
use orgbase_domain::{
    AuditAction, Email, MailKind, Name, Org, Password, PasswordToken, Timestamp, User, UserId,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::{Actor, Credential, Origin};
use crate::shared::crypto::{TokenKind, new_token, token_hash};
use crate::shared::mail::MailOut;
use crate::shared::provision::NewOrgInput;
use crate::shared::ratelimit::Action;

/// A sign-up request as it arrives.
#[derive(Debug, Clone, Default)]
pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub signup_key: Option<String>,
    pub invitation_token: Option<String>,
}

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

/// Sign-up, login, logout, one-time password links.
pub struct Accounts<'a>(pub(crate) &'a Core);

impl Accounts<'_> {
    /// Self-service sign-up: gathers the facts the request names, asks the pure
    /// decision of SPEC §4, and carries out its answer in one transaction.
    pub async fn signup(&self, input: SignupInput, origin: Origin) -> Result<SignupResult> {
        let core = self.0;
        let email = Email::parse(&input.email)?;
        let password = Password::parse(&input.password)?;
        let name = Name::parse(&input.name, "name")?;
        let now = core.clock.now();
        let client = origin.client_addr.as_deref();
        core.limiter
            .check(Action::Signup, client, Some(email.as_str()), now)?;
        if input.signup_key.is_some() {
            core.limiter
                .check(Action::SignupKey, client, Some(email.as_str()), now)?;
        }

        let invitation = match &input.invitation_token {
            Some(t) => Some(
                core.store
                    .invitation_by_token(&token_hash(t.trim()))
                    .await?,
            ),
            None => None,
        };
        let invitation_fact = invitation.as_ref().map(|found| match found {
            None => InvitationFact::NotFound,
            Some(i) => i.fact(&email, now),
        });
        let signup_key = match &input.signup_key {
            Some(k) => Some(self.key_target(k).await?),
            None => None,
        };
        let claimed_domain = core.domain_target(&email).await?;
        let facts = SignupFacts {
            invitation: invitation_fact,
            signup_key,
            claimed_domain,
        };
        let outcome = decide_signup(&core.cfg.policy, &email, &facts)?;

        let hash = core.hasher.hash(password.expose()).await?;
        let mut user = User::new(UserId::new(now), email, name, false, now);
        // An invitation mailed to this address, and shown to nobody else, proves it.
        let mailed_only = invitation
            .as_ref()
            .and_then(Option::as_ref)
            .is_some_and(|i| !i.link_shown);
        if matches!(outcome, SignupOutcome::Invitation) && mailed_only {
            user.email_verified_at = Some(now);
        }
        let (session, token) = core.new_session(user.id, now)?;

        let mut change = core.change(AuditCtx::user(user.id, origin)).await?;
        if !change.insert_user(&user, Some(&hash)).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        let via = match outcome {
            SignupOutcome::Invitation => "invitation",
            SignupOutcome::SignupKey(_) => "signup_key",
            SignupOutcome::ClaimedDomain(_) => "domain",
            SignupOutcome::PersonalOrg => "open",
            SignupOutcome::OrgLess => "open_orgless",
        };
        change
            .record(
                Event::new(AuditAction::UserSignup, "user", user.id)
                    .details(json!({"email": user.email, "via": via})),
            )
            .await?;
        let home: Option<Org> = match outcome {
            SignupOutcome::Invitation => {
                let inv = invitation
                    .flatten()
                    .ok_or_else(|| Error::Internal("invitation vanished".into()))?;
                Some(core.accept_invitation_in(&mut change, &inv, &user).await?)
            }
            // The domain's org takes the user in once they prove the address
            // (`verify_email`): until then nobody has shown the mailbox is theirs.
            SignupOutcome::ClaimedDomain(_) => None,
            SignupOutcome::SignupKey(t) => Some(
                core.join_org(
                    &mut change,
                    user.id,
                    t.org,
                    t.role,
                    AuditAction::MemberJoin,
                    Some(via),
                )
                .await?,
            ),
            SignupOutcome::PersonalOrg => {
                let input = NewOrgInput {
                    name: user.name.clone(),
                    ..Default::default()
                };
                Some(
                    core.create_org_in(&mut change, Some(user.id), input, false)
                        .await?,
                )
            }
            SignupOutcome::OrgLess => None,
        };
        if let Some(org) = &home {
            change.set_home_org(user.id, Some(org.id), now).await?;
            user.home_org_id = Some(org.id);
        }
        if !user.email_verified() {
            let org_name = home.as_ref().map(|o| o.name.clone());
            core.queue_email_verification(&mut change, &user, org_name)
                .await?;
        }
        change.insert_session(&session).await?;
        change.commit().await?;
        Ok(SignupResult {
            user,
            token,
            expires_at: session.expires_at,
            organization: home,
        })
    }

    /// The org a signup key opens, or `None` for unknown, malformed and disabled keys
    /// and keys of inactive orgs alike.
    async fn key_target(&self, key: &str) -> Result<Option<JoinTarget>> {
        if orgbase_domain::text::parse_signup_key(key).is_err() {
            return Ok(None);
        }
        Ok(self
            .0
            .store
            .org_by_signup_key(key)
            .await?
            .filter(Org::accepts_signup_key)
            .map(|o| JoinTarget {
                org: o.id,
                role: o.signup_role,
            }))
    }

    /// Proves an address with the one-time link mailed to it; the user joins the org
    /// that proved their domain if they belong to none. The user and that org.
    pub async fn verify_email(&self, token: &str, origin: Origin) -> Result<(User, Option<Org>)> {
        let core = self.0;
        let now = core.clock.now();
        core.limiter
            .check(Action::Invitation, origin.client_addr.as_deref(), None, now)?;
        let invalid = || Error::not_found("verification_link_not_found", "verification link");
        let mut change = core.change(AuditCtx::anonymous(origin)).await?;
        let (user_id, email) = change
            .take_email_token(&token_hash(token.trim()), now)
            .await?
            .ok_or_else(invalid)?;
        let mut user = change.user_by_id(user_id).await?.ok_or_else(invalid)?;
        if user.email != email || !user.enabled {
            return Err(invalid());
        }
        change.set_actor(user.id);
        if user.email_verified() {
            // Used up; nothing else to record.
            change
                .record(
                    Event::new(AuditAction::UserVerifyEmail, "user", user.id)
                        .details(json!({"email": user.email, "by": "link", "already": true})),
                )
                .await?;
            change.commit().await?;
            return Ok((user, None));
        }
        let org = core.email_proven(&mut change, &mut user, "link").await?;
        change.commit().await?;
        Ok((user, org))
    }

    pub async fn login(&self, email: &str, password: &str, origin: Origin) -> Result<LoginResult> {
        let core = self.0;
        let password = Password::for_login(password)?;
        let now = core.clock.now();
        let account = email.trim().to_lowercase();
        core.limiter.check(
            Action::Login,
            origin.client_addr.as_deref(),
            Some(&account),
            now,
        )?;
        // A malformed e-mail still pays one hash, like an unknown one.
        let found = match Email::parse(email) {
            Ok(e) => core.store.credentials_by_email(&e).await?,
            Err(_) => None,
        };
        let stored = found.as_ref().and_then(|(_, hash)| hash.as_ref());
        let ok = core.hasher.verify(password.expose(), stored).await?;
        let user = match found {
            Some((u, _)) if ok => u,
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
            core.cfg.policy.admits(&user.email)?;
        }
        core.limiter
            .succeeded(Action::Login, &account, origin.client_addr.as_deref(), now);
        let (session, token) = core.new_session(user.id, now)?;
        let mut change = core.change(AuditCtx::user(user.id, origin)).await?;
        change.insert_session(&session).await?;
        change.set_last_login(user.id, now).await?;
        change
            .record(Event::new(AuditAction::AuthLogin, "user", user.id))
            .await?;
        change.commit().await?;
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
        let Credential::Session(sid) = actor.credential() else {
            return Err(Error::bad_request(
                "not_a_session",
                "log out with a session token; delete API keys instead",
            ));
        };
        let mut change = self.0.change(actor.into()).await?;
        change.delete_session(sid).await?;
        change
            .record(Event::new(AuditAction::AuthLogout, "user", actor.id()))
            .await?;
        change.commit().await
    }

    /// Self-service password reset (SPEC §4): queues a mail with a one-time
    /// set-password link (1 h) to the account of `email`, if there is an enabled one.
    /// The caller learns nothing either way: the answer, and the rate limits (by client
    /// and by the address asked for), are the same for unknown addresses.
    pub async fn request_password_reset(&self, email: &str, origin: Origin) -> Result<()> {
        let core = self.0;
        let now = core.clock.now();
        let email = Email::parse(email)?;
        core.limiter.check(
            Action::PasswordReset,
            origin.client_addr.as_deref(),
            Some(email.as_str()),
            now,
        )?;
        let Some(user) = core.store.user_by_email(&email).await? else {
            return Ok(());
        };
        if !user.enabled {
            return Ok(());
        }
        let org_name = match user.home_org_id {
            Some(o) => core.store.org_by_id(o).await?.map(|o| o.name),
            None => None,
        };
        let t = new_token(TokenKind::PasswordLink)?;
        let expires_at = now.plus_seconds(core.cfg.password_reset_ttl_secs);
        let mut change = core.change(AuditCtx::anonymous(origin)).await?;
        change
            .insert_password_token(&PasswordToken {
                token_hash: t.hash,
                user_id: user.id,
                mailed: true,
                created_at: now,
                expires_at,
            })
            .await?;
        change
            .enqueue_mail(MailOut {
                kind: MailKind::PasswordReset,
                to: user.email.clone(),
                org_name,
                link: format!("{}/set-password?token={}", core.cfg.public_url, t.plaintext),
                expires_at,
            })
            .await?;
        change
            .record(Event::new(
                AuditAction::UserPasswordResetRequest,
                "user",
                user.id,
            ))
            .await?;
        change.commit().await
    }

    /// Sets a password with a one-time link; the link is used up either way.
    pub async fn set_password_with_token(
        &self,
        token: &str,
        password: &str,
        origin: Origin,
    ) -> Result<()> {
        let core = self.0;
        core.limiter.check(
            Action::Invitation,
            origin.client_addr.as_deref(),
            None,
            core.clock.now(),
        )?;
        let password = Password::parse(password)?;
        let hash = core.hasher.hash(password.expose()).await?;
        let now = core.clock.now();
        let mut change = core.change(AuditCtx::anonymous(origin)).await?;
        let Some((user, mailed)) = change
            .take_password_token(&token_hash(token.trim()), now)
            .await?
        else {
            return Err(Error::not_found(
                "password_link_not_found",
                "set-password link",
            ));
        };
        change.set_password_hash(user, &hash, now).await?;
        // Every session and personal API key ends: whoever held one (perhaps the reason
        // for a reset, say someone who signed up with this address first) is out.
        change.delete_sessions_of(user, None).await?;
        change.delete_api_keys_of(user).await?;
        change.set_actor(user);
        // A link mailed to the address (a reset) proves the address; one handed to an
        // admin (`POST /orgs/{org}/users` without a password) proves nothing.
        if mailed
            && let Some(mut u) = change.user_by_id(user).await?
            && !u.email_verified()
        {
            core.email_proven(&mut change, &mut u, "password_reset")
                .await?;
        }
        change
            .record(Event::new(AuditAction::UserPasswordSet, "user", user))
            .await?;
        change.commit().await
    }
}
