//! The audit trail: every change is made through a [`Change`], which writes the
//! change's audit events in the same transaction and refuses to commit without one.

use std::ops::{Deref, DerefMut};

use orgbase_domain::{ApiKeyId, AuditAction, AuditEvent, AuditId, InvalidInput, OrgId, UserId};
use orgbase_store::Tx;
use serde_json::Value;

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::authz::{Actor, Caller, Credential, Origin};
use crate::shared::mail::MailOut;

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub struct AuditCtx {
    pub user: Option<UserId>,
    pub api_key: Option<ApiKeyId>,
    pub origin: Origin,
}

impl AuditCtx {
    /// The operator at the command line or the server itself (bootstrap, migrations).
    pub fn system() -> Self {
        Self::default()
    }

    /// A user acting without a credential yet (sign-up, login, a one-time link).
    pub fn user(user: UserId, origin: Origin) -> Self {
        Self {
            user: Some(user),
            api_key: None,
            origin,
        }
    }

    /// Someone known only by where they came from (declining with a token).
    pub fn anonymous(origin: Origin) -> Self {
        Self {
            user: None,
            api_key: None,
            origin,
        }
    }
}

impl From<&Actor> for AuditCtx {
    fn from(a: &Actor) -> Self {
        let api_key = match a.credential() {
            Credential::ApiKey(k) => Some(k),
            Credential::Session(_) => None,
        };
        Self {
            user: Some(a.id()),
            api_key,
            origin: a.origin().clone(),
        }
    }
}

impl From<&Caller> for AuditCtx {
    fn from(c: &Caller) -> Self {
        match c {
            Caller::User(a) => Self::from(a),
            Caller::Service(s) => Self {
                user: None,
                api_key: Some(s.key().id),
                origin: c.origin().clone(),
            },
        }
    }
}

/// What an audit event says, before who and when are added.
pub(crate) struct Event {
    pub org: Option<OrgId>,
    pub action: AuditAction,
    pub target_type: &'static str,
    pub target_id: String,
    pub details: Value,
}

impl Event {
    pub fn new(action: AuditAction, target_type: &'static str, target_id: impl ToString) -> Self {
        Self {
            org: None,
            action,
            target_type,
            target_id: target_id.to_string(),
            details: Value::Object(Default::default()),
        }
    }

    pub fn org(mut self, org: OrgId) -> Self {
        self.org = Some(org);
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// One change: a transaction plus its audit events, committed together. Dereferences
/// to the transaction for the writes themselves. Dropping it rolls everything back.
pub(crate) struct Change<'a> {
    tx: Box<dyn Tx>,
    core: &'a Core,
    ctx: AuditCtx,
    events: usize,
    mails: usize,
}

impl<'a> Change<'a> {
    pub fn ctx(&self) -> &AuditCtx {
        &self.ctx
    }

    /// Names the acting user once a change learns who it is (a one-time link).
    pub fn set_actor(&mut self, user: UserId) {
        self.ctx.user = Some(user);
    }

    /// Writes an audit event of this change, as its actor, now.
    pub async fn record(&mut self, e: Event) -> Result<()> {
        let at = self.core.clock.now();
        let event = AuditEvent {
            id: AuditId::new(at),
            at,
            actor_user_id: self.ctx.user,
            actor_api_key_id: self.ctx.api_key,
            org_id: e.org,
            action: e.action,
            target_type: e.target_type.to_string(),
            target_id: e.target_id,
            details: e.details,
            client_addr: self.ctx.origin.client_addr.clone(),
            request_id: self.ctx.origin.request_id.clone(),
        };
        self.tx.insert_audit(&event).await?;
        self.events += 1;
        Ok(())
    }

    /// Queues a mail in the outbox, in this change's transaction: it exists if and
    /// only if the change commits (ADR 0011). The worker is woken after the commit.
    pub async fn enqueue_mail(&mut self, m: MailOut) -> Result<()> {
        let row = self.core.outbox_row(m)?;
        self.tx.insert_mail(&row).await?;
        self.mails += 1;
        Ok(())
    }

    /// Commits the change with its events. A change that recorded no event is a bug
    /// and is rolled back.
    pub async fn commit(self) -> Result<()> {
        if self.events == 0 {
            return Err(Error::Internal("a change without an audit event".into()));
        }
        let (core, mails) = (self.core, self.mails);
        self.tx.commit().await?;
        if mails > 0 {
            core.mail_queued.notify_one();
        }
        Ok(())
    }
}

impl Deref for Change<'_> {
    type Target = dyn Tx;
    fn deref(&self) -> &Self::Target {
        &*self.tx
    }
}

impl DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.tx
    }
}

impl Core {
    /// Starts a change made by `ctx`.
    pub(crate) async fn change(&self, ctx: AuditCtx) -> Result<Change<'_>> {
        Ok(Change {
            tx: self.store.begin().await?,
            core: self,
            ctx,
            events: 0,
            mails: 0,
        })
    }
}

/// An `?action=` filter: one of the known actions.
pub(crate) fn parse_action(raw: Option<&str>) -> Result<Option<AuditAction>> {
    let Some(a) = raw else { return Ok(None) };
    let action: AuditAction = a.parse().map_err(|e: InvalidInput| Error::from(e))?;
    Ok(Some(action))
}
