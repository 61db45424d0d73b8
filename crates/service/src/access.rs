//! Who gets into an organization: its signup settings, its claimed e-mail domains, and
//! accounts its admins create directly.

use orgbase_domain::email::{domain_parents, is_public_email_domain, is_valid_domain};
use orgbase_domain::text::parse_signup_key;
use orgbase_domain::{
    AuditAction, DomainStatus, Email, InvalidInput, Name, OrgDomain, OrgId, Password,
    PasswordToken, Role, User, UserId,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{OrgAccess, OrgRef, Platform, perm};
use crate::shared::crypto::{TokenKind, new_token, random_hex};
use crate::shared::ratelimit::Action;

mod import;
pub use import::{
    ImportOutcome, ImportPhase, ImportProgress, ImportReport, ImportRow, ImportTotals,
    MAX_IMPORT_ROWS,
};

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
    pub role: Role,
    pub set_password_token: Option<String>,
    pub set_password_url: Option<String>,
}

/// A domain as admins type it: trimmed, lower-cased, without a leading '@'.
fn parse_domain(raw: &str) -> Result<String> {
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

/// Refuses a claim under a domain another org has proven (`it.aarhus.dk` when another
/// org owns `aarhus.dk`): its users belong to that org unless a system admin decides
/// otherwise.
async fn refuse_under_foreign_claim(
    store: &(impl orgbase_store::AccessReads + ?Sized),
    d: &OrgDomain,
) -> Result<()> {
    for parent in domain_parents(&d.domain).skip(1) {
        if let Some(owner) = store.verified_domain(parent).await?
            && owner.org_id != d.org_id
        {
            return Err(Error::conflict(
                "parent_domain_claimed",
                format!("{parent} belongs to another organization; ask a system admin"),
            ));
        }
    }
    if let Some(owner) = store.verified_domain(&d.domain).await?
        && owner.org_id != d.org_id
    {
        return Err(Error::conflict(
            "domain_taken",
            "another organization has proven this domain",
        ));
    }
    Ok(())
}

/// Signup settings, claimed domains, accounts made by org admins.
pub struct Access<'a>(pub(crate) &'a Core);

