//! Organization lifecycle: create, read, update, soft delete, restore, transfer.

use orgbase_domain::{
    Description, MembershipStatus, Name, OrgId, OrgStatus, ProjectId, Role, Slug, Timestamp,
    UserId, WorkspaceId, parse_label,
};
use orgbase_store::{
    Membership, Org, OrgFilter, OrgWithRole, Page, PageRequest, Project, Scope, Tx, User, Workspace,
};
use serde_json::json;

use crate::audit::{AuditCtx, require_system_admin};
use crate::authz::{OrgAccess, perm};
use crate::error::{Error, Result};
use crate::{Actor, Services};

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

/// How many suffixes to try before giving up on a derived slug.
const SLUG_ATTEMPTS: u32 = 1000;

fn opt_label(v: Option<String>, field: &'static str) -> Result<Option<String>> {
    Ok(v.map(|s| parse_label(&s, field)).transpose()?)
}

impl Services {
    pub async fn create_org(&self, actor: &Actor, input: NewOrgInput) -> Result<OrgWithRole> {
        // ORGBASE_ACCESS_ALLOWED_OWNER_EMAILS decides who may own organizations.
        if !actor.is_system_admin() && !self.cfg.policy.may_own(&actor.user.email) {
            return Err(Error::forbidden(
                "org_creation_not_allowed",
                "your account may not create organizations",
            ));
        }
        let ctx = AuditCtx::from(actor);
        let mut tx = self.store.begin().await?;
        let org = self
            .create_org_in(&mut *tx, &ctx, Some(actor.user.id), input, false)
            .await?;
        tx.commit().await?;
        Ok(OrgWithRole {
            org,
            role: Role::Owner,
        })
    }

