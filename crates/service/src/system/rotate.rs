//! `orgbase secrets rotate-key`: every secret at rest re-sealed under a new master key
//! (ADR 0016). What is sealed: the `api_key` secrets of each org's configuration
//! (context `<org id>:<path>`), the links of unsent mails in the outbox
//! (`mail:<id>`) and the OpenID Connect provider's private keys (`oidc-key:<kid>`).
//!
//! Resumable: a value that opens with the new key is done already; any other is
//! opened with the current key and sealed with the new one. One change per org (with a
//! `secrets.rotate` event naming the paths, never a value) and one per page of mails,
//! so an interrupted run leaves every value whole under one key or the other, and
//! running it again finishes the job.

use orgbase_domain::config::OrgConfig;
use orgbase_domain::{AuditAction, MailStatus, OrgId, PageRequest};
use orgbase_store::OrgFilter;
use serde_json::json;

use super::System;
use crate::error::{Error, Result};
use crate::oidc::key_context;
use crate::shared::audit::Event;
use crate::shared::authz::Operator;
use crate::shared::mail::link_context;
use crate::shared::secrets::{SecretBox, config_context};

/// What a rotation did.
#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    /// Values sealed with the new key by this run.
    pub resealed: usize,
    /// Values that opened with the new key already (an earlier run did them).
    pub already: usize,
    /// Values that open with neither key, left as they are: `org <id> <path>` or
    /// `mail <id>`.
    pub unreadable: Vec<String>,
    /// The run stopped at its limit; run it again to finish.
    pub stopped_at_limit: bool,
}

impl RotationReport {
    /// Every value opens with the new key.
    pub fn complete(&self) -> bool {
        !self.stopped_at_limit && self.unreadable.is_empty()
    }
}

/// What to do with one sealed value.
enum Reseal {
    Done,
    New(String),
    Unreadable,
}

fn reseal(old: &SecretBox, new: &SecretBox, context: &str, sealed: &str) -> Result<Reseal> {
    if new.open_for(context, sealed).is_ok() {
        return Ok(Reseal::Done);
    }
    match old.open_for(context, sealed) {
        Ok(plain) => Ok(Reseal::New(new.seal_for(context, &plain)?)),
        Err(_) => Ok(Reseal::Unreadable),
    }
}

