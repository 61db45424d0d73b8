//! Who gets in and where they land: sign-up (SPEC §4), signup keys, claimed e-mail
//! domains.

use orgbase_domain::email::is_valid_domain;
use orgbase_domain::policy::{
    InvitationFact, JoinTarget, SignupFacts, SignupOutcome, decide_signup,
};
use orgbase_domain::{
    Email, InvalidInput, InvitationStatus, Name, OrgStatus, Password, Role, UserId,
};
use orgbase_store::{Org, OrgDomain, Scope};
use serde_json::json;

use crate::accounts::{SignupResult, new_session, new_user};
use crate::audit::AuditCtx;
use crate::authz::{OrgAccess, perm};
use crate::crypto::{random_hex, token_hash};
use crate::error::{Error, Result};
use crate::orgs::{NewOrgInput, member};
use crate::ratelimit::Action;
use crate::{Actor, Origin, Services};

/// A sign-up request as it arrives.
#[derive(Debug, Clone, Default)]
pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub signup_key: Option<String>,
    pub invitation_token: Option<String>,
}

/// An org's signup settings, as admins see them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignupSettings {
    pub enabled: bool,
    pub key: Option<String>,
    pub default_role: Role,
}

/// `PUT /orgs/{org}/signup`. A missing `key` keeps the current one (or makes one when
/// sign-up is turned on without a key); `rotate` replaces it with a new random key.
#[derive(Debug, Clone, Default)]
pub struct SignupSettingsInput {
    pub enabled: bool,
    pub key: Option<String>,
    pub rotate: bool,
    pub default_role: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DomainInput {
    pub domain: String,
    pub auto_join: Option<bool>,
    pub role: Option<String>,
}

/// Signup keys: 8 to 64 of `[A-Za-z0-9_-]`.
fn parse_signup_key(raw: &str) -> Result<String> {
    let ok = (8..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(InvalidInput::new(
            "invalid_signup_key_format",
            "key",
            "a signup key is 8 to 64 of A-Z, a-z, 0-9, '-' and '_'",
        )
        .into());
    }
    Ok(raw.to_string())
}

/// A domain as admins type it: trimmed, lower-cased, without a leading '@'.
pub fn parse_domain(raw: &str) -> Result<String> {
    let d = raw.trim().trim_start_matches('@').to_lowercase();
    if !is_valid_domain(&d) {
        return Err(InvalidInput::new(
            "invalid_domain",
            "domain",
            "give a domain such as aarhus.dk",
        )
        .into());
    }
    Ok(d)
}

fn live(org: &Org) -> bool {
    org.deleted_at.is_none() && org.status == OrgStatus::Active
}

impl Services {
    /// Self-service sign-up: gathers the facts the request names, asks the pure
    /// decision of SPEC §4, and carries out its answer in one transaction.
    pub async fn signup(&self, input: SignupInput, origin: Origin) -> Result<SignupResult> {
        let email = Email::parse(&input.email)?;
        let password = Password::parse(&input.password)?;
        let name = Name::parse(&input.name, "name")?;
        let now = self.clock.now();
        let client = origin.client_addr.as_deref();
        self.limiter
            .check(Action::Signup, client, Some(email.as_str()), now)?;
        if input.signup_key.is_some() {
            self.limiter
                .check(Action::SignupKey, client, Some(email.as_str()), now)?;
        }

        let invitation = match &input.invitation_token {
            Some(t) => Some(
                self.store
                    .invitation_by_token(&token_hash(t.trim()))
                    .await?,
            ),
            None => None,
        };
        let invitation_fact = invitation.as_ref().map(|found| match found {
            None => InvitationFact::NotFound,
            Some(i) => invitation_fact(i, &email, now),
        });
        let signup_key = match &input.signup_key {
            Some(k) => Some(self.key_target(k).await?),
            None => None,
        };
        let claimed_domain = self.domain_target(&email).await?;
        let facts = SignupFacts {
            invitation: invitation_fact,
            signup_key,
            claimed_domain,
        };
        let outcome = decide_signup(&self.cfg.policy, &email, &facts)?;

        let hash = self.hasher.hash(password.expose()).await?;
        let mut user = new_user(UserId::new(now), email, name, Some(hash), false, now);
        let (session, token) = new_session(user.id, now, self.cfg.session_ttl_secs)?;
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
        let via = match outcome {
            SignupOutcome::Invitation => "invitation",
            SignupOutcome::SignupKey(_) => "signup_key",
            SignupOutcome::ClaimedDomain(_) => "domain",
            SignupOutcome::PersonalOrg => "open",
            SignupOutcome::OrgLess => "open_orgless",
        };
        let details = json!({"email": user.email, "via": via});
        tx.insert_audit(&self.event(&ctx, None, "user.signup", "user", user.id, details))
            .await?;
        let home: Option<Org> = match outcome {
            SignupOutcome::Invitation => {
                let inv = invitation
                    .flatten()
                    .ok_or_else(|| Error::Internal("invitation vanished".into()))?;
                Some(self.accept_in(&mut *tx, &ctx, &inv, &user).await?)
            }
            SignupOutcome::SignupKey(t) | SignupOutcome::ClaimedDomain(t) => {
                let org = tx.lock_org(t.org).await?.ok_or_else(Error::org_not_found)?;
                tx.upsert_membership(&member(
                    Scope::Org(org.id),
                    org.id,
                    user.id,
                    t.role,
                    None,
                    now,
                ))
                .await?;
                let details = json!({"scope": "org", "scope_id": org.id, "user_id": user.id, "role": t.role, "via": via});
                tx.insert_audit(&self.event(
                    &ctx,
                    Some(org.id),
                    "member.join",
                    "user",
                    user.id,
                    details,
                ))
                .await?;
                Some(org)
            }
            SignupOutcome::PersonalOrg => {
                let input = NewOrgInput {
                    name: user.name.clone(),
                    ..Default::default()
                };
                Some(
                    self.create_org_in(&mut *tx, &ctx, Some(user.id), input, false)
                        .await?,
                )
            }
            SignupOutcome::OrgLess => None,
        };
        if let Some(org) = &home {
            tx.set_home_org(user.id, Some(org.id), now).await?;
            user.home_org_id = Some(org.id);
        }
        tx.insert_session(&session).await?;
        tx.commit().await?;
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
        if parse_signup_key(key).is_err() {
            return Ok(None);
        }
        Ok(self
            .store
            .org_by_signup_key(key)
            .await?
            .filter(|o| o.signup_enabled && live(o))
            .map(|o| JoinTarget {
                org: o.id,
                role: o.signup_role,
            }))
    }

