//! Invitations: an admin invites an e-mail to an org (and optionally a workspace or
//! project); the invitee accepts with the token, signed in or while signing up.

use orgbase_domain::policy::Refusal;
use orgbase_domain::{
    AuditAction, Email, Invitation, InvitationId, InvitationStatus, MailKind, Org, Page,
    PageRequest, ProjectId, Role, Scope, WorkspaceId,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::{Actor, OrgAccess, Origin, perm};
use crate::shared::crypto::{TokenKind, new_token, token_hash};
use crate::shared::mail::MailOut;
use crate::shared::ratelimit::Action;

#[derive(Debug, Clone)]
pub struct InvitationInput {
    pub email: String,
    pub role: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
    pub project_id: Option<ProjectId>,
}

/// A new (or resent) invitation with its token, shown once.
pub struct InvitationCreated {
    pub invitation: Invitation,
    /// Shown only when no mail is configured (then the admin passes the link on, and
    /// using it proves nothing about the address); otherwise the link is only mailed.
    pub token: Option<String>,
    pub accept_url: Option<String>,
}

/// Invitations to an org.
pub struct Invitations<'a>(pub(crate) &'a Core);

impl Invitations<'_> {
    fn accept_url(&self, token: &str) -> String {
        format!("{}/invitations/accept?token={token}", self.0.cfg.public_url)
    }

    pub async fn invite(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        input: InvitationInput,
    ) -> Result<InvitationCreated> {
        let core = self.0;
        let email = Email::parse(&input.email)?;
        core.cfg.policy.admits(&email)?;
        // Each invitation is a mail: no inbox may be flooded with them.
        core.limiter.check(
            Action::InvitationMail,
            access.caller().origin().client_addr.as_deref(),
            Some(email.as_str()),
            core.clock.now(),
        )?;
        let role = input
            .role
            .as_deref()
            .map(Role::parse_grantable)
            .transpose()?
            .unwrap_or(Role::Viewer);
        if role > access.grantable_ceiling() {
            return Err(Error::forbidden(
                "role_too_high",
                "you cannot invite with a role above your own",
            ));
        }
        let org_id = access.org().id;
        // The optional workspace and project must be this org's, and nested.
        if let Some(ws) = input.workspace_id {
            core.workspace_in(org_id, ws).await?;
        }
        if let Some(p) = input.project_id {
            let ws = input.workspace_id.ok_or_else(|| {
                Error::bad_request("workspace_required", "give the project's workspace_id too")
            })?;
            let ws = core.workspace_in(org_id, ws).await?;
            core.project_in(org_id, &ws, p).await?;
        }
        let now = core.clock.now();
        let t = new_token(TokenKind::Invitation)?;
        let inv = Invitation {
            id: InvitationId::new(now),
            org_id,
            workspace_id: input.workspace_id,
            project_id: input.project_id,
            email,
            role,
            token_hash: t.hash,
            status: InvitationStatus::Pending,
            invited_by: access.caller().user_id(),
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(core.cfg.invitation_ttl_secs),
            accepted_at: None,
            link_shown: core.mailer.is_none(),
        };
        let mut change = core.change(access.audit()).await?;
        change.lock_org(org_id).await?;
        if let Some(u) = change.user_by_email(&inv.email).await?
            && inv.workspace_id.is_none()
            && change
                .membership(Scope::Org(org_id), u.id)
                .await?
                .is_some_and(|m| m.is_active())
        {
            return Err(Error::conflict(
                "already_member",
                "this person is already a member",
            ));
        }
        change.insert_invitation(&inv).await?;
        let accept_url = self.accept_url(&t.plaintext);
        change
            .enqueue_mail(invitation_mail(&inv, access.org(), &accept_url))
            .await?;
        let details = json!({"email": inv.email, "role": inv.role, "workspace_id": inv.workspace_id, "project_id": inv.project_id});
        change
            .record(
                Event::new(AuditAction::InvitationCreate, "invitation", inv.id)
                    .org(org_id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        let shown = inv.link_shown;
        Ok(InvitationCreated {
            invitation: inv,
            token: shown.then_some(t.plaintext),
            accept_url: shown.then_some(accept_url),
        })
    }

    pub async fn list(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Invitation>> {
        let status = status.map(str::parse::<InvitationStatus>).transpose()?;
        let now = self.0.clock.now();
        let mut p = self
            .0
            .store
            .invitations_of(access.org().id, status, now, page)
            .await?;
        for i in &mut p.items {
            i.status = i.effective_status(now);
        }
        Ok(p)
    }

    /// A new token and a new expiry for a pending or expired invitation.
    pub async fn resend(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        id: InvitationId,
    ) -> Result<InvitationCreated> {
        let now = self.0.clock.now();
        if let Some(inv) = self.0.store.invitation(id).await?
            && inv.org_id == access.org().id
        {
            self.0.limiter.check(
                Action::InvitationMail,
                access.caller().origin().client_addr.as_deref(),
                Some(inv.email.as_str()),
                now,
            )?;
        }
        let t = new_token(TokenKind::Invitation)?;
        let ttl = self.0.cfg.invitation_ttl_secs;
        let open = [InvitationStatus::Pending, InvitationStatus::Expired];
        let accept_url = self.accept_url(&t.plaintext);
        let shown = self.0.mailer.is_none();
        let inv = self
            .change(
                access,
                id,
                &open,
                AuditAction::InvitationResend,
                |inv| {
                    inv.token_hash = t.hash.clone();
                    inv.link_shown = shown;
                    inv.status = InvitationStatus::Pending;
                    inv.expires_at = now.plus_seconds(ttl);
                },
                Some(&accept_url),
            )
            .await?;
        let shown = inv.link_shown;
        Ok(InvitationCreated {
            invitation: inv,
            token: shown.then_some(t.plaintext),
            accept_url: shown.then_some(accept_url),
        })
    }

    pub async fn revoke(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        id: InvitationId,
    ) -> Result<()> {
        let pending = [InvitationStatus::Pending];
        self.change(
            access,
            id,
            &pending,
            AuditAction::InvitationRevoke,
            |inv| {
                inv.status = InvitationStatus::Revoked;
            },
            None,
        )
        .await?;
        Ok(())
    }

    /// An admin's change to an invitation of their org: only from the given states,
    /// written only if nobody changed it meanwhile, with its audit event (and, given
    /// its new link, its mail).
    async fn change(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        id: InvitationId,
        from: &[InvitationStatus],
        action: AuditAction,
        edit: impl FnOnce(&mut Invitation),
        mail_link: Option<&str>,
    ) -> Result<Invitation> {
        let mut change = self.0.change(access.audit()).await?;
        let mut inv = match change.lock_invitation(id).await? {
            Some(i) if i.org_id == access.org().id => i,
            _ => return Err(Error::not_found("invitation_not_found", "invitation")),
        };
        let was = inv.status;
        if !from.contains(&was) {
            return Err(Error::conflict(
                "invitation_closed",
                format!("the invitation is {}", was.as_str()),
            ));
        }
        edit(&mut inv);
        inv.updated_at = self.0.clock.now();
        if !change.update_invitation(&inv, was).await? {
            return Err(Error::conflict(
                "invitation_closed",
                "the invitation changed meanwhile",
            ));
        }
        if let Some(link) = mail_link {
            change
                .enqueue_mail(invitation_mail(&inv, access.org(), link))
                .await?;
        }
        change
            .record(
                Event::new(action, "invitation", inv.id)
                    .org(inv.org_id)
                    .details(json!({"email": inv.email})),
            )
            .await?;
        change.commit().await?;
        Ok(inv)
    }

    /// Finds an invitation by token and checks it may be used by `email` now.
    async fn usable(&self, token: &str, email: &Email) -> Result<Invitation> {
        let inv = self
            .0
            .store
            .invitation_by_token(&token_hash(token.trim()))
            .await?;
        let inv = inv.ok_or(Refusal::InvitationNotFound)?;
        inv.fact(email, self.0.clock.now()).usable()?;
        Ok(inv)
    }

    /// A signed-in user accepts an invitation made out to their e-mail.
    pub async fn accept(&self, actor: &Actor, token: &str) -> Result<Org> {
        let core = self.0;
        let account = actor.id().to_string();
        core.limiter.check(
            Action::Invitation,
            actor.origin().client_addr.as_deref(),
            Some(&account),
            core.clock.now(),
        )?;
        let user = actor.user();
        core.cfg.policy.admits(&user.email)?;
        let inv = self.usable(token, &user.email).await?;
        let mut change = core.change(actor.into()).await?;
        let org = core.accept_invitation_in(&mut change, &inv, user).await?;
        if user.home_org_id.is_none() {
            change
                .set_home_org(user.id, Some(org.id), core.clock.now())
                .await?;
        }
        // Mailed to this address, and shown to nobody else: using it proves the address.
        if !inv.link_shown && !user.email_verified() {
            let mut user = user.clone();
            core.email_proven(&mut change, &mut user, "invitation")
                .await?;
        }
        change.commit().await?;
        Ok(org)
    }

    /// Declines with the token; no account needed (the token is the proof).
    pub async fn decline(&self, token: &str, origin: Origin) -> Result<()> {
        let core = self.0;
        core.limiter.check(
            Action::Invitation,
            origin.client_addr.as_deref(),
            None,
            core.clock.now(),
        )?;
        let inv = core
            .store
            .invitation_by_token(&token_hash(token.trim()))
            .await?;
        let mut inv = inv.ok_or(Refusal::InvitationNotFound)?;
        // Whoever holds the token may decline: the e-mail is the invitation's own.
        inv.fact(&inv.email, core.clock.now()).usable()?;
        inv.status = InvitationStatus::Declined;
        inv.updated_at = core.clock.now();
        let mut change = core.change(AuditCtx::anonymous(origin)).await?;
        if !change
            .update_invitation(&inv, InvitationStatus::Pending)
            .await?
        {
            return Err(Refusal::InvitationUsed.into());
        }
        change
            .record(
                Event::new(AuditAction::InvitationDecline, "invitation", inv.id)
                    .org(inv.org_id)
                    .details(json!({"email": inv.email})),
            )
            .await?;
        change.commit().await
    }
}

/// The mail that carries an invitation's link to the invitee.
fn invitation_mail(inv: &Invitation, org: &Org, link: &str) -> MailOut {
    MailOut {
        kind: MailKind::Invitation,
        to: inv.email.clone(),
        org_name: Some(org.name.clone()),
        link: link.to_string(),
        expires_at: inv.expires_at,
    }
}
