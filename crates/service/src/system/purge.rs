//! Purging organizations deleted longer ago than the restore window (SPEC §5): each is
//! deleted for good with everything in it, in its own transaction with an `org.purge`
//! event. The delete is conditional (still deleted, still past the window), so when
//! several nodes sweep at once each org is purged, and recorded, exactly once.

use orgbase_domain::{AuditAction, Org, Timestamp};
use serde_json::json;

use super::System;
use crate::Core;
use crate::error::Result;
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::Platform;

/// Orgs taken per pass; a sweep goes on until none is due.
const BATCH: u32 = 100;

/// What a purge did, or would do (`dry_run`).
#[derive(Debug, Clone)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Orgs deleted at or before this moment are due.
    pub cutoff: Timestamp,
    /// The orgs purged (or that would be), oldest deletion first.
    pub orgs: Vec<Org>,
}

impl System<'_> {
    /// Purges the orgs whose restore window has passed; `dry_run` only lists them.
    pub async fn purge_deleted(&self, by: &impl Platform, dry_run: bool) -> Result<PurgeReport> {
        purge(self.0, by.audit(), dry_run).await
    }
}

/// One sweep, as `ctx` (the server's own worker acts as the system).
pub(crate) async fn purge(core: &Core, ctx: AuditCtx, dry_run: bool) -> Result<PurgeReport> {
    let now = core.clock.now();
    let cutoff = now.plus_seconds(-core.cfg.restore_window_days.max(0) * 86_400);
    if dry_run {
        let orgs = core.store.orgs_deleted_before(cutoff, 10_000).await?;
        return Ok(PurgeReport {
            dry_run,
            cutoff,
            orgs,
        });
    }
    let mut purged = Vec::new();
    loop {
        let due = core.store.orgs_deleted_before(cutoff, BATCH).await?;
        let mut progress = false;
        for org in &due {
            let mut change = core.change(ctx.clone()).await?;
            // Gone already (another node) or restored meanwhile: nothing to do.
            if !change.purge_org(org.id, cutoff).await? {
                continue;
            }
            change
                .record(
                    Event::new(AuditAction::OrgPurge, "org", org.id)
                        .org(org.id)
                        .details(json!({
                            "slug": org.slug.as_str(),
                            "name": org.name,
                            "deleted_at": org.deleted_at,
                        })),
                )
                .await?;
            change.commit().await?;
            progress = true;
            purged.push(org.clone());
        }
        if due.len() < BATCH as usize || !progress {
            break;
        }
    }
    Ok(PurgeReport {
        dry_run,
        cutoff,
        orgs: purged,
    })
}