    /// The org that claims the e-mail's domain (or its nearest parent domain) with
    /// auto-join on.
    async fn domain_target(&self, email: &Email) -> Result<Option<JoinTarget>> {
        let mut domain = email.domain();
        loop {
            if let Some(claim) = self.store.domain(domain).await? {
                if !claim.auto_join {
                    return Ok(None);
                }
                let org = self.store.org_by_id(claim.org_id).await?;
                return Ok(org.filter(live).map(|o| JoinTarget {
                    org: o.id,
                    role: claim.role,
                }));
            }
            match domain.split_once('.') {
                Some((_, parent)) if parent.contains('.') => domain = parent,
                _ => return Ok(None),
            }
        }
    }

    pub async fn signup_settings(
        &self,
        access: &OrgAccess<perm::SignupManage>,
    ) -> Result<SignupSettings> {
        let o = &access.org;
        Ok(SignupSettings {
            enabled: o.signup_enabled,
            key: o.signup_key.clone(),
            default_role: o.signup_role,
        })
    }

    pub async fn set_signup_settings(
        &self,
        access: &OrgAccess<perm::SignupManage>,
        actor: &Actor,
        input: SignupSettingsInput,
    ) -> Result<SignupSettings> {
        let key = input.key.as_deref().map(parse_signup_key).transpose()?;
        let role = input
            .default_role
            .as_deref()
            .map(Role::parse_grantable)
            .transpose()?;
        let mut tx = self.store.begin().await?;
        let mut org = tx
            .lock_org(access.org.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let before_key = org.signup_key.clone();
        if input.rotate || (input.enabled && key.is_none() && org.signup_key.is_none()) {
            org.signup_key = Some(random_hex(16)?);
        } else if let Some(k) = key
            && org.signup_key.as_deref() != Some(k.as_str())
        {
            if tx
                .org_by_signup_key(&k)
                .await?
                .is_some_and(|other| other.id != org.id)
            {
                return Err(Error::conflict(
                    "signup_key_taken",
                    "choose another signup key",
                ));
            }
            org.signup_key = Some(k);
        }
        org.signup_enabled = input.enabled;
        if let Some(r) = role {
            org.signup_role = r;
        }
        org.updated_at = self.clock.now();
        tx.update_org(&org).await.map_err(|e| match e {
            orgbase_store::StoreError::Conflict(_) => {
                Error::conflict("signup_key_taken", "choose another signup key")
            }
            other => other.into(),
        })?;
        // The key itself is a secret: the audit says that it changed, not what it is.
        let details = json!({"enabled": org.signup_enabled, "default_role": org.signup_role,
                             "key_changed": before_key != org.signup_key});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(org.id),
            "signup.update",
            "org",
            org.id,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(SignupSettings {
            enabled: org.signup_enabled,
            key: org.signup_key,
            default_role: org.signup_role,
        })
    }

    pub async fn list_domains(&self, access: &OrgAccess<perm::OrgRead>) -> Result<Vec<OrgDomain>> {
        Ok(self.store.domains_of(access.org.id).await?)
    }

    pub async fn add_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        actor: &Actor,
        input: DomainInput,
    ) -> Result<OrgDomain> {
        let domain = parse_domain(&input.domain)?;
        let role = input
            .role
            .as_deref()
            .map(Role::parse_grantable)
            .transpose()?
            .unwrap_or(Role::Viewer);
        let d = OrgDomain {
            domain,
            org_id: access.org.id,
            auto_join: input.auto_join.unwrap_or(true),
            role,
            created_at: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        if !tx.insert_domain(&d).await? {
            return Err(Error::conflict(
                "domain_taken",
                "this domain is claimed by an organization already",
            ));
        }
        let details = json!({"domain": d.domain, "auto_join": d.auto_join, "role": d.role});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(d.org_id),
            "domain.add",
            "domain",
            &d.domain,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn remove_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        actor: &Actor,
        domain: &str,
    ) -> Result<()> {
        let domain =
            parse_domain(domain).map_err(|_| Error::not_found("domain_not_found", "domain"))?;
        let mut tx = self.store.begin().await?;
        if !tx.delete_domain(access.org.id, &domain).await? {
            return Err(Error::not_found("domain_not_found", "domain"));
        }
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(access.org.id),
            "domain.remove",
            "domain",
            &domain,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What an invitation found by its token means for this e-mail now.
pub(crate) fn invitation_fact(
    i: &orgbase_store::Invitation,
    email: &Email,
    now: orgbase_domain::Timestamp,
) -> InvitationFact {
    match i.status {
        InvitationStatus::Accepted | InvitationStatus::Declined => InvitationFact::Used,
        InvitationStatus::Revoked => InvitationFact::NotFound,
        InvitationStatus::Expired => InvitationFact::Expired,
        InvitationStatus::Pending if i.expires_at <= now => InvitationFact::Expired,
        InvitationStatus::Pending => InvitationFact::Pending {
            email_matches: &i.email == email,
        },
    }
}