impl System<'_> {
    /// Re-seals every secret at rest with `new` (the current key opens them). With
    /// `limit`, stops after sealing that many values (to do the work in parts, or to
    /// test resuming). Refuses a new key that is the current one.
    pub async fn rotate_master_key(
        &self,
        by: &Operator,
        new: &SecretBox,
        limit: Option<usize>,
    ) -> Result<RotationReport> {
        let core = self.0;
        let old = &core.secrets;
        let probe = old.seal_for("rotate-key:probe", "probe")?;
        if new.open_for("rotate-key:probe", &probe).is_ok() {
            return Err(Error::bad_request(
                "same_master_key",
                "the new master key is the current one",
            ));
        }
        let mut report = RotationReport::default();
        let budget = |r: &RotationReport| limit.is_none_or(|l| r.resealed < l);

        // Configuration secrets, one change per org (deleted orgs too).
        let mut page = PageRequest::first(200);
        let mut orgs: Vec<OrgId> = Vec::new();
        loop {
            let p = core
                .store
                .all_orgs(
                    OrgFilter {
                        include_deleted: true,
                        search: None,
                    },
                    page,
                )
                .await?;
            orgs.extend(p.items.iter().map(|o| o.id));
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        for org_id in orgs {
            if !budget(&report) {
                report.stopped_at_limit = true;
                return Ok(report);
            }
            let mut change = core.change(by_ctx(by)).await?;
            let Some(mut org) = change.lock_org(org_id).await? else {
                continue;
            };
            if org.config.as_object().is_none_or(|o| o.is_empty()) {
                continue;
            }
            let Ok(mut parsed) = OrgConfig::parse(&org.config) else {
                report
                    .unreadable
                    .push(format!("org {org_id} configuration"));
                continue;
            };
            let mut paths = Vec::new();
            for (path, slot) in parsed.secrets_mut() {
                let Some(sealed) = slot.as_deref() else {
                    continue;
                };
                match reseal(old, new, &config_context(org_id, &path), sealed)? {
                    Reseal::Done => report.already += 1,
                    Reseal::Unreadable => report.unreadable.push(format!("org {org_id} {path}")),
                    Reseal::New(_) if !budget(&report) => report.stopped_at_limit = true,
                    Reseal::New(v) => {
                        // Changed in the stored document itself, so nothing else in it moves.
                        let pointer = format!("/{}", path.replace('.', "/"));
                        if let Some(at) = org.config.pointer_mut(&pointer) {
                            *at = json!(v);
                            report.resealed += 1;
                            paths.push(path);
                        }
                    }
                }
            }
            if paths.is_empty() {
                continue;
            }
            change.update_org(&org).await?;
            change
                .record(
                    Event::new(AuditAction::SecretsRotate, "org", org_id)
                        .org(org_id)
                        .details(json!({"secrets": paths})),
                )
                .await?;
            change.commit().await?;
        }

        // Links of mails not yet sent (sent and failed ones are erased), one change
        // per page.
        for status in [MailStatus::Queued, MailStatus::Sending] {
            let mut page = PageRequest::first(200);
            loop {
                let p = core.store.outbox(Some(status), page).await?;
                let mut change = core.change(by_ctx(by)).await?;
                let mut done = 0usize;
                for m in &p.items {
                    if m.link_sealed.is_empty() {
                        continue;
                    }
                    match reseal(old, new, &link_context(m.id), &m.link_sealed)? {
                        Reseal::Done => report.already += 1,
                        Reseal::Unreadable => report.unreadable.push(format!("mail {}", m.id)),
                        Reseal::New(_) if !budget(&report) => report.stopped_at_limit = true,
                        Reseal::New(v) => {
                            if change.reseal_mail_link(m.id, &m.link_sealed, &v).await? {
                                report.resealed += 1;
                                done += 1;
                            }
                        }
                    }
                }
                if done > 0 {
                    change
                        .record(
                            Event::new(AuditAction::SecretsRotate, "mail_outbox", "links")
                                .details(json!({"mails": done})),
                        )
                        .await?;
                    change.commit().await?;
                }
                if report.stopped_at_limit {
                    return Ok(report);
                }
                match p.next_cursor {
                    Some(c) => page.after = Some(c),
                    None => break,
                }
            }
        }

        // The OpenID Connect provider's private signing keys, in one change.
        let keys = core.store.signing_keys().await?;
        let mut change = core.change(by_ctx(by)).await?;
        let mut done = Vec::new();
        for k in &keys {
            match reseal(old, new, &key_context(&k.kid), &k.private_sealed)? {
                Reseal::Done => report.already += 1,
                Reseal::Unreadable => report.unreadable.push(format!("oidc key {}", k.kid)),
                Reseal::New(_) if !budget(&report) => report.stopped_at_limit = true,
                Reseal::New(v) => {
                    if change
                        .reseal_signing_key(&k.kid, &k.private_sealed, &v)
                        .await?
                    {
                        report.resealed += 1;
                        done.push(k.kid.clone());
                    }
                }
            }
        }
        if !done.is_empty() {
            change
                .record(
                    Event::new(AuditAction::SecretsRotate, "oidc_keys", "keys")
                        .details(json!({"kids": done})),
                )
                .await?;
            change.commit().await?;
        }
        Ok(report)
    }
}

fn by_ctx(by: &Operator) -> crate::shared::audit::AuditCtx {
    use crate::shared::authz::sealed::Sealed;
    by.audit()
}
