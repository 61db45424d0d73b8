//! Proof of e-mail (SPEC §4): an address counts only once its owner followed a link
//! mailed to it (or accepted an invitation sent there). Until then the domain of the
//! address lands its user nowhere; once proven, the org that proved the domain takes
//! them in. Shared by sign-up, the caller's own account, invitations and domain claims.

use orgbase_domain::email::domain_parents;
use orgbase_domain::policy::JoinTarget;
use orgbase_domain::{AuditAction, Email, EmailToken, MailKind, Org, OrgDomain, User};
use serde_json::json;

use crate::Core;
use crate::error::Result;
use crate::shared::audit::{Change, Event};
use crate::shared::crypto::{TokenKind, new_token};
use crate::shared::mail::MailOut;

/// [`Core::deciding_claim`], read through `reads` (a change's own transaction, so a
/// use case holding a lock does not wait for a second connection from the pool).
pub(crate) async fn deciding_claim_in(
    reads: &(impl orgbase_store::AccessReads + ?Sized),
    domain: &str,
) -> Result<Option<OrgDomain>> {
    for d in domain_parents(domain) {
        if let Some(claim) = reads.verified_domain(d).await? {
            return Ok(Some(claim));
        }
    }
    Ok(None)
}

impl Core {
    /// The proven claim that decides for a domain: the domain's own, else its nearest
    /// parent's (`it.aarhus.dk` proven by one org wins over `aarhus.dk` proven by
    /// another). Pending claims are as if absent.
    pub(crate) async fn deciding_claim(&self, domain: &str) -> Result<Option<OrgDomain>> {
        deciding_claim_in(&*self.store, domain).await
    }

    /// The org that has proven the address's domain (or its nearest parent) with
    /// auto-join on.
    pub(crate) async fn domain_target(&self, email: &Email) -> Result<Option<JoinTarget>> {
        let Some(claim) = self.deciding_claim(email.domain()).await? else {
            return Ok(None);
        };
        if !claim.auto_join {
            return Ok(None);
        }
        let org = self.store.org_by_id(claim.org_id).await?;
        Ok(org.filter(Org::is_live).map(|o| JoinTarget {
            org: o.id,
            role: claim.role,
        }))
    }

    /// Queues, in `change`, a mail with a one-time link that proves `user`'s address.
    pub(crate) async fn queue_email_verification(
        &self,
        change: &mut Change<'_>,
        user: &User,
        org_name: Option<String>,
    ) -> Result<()> {
        let now = self.clock.now();
        let t = new_token(TokenKind::EmailLink)?;
        let expires_at = now.plus_seconds(self.cfg.email_verification_ttl_secs);
        change
            .insert_email_token(&EmailToken {
                token_hash: t.hash,
                user_id: user.id,
                email: user.email.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        change
            .enqueue_mail(MailOut {
                kind: MailKind::EmailVerification,
                to: user.email.clone(),
                org_name,
                link: format!("{}/verify-email?token={}", self.cfg.public_url, t.plaintext),
                expires_at,
            })
            .await
    }

    /// Records, in `change`, that `user` proved their address (`how`: `link` or
    /// `invitation`), and lands them in the org that proved its domain when they belong
    /// to no org yet. The org they joined, if any.
    pub(crate) async fn email_proven(
        &self,
        change: &mut Change<'_>,
        user: &mut User,
        how: &str,
    ) -> Result<Option<Org>> {
        let now = self.clock.now();
        if !change.set_email_verified(user.id, &user.email, now).await? {
            return Ok(None);
        }
        user.email_verified_at = Some(now);
        user.updated_at = now;
        change
            .record(
                Event::new(AuditAction::UserVerifyEmail, "user", user.id)
                    .details(json!({"email": user.email, "by": how})),
            )
            .await?;
        if !change.memberships_of(user.id).await?.is_empty() {
            return Ok(None);
        }
        let Some(target) = self.domain_target(&user.email).await? else {
            return Ok(None);
        };
        let org = self
            .join_org(
                change,
                user.id,
                target.org,
                target.role,
                AuditAction::MemberJoin,
                Some("domain"),
            )
            .await?;
        if user.home_org_id.is_none() {
            change.set_home_org(user.id, Some(org.id), now).await?;
            user.home_org_id = Some(org.id);
        }
        Ok(Some(org))
    }
}