    /// Creates an org with its default workspace and project and the owner's
    /// membership, inside the caller's transaction. The slug is the one asked for, or
    /// the first free one derived from the name (`acme`, `acme-2`, ...); the insert
    /// skips taken slugs without aborting, so racing creators each get their own.
    pub(crate) async fn create_org_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &AuditCtx,
        owner: Option<UserId>,
        input: NewOrgInput,
        is_system: bool,
    ) -> Result<Org> {
        let name = Name::parse(&input.name, "name")?;
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
            if !tx.insert_org(&org).await? {
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
            if tx.insert_org(&org).await? {
                return self.finish_org(tx, ctx, org, owner, now).await;
            }
            let taken = tx.slugs_like(&base).await?;
            let mut n = 1;
            loop {
                let candidate = base.candidate(n);
                n += 1;
                if taken.iter().any(|t| t == candidate.as_str()) {
                    continue;
                }
                org.slug = candidate;
                if tx.insert_org(&org).await? {
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
        self.finish_org(tx, ctx, org, owner, now).await
    }

    /// The rest of an org after its row: default workspace and project, the owner's
    /// membership, the audit event.
    async fn finish_org(
        &self,
        tx: &mut dyn Tx,
        ctx: &AuditCtx,
        org: Org,
        owner: Option<UserId>,
        now: Timestamp,
    ) -> Result<Org> {
        let (ws, project) = default_tree(org.id, now);
        tx.insert_workspace(&ws).await?;
        tx.insert_project(&project).await?;
        if let Some(owner) = owner {
            tx.upsert_membership(&member(
                Scope::Org(org.id),
                org.id,
                owner,
                Role::Owner,
                None,
                now,
            ))
            .await?;
        }
        let details = json!({"slug": org.slug, "name": org.name, "owner_id": owner});
        tx.insert_audit(&self.event(ctx, Some(org.id), "org.create", "org", org.id, details))
            .await?;
        Ok(org)
    }

    pub async fn list_my_orgs(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrgWithRole>> {
        Ok(self.store.orgs_of(actor.user.id, page).await?)
    }

    pub async fn admin_list_orgs(
        &self,
        actor: &Actor,
        include_deleted: bool,
        page: PageRequest,
    ) -> Result<Page<Org>> {
        require_system_admin(actor)?;
        Ok(self
            .store
            .all_orgs(OrgFilter { include_deleted }, page)
            .await?)
    }

    /// PATCH. Description, defaults and `public` need `config.manage` (admins); the
    /// name and slug need `org.update` (owners).
    pub async fn update_org(
        &self,
        access: &OrgAccess<perm::ConfigManage>,
        actor: &Actor,
        patch: OrgPatch,
    ) -> Result<Org> {
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
        if slug.is_some() && access.org.is_system {
            return Err(Error::conflict(
                "system_org_protected",
                "the system organization keeps its slug",
            ));
        }

        let mut tx = self.store.begin().await?;
        let mut org = tx
            .lock_org(access.org.id)
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
        org.updated_at = self.clock.now();
        if let Some(s) = slug
            && s != org.slug
        {
            if self.store.org_by_slug(&s).await?.is_some() {
                return Err(Error::conflict(
                    "slug_taken",
                    format!("the slug '{s}' is taken"),
                ));
            }
            org.slug = s;
        }
        tx.update_org(&org).await.map_err(|e| match e {
            orgbase_store::StoreError::Conflict(_) => {
                Error::conflict("slug_taken", "the slug is taken")
            }
            other => other.into(),
        })?;
        let details = json!({"before": before, "after": {"name": org.name, "slug": org.slug}});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(org.id),
            "org.update",
            "org",
            org.id,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Soft delete. The system org and the caller's last owned org cannot be deleted.
    pub async fn delete_org(
        &self,
        access: &OrgAccess<perm::OrgDelete>,
        actor: &Actor,
    ) -> Result<()> {
        if access.org.is_system {
            return Err(Error::conflict(
                "system_org_protected",
                "the system organization cannot be deleted",
            ));
        }
        let mut tx = self.store.begin().await?;
        let mut org = tx
            .lock_org(access.org.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        if org.deleted_at.is_some() {
            return Err(Error::org_not_found());
        }
        if org.owner_id == Some(actor.user.id)
            && tx.count_owned_live_orgs(actor.user.id).await? <= 1
        {
            return Err(Error::conflict(
                "last_owned_org",
                "you cannot delete the last organization you own",
            ));
        }
        let now = self.clock.now();
        org.deleted_at = Some(now);
        org.updated_at = now;
        tx.update_org(&org).await?;
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(org.id),
            "org.delete",
            "org",
            org.id,
            json!({"slug": org.slug}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings back a soft-deleted org within the restore window.
    pub async fn restore_org(
        &self,
        access: &OrgAccess<perm::OrgRestore>,
        actor: &Actor,
    ) -> Result<Org> {
        let mut tx = self.store.begin().await?;
        let mut org = tx
            .lock_org(access.org.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let Some(deleted_at) = org.deleted_at else {
            return Err(Error::conflict(
                "not_deleted",
                "the organization is not deleted",
            ));
        };
        let now = self.clock.now();
        let window = deleted_at.plus_seconds(self.cfg.restore_window_days * 86_400);
        if now > window {
            return Err(Error::conflict(
                "restore_window_passed",
                "the organization was deleted too long ago to restore",
            ));
        }
        org.deleted_at = None;
        org.updated_at = now;
        tx.update_org(&org).await?;
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(org.id),
            "org.restore",
            "org",
            org.id,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Hands the org to another active member; the old owner becomes admin.
    pub async fn transfer_org(
        &self,
        access: &OrgAccess<perm::OrgTransfer>,
        actor: &Actor,
        new_owner: UserId,
    ) -> Result<Org> {
        let mut tx = self.store.begin().await?;
        let mut org = tx
            .lock_org(access.org.id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let target = tx.membership(Scope::Org(org.id), new_owner).await?;
        let target_user = tx.user_by_id(new_owner).await?;
        let active = target
            .as_ref()
            .is_some_and(|m| m.status == MembershipStatus::Active)
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
        let now = self.clock.now();
        let old = org.owner_id;
        if let Some(old) = old {
            tx.set_membership_role(
                Scope::Org(org.id),
                old,
                Role::Admin,
                MembershipStatus::Active,
                now,
            )
            .await?;
        }
        tx.set_membership_role(
            Scope::Org(org.id),
            new_owner,
            Role::Owner,
            MembershipStatus::Active,
            now,
        )
        .await?;
        org.owner_id = Some(new_owner);
        org.updated_at = now;
        tx.update_org(&org).await?;
        let details = json!({"from": old, "to": new_owner});
        tx.insert_audit(&self.event(
            &actor.into(),
            Some(org.id),
            "org.transfer",
            "org",
            org.id,
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// A system admin creates an org for someone (LAMB's "create an organization with
    /// its admin"). The owner must be an existing user.
    pub async fn admin_create_org(
        &self,
        actor: &Actor,
        owner_email: &str,
        input: NewOrgInput,
    ) -> Result<Org> {
        require_system_admin(actor)?;
        let email = orgbase_domain::Email::parse(owner_email)?;
        let owner = self
            .store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| Error::not_found("user_not_found", "user"))?;
        let mut tx = self.store.begin().await?;
        let org = self
            .create_org_in(&mut *tx, &actor.into(), Some(owner.id), input, false)
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The CLI's `org create`: an org owned by an existing user.
    pub async fn cli_create_org(
        &self,
        owner: &User,
        name: &str,
        slug: Option<&str>,
    ) -> Result<Org> {
        let input = NewOrgInput {
            name: name.to_string(),
            slug: slug.map(str::to_string),
            ..Default::default()
        };
        let mut tx = self.store.begin().await?;
        let org = self
            .create_org_in(&mut *tx, &AuditCtx::system(), Some(owner.id), input, false)
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The CLI's `org list`: every live org.
    pub async fn cli_list_orgs(&self, page: PageRequest) -> Result<Page<Org>> {
        Ok(self.store.all_orgs(OrgFilter::default(), page).await?)
    }
}

/// The default workspace and project every org starts with.
pub fn default_tree(org: OrgId, now: Timestamp) -> (Workspace, Project) {
    let ws = Workspace {
        id: WorkspaceId::new(now),
        org_id: org,
        name: "Default".to_string(),
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    let project = Project {
        id: ProjectId::new(now),
        org_id: org,
        workspace_id: ws.id,
        name: "Default".to_string(),
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    (ws, project)
}

pub(crate) fn member(
    scope: Scope,
    org: OrgId,
    user: UserId,
    role: Role,
    invited_by: Option<UserId>,
    now: Timestamp,
) -> Membership {
    Membership {
        scope,
        org_id: org,
        user_id: user,
        role,
        status: MembershipStatus::Active,
        invited_by,
        joined_at: now,
        updated_at: now,
    }
}
