//! Start-up duties: the system organization and the first system admin.

use orgbase_domain::{MembershipStatus, Role};
use orgbase_store::{Org, Scope, Tx, User};
use serde_json::json;

use crate::Services;
use crate::accounts::NewUserInput;
use crate::audit::AuditCtx;
use crate::error::Result;
use crate::orgs::{NewOrgInput, member};

impl Services {
    /// Creates the system organization (slug `system`) if it does not exist yet.
    pub async fn ensure_system_org(&self) -> Result<Org> {
        if let Some(org) = self.store.system_org().await? {
            return Ok(org);
        }
        let mut tx = self.store.begin().await?;
        if let Some(org) = tx.system_org().await? {
            return Ok(org);
        }
        let input = NewOrgInput {
            name: "System".to_string(),
            slug: Some("system".to_string()),
            description: Some("The platform's own organization.".to_string()),
            ..Default::default()
        };
        let org = self
            .create_org_in(&mut *tx, &AuditCtx::system(), None, input, true)
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Creates a system admin unless one with this e-mail exists (then makes sure they
    /// are a system admin). Returns the user and whether they were created.
    pub async fn bootstrap_admin(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<(User, bool)> {
        if let Some(mut user) = self.user_by_email(email).await? {
            if !user.is_system_admin {
                user.is_system_admin = true;
                user.updated_at = self.clock.now();
                let mut tx = self.store.begin().await?;
                tx.update_user(&user).await?;
                let ev = self.event(
                    &AuditCtx::system(),
                    None,
                    "user.promote",
                    "user",
                    user.id,
                    json!({"is_system_admin": true}),
                );
                tx.insert_audit(&ev).await?;
                self.adopt_system_org(&mut *tx, &AuditCtx::system(), &user)
                    .await?;
                tx.commit().await?;
            }
            return Ok((user, false));
        }
        let input = NewUserInput {
            email: email.to_string(),
            password: password.to_string(),
            name: name.unwrap_or("Administrator").to_string(),
            is_system_admin: true,
            ..Default::default()
        };
        let user = self.create_user(&AuditCtx::system(), input).await?;
        Ok((user, true))
    }

    pub async fn has_system_admin(&self) -> Result<bool> {
        Ok(self.store.count_system_admins().await? > 0)
    }

    /// The first system admin becomes owner of the ownerless system org.
    pub(crate) async fn adopt_system_org(
        &self,
        tx: &mut dyn Tx,
        ctx: &AuditCtx,
        user: &User,
    ) -> Result<()> {
        let Some(sys) = tx.system_org().await? else {
            return Ok(());
        };
        let Some(mut org) = tx.lock_org(sys.id).await? else {
            return Ok(());
        };
        if org.owner_id.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        org.owner_id = Some(user.id);
        org.updated_at = now;
        tx.update_org(&org).await?;
        let m = member(Scope::Org(org.id), org.id, user.id, Role::Owner, None, now);
        tx.upsert_membership(&orgbase_store::Membership {
            status: MembershipStatus::Active,
            ..m
        })
        .await?;
        tx.set_home_org(user.id, Some(org.id), now).await?;
        let ev = self.event(
            ctx,
            Some(org.id),
            "org.transfer",
            "org",
            org.id,
            json!({"from": null, "to": user.id}),
        );
        tx.insert_audit(&ev).await?;
        Ok(())
    }
}
