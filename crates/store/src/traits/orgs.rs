//! Organizations.

use async_trait::async_trait;
use orgbase_domain::{
    MembershipStatus, Org, OrgId, OrgWithRole, Page, PageRequest, Role, SessionAuth, Slug,
    Timestamp, UserId,
};

use crate::Result;

/// How an org is named in a look-up.
#[derive(Debug, Clone, Copy)]
pub enum OrgKey<'a> {
    Id(OrgId),
    Slug(&'a Slug),
}

/// Which orgs an admin listing shows.
#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub include_deleted: bool,
    /// Only orgs whose slug or name contains this text (case-insensitive for ASCII).
    pub search: Option<String>,
}

/// An org with the caller's org role and membership status, if they have one.
pub type OrgAccessRow = (Org, Option<(Role, MembershipStatus)>);

#[async_trait]
pub trait OrgReads: Send + Sync {
    async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>>;
    async fn org_by_slug(&self, slug: &Slug) -> Result<Option<Org>>;
    async fn system_org(&self) -> Result<Option<Org>>;
    /// A live session with, in the same round trip, the org named by `key` and the
    /// session user's org membership (the hot path of org-scoped requests).
    /// `None`: no such session; `Some((auth, None))`: no such org.
    async fn session_org_access(
        &self,
        token_hash: &str,
        now: Timestamp,
        key: OrgKey<'_>,
    ) -> Result<Option<(SessionAuth, Option<OrgAccessRow>)>>;
    /// An org by id or slug with the user's org role and membership status, if any.
    async fn org_access(&self, key: OrgKey<'_>, user: UserId) -> Result<Option<OrgAccessRow>>;
    /// Orgs where the user has an active org membership (not deleted ones).
    async fn orgs_of(&self, user: UserId, page: PageRequest) -> Result<Page<OrgWithRole>>;
    /// Soft-deleted orgs deleted at or before `before`, oldest deletion first.
    async fn orgs_deleted_before(&self, before: Timestamp, limit: u32) -> Result<Vec<Org>>;
    async fn all_orgs(&self, filter: OrgFilter, page: PageRequest) -> Result<Page<Org>>;
    /// Orgs the user owns that are neither deleted nor the system org.
    async fn count_owned_live_orgs(&self, user: UserId) -> Result<i64>;
    /// Active org-scope memberships of the org (its members).
    async fn count_active_members(&self, org: OrgId) -> Result<i64>;
    /// Slugs equal to `base` or of the form `base-N`.
    async fn slugs_like(&self, base: &Slug) -> Result<Vec<String>>;
}

#[async_trait]
pub trait OrgWrites: Send {
    /// Serializes concurrent writers to one org (row lock on PostgreSQL; SQLite has a
    /// single writer already). Returns the org as it is now.
    async fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>>;
    /// Inserts unless the slug is taken; false when it was (no error, the tx stays usable).
    async fn insert_org(&mut self, org: &Org) -> Result<bool>;
    /// Writes every mutable column of the org.
    async fn update_org(&mut self, org: &Org) -> Result<()>;
    /// Deletes for good an org soft-deleted at or before `deleted_before`, with
    /// everything that belongs to it (the schema cascades; audit events stay). False
    /// when there is no such org any more: another node purged it first, or it was
    /// restored. Never the system org.
    async fn purge_org(&mut self, id: OrgId, deleted_before: Timestamp) -> Result<bool>;
}