impl Access<'_> {
    pub fn signup_settings(&self, access: &OrgAccess<perm::SignupManage>) -> SignupSettings {
        let o = access.org();
        SignupSettings {
            enabled: o.signup_enabled,
            key: o.signup_key.clone(),
            default_role: o.signup_role,
        }
    }

    pub async fn set_signup_settings(
        &self,
        access: &OrgAccess<perm::SignupManage>,
        input: SignupSettingsInput,
    ) -> Result<SignupSettings> {
        let core = self.0;
        let key = input.key.as_deref().map(parse_signup_key).transpose()?;
        let role = input
            .default_role
            .as_deref()
            .map(Role::parse_grantable)
            .transpose()?;
        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let before_key = org.signup_key.clone();
        if input.rotate || (input.enabled && key.is_none() && org.signup_key.is_none()) {
            org.signup_key = Some(random_hex(16)?);
        } else if let Some(k) = key
            && org.signup_key.as_deref() != Some(k.as_str())
        {
            // "Taken" tells that another org uses this key, so choosing keys is limited
            // like guessing them at sign-up (per address and per account).
            let caller = access.caller();
            core.limiter.check(
                Action::SignupKey,
                caller.origin().client_addr.as_deref(),
                Some(caller.account().as_str()),
                core.clock.now(),
            )?;
            if change
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
        org.updated_at = core.clock.now();
        change.update_org(&org).await.map_err(|e| match e {
            orgbase_store::StoreError::Conflict(_) => {
                Error::conflict("signup_key_taken", "choose another signup key")
            }
            other => other.into(),
        })?;
        // The key itself is a secret: the audit says that it changed, not what it is.
        let details = json!({"enabled": org.signup_enabled, "default_role": org.signup_role,
                             "key_changed": before_key != org.signup_key});
        change
            .record(
                Event::new(AuditAction::SignupUpdate, "org", org.id)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        Ok(SignupSettings {
            enabled: org.signup_enabled,
            key: org.signup_key,
            default_role: org.signup_role,
        })
    }

    pub async fn domains(&self, access: &OrgAccess<perm::OrgRead>) -> Result<Vec<OrgDomain>> {
        Ok(self.0.store.domains_of(access.org().id).await?)
    }

    /// Claims a domain for the org. The claim is pending, and does nothing, until it is
    /// proven: by the TXT record it names (`verify_domain`) or a system admin's approval.
    pub async fn add_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        input: DomainInput,
    ) -> Result<OrgDomain> {
        let core = self.0;
        let domain = parse_domain(&input.domain)?;
        let role = input
            .role
            .as_deref()
            .map(Role::parse_grantable)
            .transpose()?
            .unwrap_or(Role::Viewer);
        if is_public_email_domain(&domain) || core.cfg.public_email_domains.matches(&domain) {
            return Err(Error::bad_request(
                "public_email_domain",
                "a public mail provider's domain cannot be claimed: anyone can have an address there",
            ));
        }
        let now = core.clock.now();
        let d = OrgDomain {
            domain,
            org_id: access.org().id,
            auto_join: input.auto_join.unwrap_or(true),
            role,
            status: DomainStatus::Pending,
            token: random_hex(16)?,
            created_at: now,
            verified_at: None,
        };
        let mut change = core.change(access.audit()).await?;
        change
            .lock_org(d.org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if change.domains_of(d.org_id).await?.len() >= core.cfg.max_domains_per_org {
            return Err(Error::conflict(
                "too_many_domains",
                format!(
                    "an organization may claim at most {} domains",
                    core.cfg.max_domains_per_org
                ),
            ));
        }
        if !access.is_system_admin() {
            refuse_under_foreign_claim(&*change, &d).await?;
        }
        if !change.insert_domain(&d).await? {
            return Err(Error::conflict(
                "domain_already_claimed",
                "this organization claims this domain already",
            ));
        }
        change
            .record(
                Event::new(AuditAction::DomainAdd, "domain", &d.domain)
                    .org(d.org_id)
                    .details(json!({"domain": d.domain, "auto_join": d.auto_join, "role": d.role})),
            )
            .await?;
        change.commit().await?;
        Ok(d)
    }

    /// Proves a pending claim by its TXT record `_orgbase-challenge.<domain>`.
    pub async fn verify_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        domain: &str,
    ) -> Result<OrgDomain> {
        let core = self.0;
        let claim = self.claim(access.org().id, domain).await?;
        if claim.is_verified() {
            return Ok(claim);
        }
        if !access.is_system_admin() {
            refuse_under_foreign_claim(&*core.store, &claim).await?;
        }
        let records = core.dns.txt(&claim.txt_name()).await.map_err(|e| {
            tracing::info!(domain = %claim.domain, error = %e, "domain verification lookup failed");
            Error::conflict(
                "domain_not_verified",
                format!(
                    "could not look up the TXT record {}; try again later",
                    claim.txt_name()
                ),
            )
        })?;
        if !records.iter().any(|r| r.trim() == claim.txt_value()) {
            return Err(Error::conflict(
                "domain_not_verified",
                format!(
                    "no TXT record {} with the value {} was found",
                    claim.txt_name(),
                    claim.txt_value()
                ),
            ));
        }
        self.mark_verified(access.audit(), claim, "dns").await
    }

    /// A system admin (or the operator) approves a pending claim without DNS.
    pub async fn approve_domain(
        &self,
        by: &impl Platform,
        org: &OrgRef,
        domain: &str,
    ) -> Result<OrgDomain> {
        let org = self
            .0
            .find_org(org)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let claim = self.claim(org.id, domain).await?;
        if claim.is_verified() {
            return Ok(claim);
        }
        self.mark_verified(by.audit(), claim, "admin").await
    }

    async fn claim(&self, org: OrgId, domain: &str) -> Result<OrgDomain> {
        let domain =
            parse_domain(domain).map_err(|_| Error::not_found("domain_not_found", "domain"))?;
        self.0
            .store
            .domain_claim(org, &domain)
            .await?
            .ok_or_else(|| Error::not_found("domain_not_found", "domain"))
    }

    async fn mark_verified(
        &self,
        ctx: crate::shared::audit::AuditCtx,
        mut claim: OrgDomain,
        how: &str,
    ) -> Result<OrgDomain> {
        let core = self.0;
        let now = core.clock.now();
        let mut change = core.change(ctx).await?;
        let verified = change
            .verify_domain(claim.org_id, &claim.domain, now)
            .await
            .map_err(|e| match e {
                orgbase_store::StoreError::Conflict(_) => Error::conflict(
                    "domain_taken",
                    "another organization has proven this domain",
                ),
                other => other.into(),
            })?;
        if !verified {
            return Err(Error::not_found("domain_not_found", "domain"));
        }
        change
            .record(
                Event::new(AuditAction::DomainVerify, "domain", &claim.domain)
                    .org(claim.org_id)
                    .details(json!({"domain": claim.domain, "by": how})),
            )
            .await?;
        change.commit().await?;
        claim.status = DomainStatus::Verified;
        claim.verified_at = Some(now);
        Ok(claim)
    }

    /// Adds the users who proved an address in a verified domain of the org before it
    /// was proven, and belong to no org, with the claim's role (at most 1000 a call;
    /// call again for more). `dry_run` only lists them.
    pub async fn backfill_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        domain: &str,
        dry_run: bool,
    ) -> Result<Vec<User>> {
        let core = self.0;
        let org = access.org().id;
        let claim = self.claim(org, domain).await?;
        if !claim.is_verified() {
            return Err(Error::conflict(
                "domain_not_verified",
                "verify the domain before adding its users",
            ));
        }
        let mut users = Vec::new();
        for u in core.store.orgless_verified_users_in(&claim.domain).await? {
            // The nearest proven claim decides: `it.aarhus.dk` may belong to another org.
            let deciding = core.deciding_claim(u.email.domain()).await?;
            if deciding.is_some_and(|c| c.org_id == org) {
                users.push(u);
            }
        }
        if dry_run || users.is_empty() {
            return Ok(users);
        }
        let now = core.clock.now();
        let mut change = core.change(access.audit()).await?;
        for u in &users {
            core.join_org(
                &mut change,
                u.id,
                org,
                claim.role,
                AuditAction::MemberJoin,
                Some("backfill"),
            )
            .await?;
            if u.home_org_id.is_none() {
                change.set_home_org(u.id, Some(org), now).await?;
            }
        }
        change
            .record(
                Event::new(AuditAction::DomainBackfill, "domain", &claim.domain)
                    .org(org)
                    .details(
                        json!({"domain": claim.domain, "added": users.len(), "role": claim.role}),
                    ),
            )
            .await?;
        change.commit().await?;
        Ok(users)
    }

    pub async fn remove_domain(
        &self,
        access: &OrgAccess<perm::DomainsManage>,
        domain: &str,
    ) -> Result<()> {
        let domain =
            parse_domain(domain).map_err(|_| Error::not_found("domain_not_found", "domain"))?;
        let mut change = self.0.change(access.audit()).await?;
        if !change.delete_domain(access.org().id, &domain).await? {
            return Err(Error::not_found("domain_not_found", "domain"));
        }
        change
            .record(Event::new(AuditAction::DomainRemove, "domain", &domain).org(access.org().id))
            .await?;
        change.commit().await
    }

    /// An org admin creates an account in their org, for an e-mail of one of the org's
    /// claimed domains (system admins: any e-mail), with a password or a one-time
    /// set-password link.
    pub async fn create_user(
        &self,
        access: &OrgAccess<perm::MembersManage>,
        input: OrgUserInput,
    ) -> Result<OrgUserCreated> {
        let core = self.0;
        let email = Email::parse(&input.email)?;
        let name = Name::parse(&input.name, "name")?;
        let role = Role::parse_grantable(input.role.as_deref().unwrap_or("viewer"))?;
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot grant a role above your own",
            ));
        }
        core.cfg.policy.admits(&email)?;
        if !access.is_system_admin() {
            // Only the proven claim that decides for the address's domain lets an org
            // make accounts there (not a parent's owner in another org's subdomain).
            let deciding = core.deciding_claim(email.domain()).await?;
            if deciding.is_none_or(|c| c.org_id != access.org().id) {
                return Err(Error::forbidden(
                    "domain_not_claimed",
                    "the e-mail must be in one of the organization's verified domains",
                ));
            }
        }
        let hash = match &input.password {
            Some(p) => Some(core.hasher.hash(Password::parse(p)?.expose()).await?),
            None => None,
        };
        let now = core.clock.now();
        let org_id = access.org().id;
        let mut user = User::new(UserId::new(now), email, name, false, now);
        let link = if hash.is_none() {
            Some(new_token(TokenKind::PasswordLink)?)
        } else {
            None
        };
        let mut change = core.change(access.audit()).await?;
        // The org's lock first, as every join takes it, before the new user's row: an
        // import holding the lock and inserting the same address would otherwise wait
        // for this insert while this one waits for the lock (a deadlock).
        change
            .lock_org(org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if !change.insert_user(&user, hash.as_ref()).await? {
            return Err(Error::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ));
        }
        change
            .record(
                Event::new(AuditAction::UserCreate, "user", user.id)
                    .org(org_id)
                    .details(json!({"email": user.email, "set_password_link": link.is_some()})),
            )
            .await?;
        core.join_org(
            &mut change,
            user.id,
            org_id,
            role,
            AuditAction::MemberAdd,
            None,
        )
        .await?;
        change.set_home_org(user.id, Some(org_id), now).await?;
        user.home_org_id = Some(org_id);
        if let Some(t) = &link {
            let pt = PasswordToken {
                token_hash: t.hash.clone(),
                user_id: user.id,
                // Handed to the admin, not mailed: it proves nothing about the address.
                mailed: false,
                created_at: now,
                expires_at: now.plus_seconds(core.cfg.password_link_ttl_secs),
            };
            change.insert_password_token(&pt).await?;
        }
        change.commit().await?;
        let token = link.map(|t| t.plaintext);
        let url = token
            .as_ref()
            .map(|t| format!("{}/set-password?token={t}", core.cfg.public_url));
        Ok(OrgUserCreated {
            user,
            role,
            set_password_token: token,
            set_password_url: url,
        })
    }
}
