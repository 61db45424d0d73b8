//! Provisioning: what several capabilities do inside their own change. Creating an
//! org with its default tree (sign-up, org creation, the system org), making a user a
//! member of an org (admin-made accounts, sign-up by key or domain), carrying out an
//! invitation (accepting it, or signing up with it), new users and sessions.

use orgbase_domain::policy::Refusal;
use orgbase_domain::{
    AuditAction, Description, Invitation, InvitationStatus, Membership, Name, Org, OrgId,
    OrgStatus, Role, Scope, Session, SessionId, Slug, Timestamp, User, UserId, default_tree,
    parse_label,
};
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{Change, Event};
use crate::shared::crypto::{TokenKind, new_token};

/// What a caller may give when creating an org. Strings are raw; they are parsed here.
#[derive(Debug, Clone, Default)]
pub struct NewOrgInput {
    pub name: String,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
    pub public: Option<bool>,
}

/// How many suffixes to try before giving up on a derived slug.
const SLUG_ATTEMPTS: u32 = 1000;

pub(crate) fn opt_label(v: Option<String>, field: &'static str) -> Result<Option<String>> {
    Ok(v.map(|s| parse_label(&s, field)).transpose()?)
}

impl Core {
    /// Creates an org with its default workspace and project and the owner's
    /// membership, inside the caller's change. The slug is the one asked for, or the
    /// first free one derived from the name (`acme`, `acme-2`, ...); the insert skips
    /// taken slugs without aborting, so racing creators each get their own.
    pub(crate) async fn create_org_in(
        &self,
        change: &mut Change<'_>,
        owner: Option<UserId>,
        input: NewOrgInput,
        is_system: bool,
    ) -> Result<Org> {
        let name = Name::parse(&input.name, "name")?;
        if let (Some(owner), Some(max)) = (owner, self.cfg.max_orgs_per_user)
            && !is_system
        {
            // Counted under the owner's lock: parallel creations cannot pass together.
            change.lock_user(owner).await?;
            let owned = u64::try_from(change.count_owned_live_orgs(owner).await?).unwrap_or(0);
            if owned >= max {
                return Err(Error::conflict(
                    "limit_exceeded",
                    format!("max_orgs_per_user: this user owns {owned} of {max} organizations"),
                ));
            }
        }
        let description =
            Description::parse(input.description.as_deref().unwrap_or(""), "description")?;
        let asked = match &input.slug {
            Some(s) if is_system => Some(Slug::parse_any(s)?),
            Some(s) => Some(Slug::parse(s)?),
            None => None,
        };
        let now = self.clock.now();
        let mut org = Org {
            id: OrgId::new(now),
            slug: Slug::system(),
            name: name.as_str().to_string(),
            description: description.as_str().to_string(),
            is_system,
            status: OrgStatus::Active,
            owner_id: owner,
            default_framework: opt_label(input.default_framework, "default_framework")?,
            default_language_model: opt_label(
                input.default_language_model,
                "default_language_model",
            )?,
            public: input.public.unwrap_or(false),
            signup_enabled: false,
            signup_key: None,
            signup_role: Role::Viewer,
            config: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        if let Some(slug) = asked {
            org.slug = slug;
            if !change.insert_org(&org).await? {
                return Err(Error::conflict(
                    "slug_taken",
                    format!("the slug '{}' is taken", org.slug),
                ));
            }
        } else {
            let base = Slug::base_from_name(&org.name);
            org.slug = base.clone();
            // Most names are new: try the base first, and only look at the taken
            // `base-N` slugs when it is not free.
            if !change.insert_org(&org).await? {
                let taken = change.slugs_like(&base).await?;
                let mut n = 1;
                loop {
                    let candidate = base.candidate(n);
                    n += 1;
                    if taken.iter().any(|t| t == candidate.as_str()) {
                        continue;
                    }
                    org.slug = candidate;
                    if change.insert_org(&org).await? {
                        break;
                    }
                    if n > SLUG_ATTEMPTS {
                        return Err(Error::conflict(
                            "slug_taken",
                            "no free slug for this name; give one",
                        ));
                    }
                }
            }
        }
        let (ws, project) = default_tree(org.id, now);
        change.insert_workspace(&ws).await?;
        change.insert_project(&project).await?;
        if let Some(owner) = owner {
            let m = Membership::active(Scope::Org(org.id), org.id, owner, Role::Owner, None, now);
            change.upsert_membership(&m).await?;
        }
        let details = json!({"slug": org.slug, "name": org.name, "owner_id": owner});
        change
            .record(
                Event::new(AuditAction::OrgCreate, "org", org.id)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        Ok(org)
    }

    /// Refuses a new member beyond the org's `limits.max_members` (409 `limit_exceeded`).
    /// Call it under the org's lock (`lock_org`), before the membership is written: the
    /// lock serializes joins, so concurrent joins cannot pass the limit together. A user
    /// who is a member already does not count again.
    pub(crate) async fn admit_member(
        &self,
        change: &mut Change<'_>,
        org: &Org,
        user: UserId,
    ) -> Result<()> {
        if org.is_suspended() {
            return Err(Error::conflict(
                "org_suspended",
                "the organization is suspended: nobody joins it until it is reactivated",
            ));
        }
        let Some(max) = limits_of(org).max_members else {
            return Ok(());
        };
        if change
            .membership(Scope::Org(org.id), user)
            .await?
            .is_some_and(|m| m.is_active())
        {
            return Ok(());
        }
        let members = u64::try_from(change.count_active_members(org.id).await?).unwrap_or(0);
        if members >= max {
            return Err(Error::conflict(
                "limit_exceeded",
                format!("max_members: the organization has {members} of {max} members"),
            ));
        }
        Ok(())
    }

    /// Makes a user a member of an org with a role, recorded as `action`
    /// (`member.add` when someone adds them, `member.join` when they join by a key
    /// or a domain). The org is locked against concurrent changes.
    pub(crate) async fn join_org(
        &self,
        change: &mut Change<'_>,
        user: UserId,
        org: OrgId,
        role: Role,
        action: AuditAction,
        via: Option<&str>,
    ) -> Result<Org> {
        let now = self.clock.now();
        let org = change
            .lock_org(org)
            .await?
            .ok_or_else(Error::org_not_found)?;
        self.admit_member(change, &org, user).await?;
        let invited_by = match action {
            AuditAction::MemberAdd => change.ctx().user,
            _ => None,
        };
        let m = Membership::active(Scope::Org(org.id), org.id, user, role, invited_by, now);
        change.upsert_membership(&m).await?;
        let mut details =
            json!({"scope": "org", "scope_id": org.id, "user_id": user, "role": role});
        if let Some(via) = via {
            details["via"] = json!(via);
        }
        change
            .record(
                Event::new(action, "user", user)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        Ok(org)
    }

    /// Marks the invitation accepted (only if it is still pending: of racing accepts,
    /// one wins) and writes the org, workspace and project memberships it grants.
    pub(crate) async fn accept_invitation_in(
        &self,
        change: &mut Change<'_>,
        inv: &Invitation,
        user: &User,
    ) -> Result<Org> {
        let now = self.clock.now();
        let org = change
            .lock_org(inv.org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if org.is_deleted() {
            return Err(Refusal::InvitationNotFound.into());
        }
        self.admit_member(change, &org, user.id).await?;
        let mut accepted = inv.clone();
        accepted.status = InvitationStatus::Accepted;
        accepted.accepted_at = Some(now);
        accepted.updated_at = now;
        if !change
            .update_invitation(&accepted, InvitationStatus::Pending)
            .await?
        {
            return Err(Refusal::InvitationUsed.into());
        }
        grant(change, Scope::Org(org.id), inv, user, now).await?;
        if let Some(ws) = inv.workspace_id {
            grant(change, Scope::Workspace(ws), inv, user, now).await?;
        }
        if let Some(p) = inv.project_id {
            grant(change, Scope::Project(p), inv, user, now).await?;
        }
        let details = json!({"email": inv.email, "role": inv.role, "workspace_id": inv.workspace_id, "project_id": inv.project_id});
        change
            .record(
                Event::new(AuditAction::InvitationAccept, "invitation", inv.id)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        Ok(org)
    }

    /// The first system admin becomes owner of the ownerless system org.
    pub(crate) async fn adopt_system_org(
        &self,
        change: &mut Change<'_>,
        user: &User,
    ) -> Result<()> {
        let Some(sys) = change.system_org().await? else {
            return Ok(());
        };
        let Some(mut org) = change.lock_org(sys.id).await? else {
            return Ok(());
        };
        if org.owner_id.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        org.owner_id = Some(user.id);
        org.updated_at = now;
        change.update_org(&org).await?;
        let m = Membership::active(Scope::Org(org.id), org.id, user.id, Role::Owner, None, now);
        change.upsert_membership(&m).await?;
        change.set_home_org(user.id, Some(org.id), now).await?;
        change
            .record(
                Event::new(AuditAction::OrgTransfer, "org", org.id)
                    .org(org.id)
                    .details(json!({"from": null, "to": user.id})),
            )
            .await?;
        Ok(())
    }

    pub(crate) fn new_session(&self, user: UserId, now: Timestamp) -> Result<(Session, String)> {
        let t = new_token(TokenKind::Session)?;
        let s = Session {
            id: SessionId::new(now),
            user_id: user,
            token_hash: t.hash,
            created_at: now,
            expires_at: now.plus_seconds(self.cfg.session_ttl_secs),
        };
        Ok((s, t.plaintext))
    }
}

/// Grants the invitation's role at a scope, keeping a higher role the user already has.
/// Below the org, the org membership (if new) is granted as viewer.
async fn grant(
    change: &mut Change<'_>,
    scope: Scope,
    inv: &Invitation,
    user: &User,
    now: Timestamp,
) -> Result<()> {
    let role = match scope {
        Scope::Org(_) if inv.workspace_id.is_some() => Role::Viewer,
        _ => inv.role,
    };
    let existing = change.membership(scope, user.id).await?;
    let active = existing.as_ref().filter(|m| m.is_active());
    let role = active.map_or(role, |m| m.role.max(role));
    let mut m = Membership::active(scope, inv.org_id, user.id, role, inv.invited_by, now);
    if let Some(old) = existing {
        m.joined_at = old.joined_at;
    }
    change.upsert_membership(&m).await?;
    Ok(())
}

/// The org's limits from its configuration (none when it has none, or it does not parse).
pub(crate) fn limits_of(org: &Org) -> orgbase_domain::config::Limits {
    crate::shared::secrets::stored_config(&org.config)
        .map(|c| c.limits)
        .unwrap_or_default()
}
