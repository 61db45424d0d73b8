//! Organization lifecycle: create, read, update, soft delete, restore, transfer, and
//! the org's own audit trail.

use orgbase_domain::{
    AuditAction, AuditEvent, Description, MembershipStatus, Name, Org, OrgWithRole, Page,
    PageRequest, Role, Scope, Slug, UserId,
};
use orgbase_store::AuditFilter;
use serde_json::json;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{Event, parse_action};
use crate::shared::authz::{Actor, OrgAccess, perm};
use crate::shared::provision::{NewOrgInput, opt_label};

/// A PATCH: only the fields present change. `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub default_framework: Option<Option<String>>,
    pub default_language_model: Option<Option<String>>,
    pub public: Option<bool>,
}

impl OrgPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.description.is_none()
            && self.default_framework.is_none()
            && self.default_language_model.is_none()
            && self.public.is_none()
    }
}

/// Organization lifecycle.
pub struct Orgs<'a>(pub(crate) &'a Core);

impl Orgs<'_> {
    /// Any signed-in user the owner list admits creates an org and becomes its owner.
    pub async fn create(&self, actor: &Actor, input: NewOrgInput) -> Result<OrgWithRole> {
        let core = self.0;
        // ORGBASE_ACCESS_ALLOWED_OWNER_EMAILS decides who may own organizations.
        if !actor.is_system_admin() && !core.cfg.policy.may_own(&actor.user().email) {
            return Err(Error::forbidden(
                "org_creation_not_allowed",
                "your account may not create organizations",
            ));
        }
        let mut change = core.change(actor.into()).await?;
        let org = core
            .create_org_in(&mut change, Some(actor.id()), input, false)
            .await?;
        change.commit().await?;
        Ok(OrgWithRole {
            org,
            role: Role::Owner,
        })
    }

    pub async fn list_mine(&self, actor: &Actor, page: PageRequest) -> Result<Page<OrgWithRole>> {
        Ok(self.0.store.orgs_of(actor.id(), page).await?)
    }

    /// PATCH. Description, defaults and `public` need `config.manage` (admins); the
    /// name and slug need `org.update` (owners).
    pub async fn update(
        &self,
        access: &OrgAccess<perm::ConfigManage>,
        patch: OrgPatch,
    ) -> Result<Org> {
        let core = self.0;
        if patch.is_empty() {
            return Err(Error::bad_request(
                "empty_patch",
                "give at least one field to change",
            ));
        }
        if patch.name.is_some() || patch.slug.is_some() {
            access.require::<perm::OrgUpdate>()?;
        }
        let name = patch
            .name
            .as_deref()
            .map(|n| Name::parse(n, "name"))
            .transpose()?;
        let slug = patch.slug.as_deref().map(Slug::parse).transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(|d| Description::parse(d, "description"))
            .transpose()?;
        let framework = patch
            .default_framework
            .map(|v| opt_label(v, "default_framework"))
            .transpose()?;
        let model = patch
            .default_language_model
            .map(|v| opt_label(v, "default_language_model"))
            .transpose()?;
        if slug.is_some() && access.org().is_system {
            return Err(Error::conflict(
                "system_org_protected",
                "the system organization keeps its slug",
            ));
        }

        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let before = json!({"name": org.name, "slug": org.slug});
        if let Some(n) = name {
            org.name = n.as_str().to_string();
        }
        if let Some(d) = description {
            org.description = d.as_str().to_string();
        }
        if let Some(f) = framework {
            org.default_framework = f;
        }
        if let Some(m) = model {
            org.default_language_model = m;
        }
        if let Some(p) = patch.public {
            org.public = p;
        }
        org.updated_at = core.clock.now();
        if let Some(s) = slug
            && s != org.slug
        {
            if core.store.org_by_slug(&s).await?.is_some() {
                return Err(Error::conflict(
                    "slug_taken",
                    format!("the slug '{s}' is taken"),
                ));
            }
            org.slug = s;
        }
        change.update_org(&org).await.map_err(|e| match e {
            orgbase_store::StoreError::Conflict(_) => {
                Error::conflict("slug_taken", "the slug is taken")
            }
            other => other.into(),
        })?;
        let details = json!({"before": before, "after": {"name": org.name, "slug": org.slug}});
        change
            .record(
                Event::new(AuditAction::OrgUpdate, "org", org.id)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        Ok(org)
    }

    /// Soft delete. The system org and the caller's last owned org cannot be deleted.
    pub async fn delete(&self, access: &OrgAccess<perm::OrgDelete>) -> Result<()> {
        let core = self.0;
        if access.org().is_system {
            return Err(Error::conflict(
                "system_org_protected",
                "the system organization cannot be deleted",
            ));
        }
        let me = access.caller().user_id();
        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if org.is_deleted() {
            return Err(Error::org_not_found());
        }
        if let Some(me) = me
            && org.owner_id == Some(me)
            && change.count_owned_live_orgs(me).await? <= 1
        {
            return Err(Error::conflict(
                "last_owned_org",
                "you cannot delete the last organization you own",
            ));
        }
        let now = core.clock.now();
        org.deleted_at = Some(now);
        org.updated_at = now;
        change.update_org(&org).await?;
        change
            .record(
                Event::new(AuditAction::OrgDelete, "org", org.id)
                    .org(org.id)
                    .details(json!({"slug": org.slug})),
            )
            .await?;
        change.commit().await
    }

    /// Brings back a soft-deleted org within the restore window.
    pub async fn restore(&self, access: &OrgAccess<perm::OrgRestore>) -> Result<Org> {
        let core = self.0;
        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let Some(deleted_at) = org.deleted_at else {
            return Err(Error::conflict(
                "not_deleted",
                "the organization is not deleted",
            ));
        };
        let now = core.clock.now();
        let window = deleted_at.plus_seconds(core.cfg.restore_window_days * 86_400);
        if now > window {
            return Err(Error::conflict(
                "restore_window_passed",
                "the organization was deleted too long ago to restore",
            ));
        }
        org.deleted_at = None;
        org.updated_at = now;
        change.update_org(&org).await?;
        change
            .record(Event::new(AuditAction::OrgRestore, "org", org.id).org(org.id))
            .await?;
        change.commit().await?;
        Ok(org)
    }

    /// Hands the org to another active member; the old owner becomes admin.
    pub async fn transfer(
        &self,
        access: &OrgAccess<perm::OrgTransfer>,
        new_owner: UserId,
    ) -> Result<Org> {
        let core = self.0;
        let mut change = core.change(access.audit()).await?;
        let mut org = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        // The proof was checked before the lock: an owner who has since handed the org
        // over (a racing transfer) no longer owns it. Checked again under the lock.
        if access.role() == Some(Role::Owner) && org.owner_id != access.caller().user_id() {
            return Err(Error::forbidden(
                "forbidden",
                "you no longer own this organization",
            ));
        }
        let target = change.membership(Scope::Org(org.id), new_owner).await?;
        let target_user = change.user_by_id(new_owner).await?;
        let active = target.as_ref().is_some_and(|m| m.is_active())
            && target_user.as_ref().is_some_and(|u| u.enabled);
        if !active {
            return Err(Error::conflict(
                "not_an_active_member",
                "the new owner must be an active member",
            ));
        }
        if org.owner_id == Some(new_owner) {
            return Err(Error::conflict(
                "already_owner",
                "that user already owns the organization",
            ));
        }
        let now = core.clock.now();
        let old = org.owner_id;
        if let Some(old) = old {
            change
                .set_membership_role(
                    Scope::Org(org.id),
                    old,
                    Role::Admin,
                    MembershipStatus::Active,
                    now,
                )
                .await?;
        }
        change
            .set_membership_role(
                Scope::Org(org.id),
                new_owner,
                Role::Owner,
                MembershipStatus::Active,
                now,
            )
            .await?;
        org.owner_id = Some(new_owner);
        org.updated_at = now;
        change.update_org(&org).await?;
        change
            .record(
                Event::new(AuditAction::OrgTransfer, "org", org.id)
                    .org(org.id)
                    .details(json!({"from": old, "to": new_owner})),
            )
            .await?;
        change.commit().await?;
        Ok(org)
    }

    /// The org's audit events, newest first.
    pub async fn audit(
        &self,
        access: &OrgAccess<perm::AuditRead>,
        action: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let filter = AuditFilter {
            org_id: Some(access.org().id),
            action: parse_action(action)?,
        };
        Ok(self.0.store.audit(&filter, page).await?)
    }
}
