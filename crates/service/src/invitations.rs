//! Invitations: an admin invites an e-mail to an org (and optionally a workspace or
//! project); the invitee accepts with the token, signed in or while signing up.

use orgbase_domain::{
    Email, InvitationId, InvitationStatus, MembershipStatus, ProjectId, Role, Timestamp,
    WorkspaceId,
};
use orgbase_store::{Invitation, Org, Page, PageRequest, Scope, Tx, User};
use serde_json::json;

use crate::access::invitation_fact;
use crate::audit::AuditCtx;
use crate::authz::{OrgAccess, perm};
use crate::crypto::{TokenKind, new_token, token_hash};
use crate::error::{Error, Result};
use crate::orgs::member;
use crate::ratelimit::Action;
use crate::{Actor, Origin, Services};
use orgbase_domain::policy::Refusal;

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
    pub token: String,
    pub accept_url: String,
}

impl Services {
    fn accept_url(&self, token: &str) -> String {
        format!("{}/invitations/accept?token={token}", self.cfg.public_url)
    }

    pub async fn invite(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        actor: &Actor,
        input: InvitationInput,
    ) -> Result<InvitationCreated> {
        let email = Email::parse(&input.email)?;
        self.cfg.policy.admits(&email)?;
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
        // The optional workspace and project must be this org's, and nested.
        if let Some(ws) = input.workspace_id {
            self.workspace_in(access, ws).await?;
        }
        if let Some(p) = input.project_id {
            let ws = input.workspace_id.ok_or_else(|| {
                Error::bad_request("workspace_required", "give the project's workspace_id too")
            })?;
            let ws = self.workspace_in(access, ws).await?;
            self.project_in(access, &ws, p).await?;
        }
        let now = self.clock.now();
        let t = new_token(TokenKind::Invitation)?;
        let inv = Invitation {
            id: InvitationId::new(now),
            org_id: access.org.id,
            workspace_id: input.workspace_id,
            project_id: input.project_id,
            email,
            role,
            token_hash: t.hash,
            status: InvitationStatus::Pending,
            invited_by: Some(actor.user.id),
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(self.cfg.invitation_ttl_secs),
            accepted_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.lock_org(access.org.id).await?;
        if let Some(u) = tx.user_by_email(&inv.email).await?
            && inv.workspace_id.is_none()
            && tx
                .membership(Scope::Org(access.org.id), u.id)
                .await?
                .is_some_and(|m| m.status == MembershipStatus::Active)
        {
            return Err(Error::conflict(
                "already_member",
                "this person is already a member",
            ));
        }
        tx.insert_invitation(&inv).await?;
        let details = json!({"email": inv.email, "role": inv.role, "workspace_id": inv.workspace_id, "project_id": inv.project_id});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(inv.org_id),
            "invitation.create",
            "invitation",
            inv.id,
            details,
        ))
        .await?;
        tx.commit().await?;
        let accept_url = self.accept_url(&t.plaintext);
        Ok(InvitationCreated {
            invitation: inv,
            token: t.plaintext,
            accept_url,
        })
    }

    pub async fn list_invitations(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Invitation>> {
        let status = status.map(str::parse::<InvitationStatus>).transpose()?;
        let mut p = self
            .store
            .invitations_of(access.org.id, status, self.clock.now(), page)
            .await?;
        let now = self.clock.now();
        for i in &mut p.items {
            i.status = effective_status(i, now);
        }
        Ok(p)
    }

    async fn invitation_in(
        &self,
        tx: &mut dyn Tx,
        access_org: orgbase_domain::OrgId,
        id: InvitationId,
    ) -> Result<Invitation> {
        match tx.lock_invitation(id).await? {
            Some(i) if i.org_id == access_org => Ok(i),
            _ => Err(Error::not_found("invitation_not_found", "invitation")),
        }
    }

    /// A new token and a new expiry for a pending or expired invitation.
    pub async fn resend_invitation(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        actor: &Actor,
        id: InvitationId,
    ) -> Result<InvitationCreated> {
        let now = self.clock.now();
        let t = new_token(TokenKind::Invitation)?;
        let ttl = self.cfg.invitation_ttl_secs;
        let open = [InvitationStatus::Pending, InvitationStatus::Expired];
        let inv = self
            .change_invitation(access, actor, id, &open, "invitation.resend", |inv| {
                inv.token_hash = t.hash.clone();
                inv.status = InvitationStatus::Pending;
                inv.expires_at = now.plus_seconds(ttl);
            })
            .await?;
        let accept_url = self.accept_url(&t.plaintext);
        Ok(InvitationCreated {
            invitation: inv,
            token: t.plaintext,
            accept_url,
        })
    }

    pub async fn revoke_invitation(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        actor: &Actor,
        id: InvitationId,
    ) -> Result<()> {
        let pending = [InvitationStatus::Pending];
        self.change_invitation(access, actor, id, &pending, "invitation.revoke", |inv| {
            inv.status = InvitationStatus::Revoked;
        })
        .await?;
        Ok(())
    }

    /// An admin's change to an invitation of their org: only from the given states,
    /// written only if nobody changed it meanwhile, with its audit event.
    async fn change_invitation(
        &self,
        access: &OrgAccess<perm::InvitationsManage>,
        actor: &Actor,
        id: InvitationId,
        from: &[InvitationStatus],
        action: &str,
        change: impl FnOnce(&mut Invitation),
    ) -> Result<Invitation> {
        let mut tx = self.store.begin().await?;
        let mut inv = self.invitation_in(&mut *tx, access.org.id, id).await?;
        let was = inv.status;
        if !from.contains(&was) {
            return Err(Error::conflict(
                "invitation_closed",
                format!("the invitation is {}", was.as_str()),
            ));
        }
        change(&mut inv);
        inv.updated_at = self.clock.now();
        if !tx.update_invitation(&inv, was).await? {
            return Err(Error::conflict(
                "invitation_closed",
                "the invitation changed meanwhile",
            ));
        }
        let ev = self.event(
            &actor.into(),
            Some(inv.org_id),
            action,
            "invitation",
            inv.id,
            json!({"email": inv.email}),
        );
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        Ok(inv)
    }

    /// Finds an invitation by token and checks it may be used by `email` now.
    async fn usable_invitation(&self, token: &str, email: &Email) -> Result<Invitation> {
        let inv = self
            .store
            .invitation_by_token(&token_hash(token.trim()))
            .await?;
        let inv = inv.ok_or(Refusal::InvitationNotFound)?;
        invitation_fact(&inv, email, self.clock.now()).usable()?;
        Ok(inv)
    }

    /// A signed-in user accepts an invitation made out to their e-mail.
    pub async fn accept_invitation(&self, actor: &Actor, token: &str) -> Result<Org> {
        let account = actor.user.id.to_string();
        self.limiter.check(
            Action::Invitation,
            actor.origin.client_addr.as_deref(),
            Some(&account),
            self.clock.now(),
        )?;
        self.cfg.policy.admits(&actor.user.email)?;
        let inv = self.usable_invitation(token, &actor.user.email).await?;
        let ctx = AuditCtx::from(actor);
        let mut tx = self.store.begin().await?;
        let org = self.accept_in(&mut *tx, &ctx, &inv, &actor.user).await?;
        if actor.user.home_org_id.is_none() {
            tx.set_home_org(actor.user.id, Some(org.id), self.clock.now())
                .await?;
        }
        tx.commit().await?;
        Ok(org)
    }

    /// Declines with the token; no account needed (the token is the proof).
    pub async fn decline_invitation(&self, token: &str, origin: Origin) -> Result<()> {
        self.limiter.check(
            Action::Invitation,
            origin.client_addr.as_deref(),
            None,
            self.clock.now(),
        )?;
        let inv = self
            .store
            .invitation_by_token(&token_hash(token.trim()))
            .await?;
        let mut inv = inv.ok_or(Refusal::InvitationNotFound)?;
        // Whoever holds the token may decline: the e-mail is the invitation's own.
        invitation_fact(&inv, &inv.email, self.clock.now()).usable()?;
        let now = self.clock.now();
        inv.status = InvitationStatus::Declined;
        inv.updated_at = now;
        let mut tx = self.store.begin().await?;
        if !tx
            .update_invitation(&inv, InvitationStatus::Pending)
            .await?
        {
            return Err(orgbase_domain::policy::Refusal::InvitationUsed.into());
        }
        let ctx = AuditCtx {
            user: None,
            api_key: None,
            origin,
        };
        tx.insert_audit(&self.event(
            &ctx,
            Some(inv.org_id),
            "invitation.decline",
            "invitation",
            inv.id,
            json!({"email": inv.email}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the invitation accepted (only if it is still pending: of racing accepts,
    /// one wins) and writes the org, workspace and project memberships it grants.
    pub(crate) async fn accept_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &AuditCtx,
        inv: &Invitation,
        user: &User,
    ) -> Result<Org> {
        let now = self.clock.now();
        let org = tx
            .lock_org(inv.org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if org.deleted_at.is_some() {
            return Err(orgbase_domain::policy::Refusal::InvitationNotFound.into());
        }
        let mut accepted = inv.clone();
        accepted.status = InvitationStatus::Accepted;
        accepted.accepted_at = Some(now);
        accepted.updated_at = now;
        if !tx
            .update_invitation(&accepted, InvitationStatus::Pending)
            .await?
        {
            return Err(orgbase_domain::policy::Refusal::InvitationUsed.into());
        }
        grant(tx, Scope::Org(org.id), inv, user, now).await?;
        if let Some(ws) = inv.workspace_id {
            grant(tx, Scope::Workspace(ws), inv, user, now).await?;
        }
        if let Some(p) = inv.project_id {
            grant(tx, Scope::Project(p), inv, user, now).await?;
        }
        let details = json!({"email": inv.email, "role": inv.role, "workspace_id": inv.workspace_id, "project_id": inv.project_id});
        tx.insert_audit(&self.event(
            ctx,
            Some(org.id),
            "invitation.accept",
            "invitation",
            inv.id,
            details,
        ))
        .await?;
        Ok(org)
    }
}

/// Grants the invitation's role at a scope, keeping a higher role the user already has.
/// Below the org, the org membership (if new) is granted as viewer.
async fn grant(
    tx: &mut dyn Tx,
    scope: Scope,
    inv: &Invitation,
    user: &User,
    now: Timestamp,
) -> Result<()> {
    let role = match scope {
        Scope::Org(_) if inv.workspace_id.is_some() => Role::Viewer,
        _ => inv.role,
    };
    let existing = tx
        .membership(scope, user.id)
        .await?
        .filter(|m| m.status == MembershipStatus::Active);
    let role = existing.map_or(role, |m| m.role.max(role));
    let mut m = member(scope, inv.org_id, user.id, role, inv.invited_by, now);
    if let Some(old) = tx.membership(scope, user.id).await? {
        m.joined_at = old.joined_at;
    }
    tx.upsert_membership(&m).await?;
    Ok(())
}

/// The status people see: a pending invitation past its expiry is expired.
pub fn effective_status(i: &Invitation, now: Timestamp) -> InvitationStatus {
    if i.status == InvitationStatus::Pending && i.expires_at <= now {
        InvitationStatus::Expired
    } else {
        i.status
    }
}
