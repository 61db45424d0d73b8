//! The audit trail: one event per change, written in the change's transaction.

use crate::action::AuditAction;
use crate::ids::{ApiKeyId, AuditId, OrgId, UserId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditId,
    pub at: Timestamp,
    pub actor_user_id: Option<UserId>,
    pub actor_api_key_id: Option<ApiKeyId>,
    pub org_id: Option<OrgId>,
    /// Stored and shown by its name (`org.create`, ...).
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: String,
    /// What changed; never a secret.
    pub details: serde_json::Value,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}
