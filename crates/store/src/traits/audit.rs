//! The audit trail.

use async_trait::async_trait;
use orgbase_domain::{AuditAction, AuditEvent, OrgId, Page, PageRequest};

use crate::Result;

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<OrgId>,
    pub action: Option<AuditAction>,
}

#[async_trait]
pub trait AuditReads: Send + Sync {
    /// Newest first; `page.after` is the last id seen.
    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>>;
}

#[async_trait]
pub trait AuditWrites: Send {
    async fn insert_audit(&mut self, e: &AuditEvent) -> Result<()>;
}
