//! Assistants and the organizations they belong to (a home org, and any it is shared
//! with).

use async_trait::async_trait;
use orgbase_domain::{
    Assistant, AssistantId, OrgId, Page, PageRequest, ProjectId, Role, Timestamp, UserId,
};

use crate::Result;

/// Narrows a list of an org's assistants.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssistantFilter {
    pub owner: Option<UserId>,
    pub project: Option<ProjectId>,
}

#[async_trait]
pub trait AssistantReads: Send + Sync {
    async fn assistant(&self, id: AssistantId) -> Result<Option<Assistant>>;
    /// The assistants an org has: its own and those shared with it whose home is live
    /// (neither deleted nor suspended), by id.
    async fn assistants_in(
        &self,
        org: OrgId,
        filter: AssistantFilter,
        page: PageRequest,
    ) -> Result<Page<Assistant>>;
    /// The orgs an assistant belongs to, home first, then by id.
    async fn assistant_orgs(&self, id: AssistantId) -> Result<Vec<OrgId>>;
    /// The user's active org roles in the orgs the assistant belongs to that are not
    /// deleted, and not suspended unless it is the assistant's home (whose suspension
    /// the caller reports itself).
    async fn assistant_roles(&self, id: AssistantId, user: UserId) -> Result<Vec<(OrgId, Role)>>;
    /// Whether the assistant belongs to this org (home or shared).
    async fn assistant_in(&self, id: AssistantId, org: OrgId) -> Result<bool>;
    /// Assistants whose home is the org.
    async fn count_assistants(&self, org: OrgId) -> Result<i64>;
    /// Of those, the ones this user owns.
    async fn count_assistants_owned(&self, org: OrgId, owner: UserId) -> Result<i64>;
    /// Every assistant whose home is the org, by id.
    async fn assistants_homed_in(&self, org: OrgId) -> Result<Vec<Assistant>>;
}

#[async_trait]
pub trait AssistantWrites: Send {
    /// Inserts the assistant and its home-org row.
    async fn insert_assistant(&mut self, a: &Assistant) -> Result<()>;
    async fn update_assistant(&mut self, a: &Assistant) -> Result<()>;
    async fn delete_assistant(&mut self, id: AssistantId) -> Result<bool>;
    /// Shares with another org; false when it belongs there already.
    async fn share_assistant(
        &mut self,
        id: AssistantId,
        org: OrgId,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<bool>;
    /// Unshares from an org it was shared with (never its home); false when it was not.
    async fn unshare_assistant(&mut self, id: AssistantId, org: OrgId) -> Result<bool>;
}
