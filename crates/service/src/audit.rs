//! The audit trail: every use case that changes something builds its event here and
//! writes it through the same transaction as the change.

use orgbase_domain::{ApiKeyId, AuditId, InvalidInput, OrgId, UserId};
use orgbase_store::{AuditEvent, AuditFilter, Page, PageRequest};
use serde_json::Value;

use crate::authz::{OrgAccess, perm};
use crate::error::{Error, Result};
use crate::{Actor, Credential, Origin, Services};

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditCtx {
    pub user: Option<UserId>,
    pub api_key: Option<ApiKeyId>,
    pub origin: Origin,
}

impl AuditCtx {
    /// The operator at the command line or the server itself (bootstrap, migrations).
    pub fn system() -> Self {
        Self::default()
    }
}

impl From<&Actor> for AuditCtx {
    fn from(a: &Actor) -> Self {
        let api_key = match a.credential {
            Credential::ApiKey(k) => Some(k),
            Credential::Session(_) => None,
        };
        Self {
            user: Some(a.user.id),
            api_key,
            origin: a.origin.clone(),
        }
    }
}

impl Services {
    pub(crate) fn event(
        &self,
        ctx: &AuditCtx,
        org: Option<OrgId>,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        details: Value,
    ) -> AuditEvent {
        let at = self.clock.now();
        AuditEvent {
            id: AuditId::new(at),
            at,
            actor_user_id: ctx.user,
            actor_api_key_id: ctx.api_key,
            org_id: org,
            action: action.to_string(),
            target_type: target_type.to_string(),
            target_id: target_id.to_string(),
            details,
            client_addr: ctx.origin.client_addr.clone(),
            request_id: ctx.origin.request_id.clone(),
        }
    }

    pub async fn org_audit(
        &self,
        access: &OrgAccess<perm::AuditRead>,
        action: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let filter = AuditFilter {
            org_id: Some(access.org.id),
            action: parse_action(action)?,
        };
        Ok(self.store.audit(&filter, page).await?)
    }

    pub async fn all_audit(
        &self,
        actor: &Actor,
        org: Option<OrgId>,
        action: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        require_system_admin(actor)?;
        let filter = AuditFilter {
            org_id: org,
            action: parse_action(action)?,
        };
        Ok(self.store.audit(&filter, page).await?)
    }
}

fn parse_action(raw: Option<&str>) -> Result<Option<String>> {
    let Some(a) = raw else { return Ok(None) };
    let ok = !a.is_empty()
        && a.len() <= 64
        && a.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
    if !ok {
        return Err(
            InvalidInput::new("invalid_action", "action", "action looks like org.create").into(),
        );
    }
    Ok(Some(a.to_string()))
}

pub(crate) fn require_system_admin(actor: &Actor) -> Result<()> {
    if actor.is_system_admin() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "system_admin_required",
            "only system admins may do this",
        ))
    }
}
