//! Ways in besides an account of one's own: signup keys, claimed domains, invitations,
//! and API keys.

use async_trait::async_trait;
use orgbase_domain::{
    ApiKey, ApiKeyId, Email, Invitation, InvitationId, InvitationStatus, Org, OrgApiKey, OrgDomain,
    OrgId, Page, PageRequest, Role, Scope, Timestamp, UserId,
};

use crate::Result;

#[async_trait]
pub trait AccessReads: Send + Sync {
    async fn org_by_signup_key(&self, key: &str) -> Result<Option<Org>>;
    /// The verified claim of exactly this domain, if any (at most one exists).
    async fn verified_domain(&self, domain: &str) -> Result<Option<OrgDomain>>;
    /// This org's claim of this domain, pending or verified.
    async fn domain_claim(&self, org: OrgId, domain: &str) -> Result<Option<OrgDomain>>;
    async fn domains_of(&self, org: OrgId) -> Result<Vec<OrgDomain>>;
    /// Pending domain claims of live orgs with the org's slug, oldest first (at most
    /// 200: what a system admin has to look at).
    async fn pending_domains(&self) -> Result<Vec<(OrgDomain, String)>>;
    async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>>;
    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>>;
    /// Invitations of an org by status. A pending invitation past its expiry counts as
    /// expired (expiry is read, not swept), so `now` decides.
    async fn invitations_of(
        &self,
        org: OrgId,
        status: Option<InvitationStatus>,
        now: Timestamp,
        page: PageRequest,
    ) -> Result<Page<Invitation>>;
    async fn api_keys_of(&self, user: UserId, page: PageRequest) -> Result<Page<ApiKey>>;
    /// A live service key found by its token hash, with its org.
    async fn org_api_key_auth(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OrgApiKey, Org)>>;
    async fn org_api_keys_of(&self, org: OrgId, page: PageRequest) -> Result<Page<OrgApiKey>>;
}

#[async_trait]
pub trait AccessWrites: Send {
    /// Inserts unless this org claims the domain already; false when it did.
    async fn insert_domain(&mut self, d: &OrgDomain) -> Result<bool>;
    /// Marks this org's pending claim verified; false when there was none. A `Conflict`
    /// when another org's claim of the domain is verified already.
    async fn verify_domain(&mut self, org: OrgId, domain: &str, now: Timestamp) -> Result<bool>;
    async fn delete_domain(&mut self, org: OrgId, domain: &str) -> Result<bool>;
    /// Sets auto-join and the role of this org's claim (its status stays); false when
    /// there is no such claim.
    async fn update_domain(
        &mut self,
        org: OrgId,
        domain: &str,
        auto_join: bool,
        role: Role,
    ) -> Result<bool>;
    /// The invitation, locked against concurrent changes on PostgreSQL.
    async fn lock_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>>;
    async fn insert_invitation(&mut self, i: &Invitation) -> Result<()>;
    /// Writes the invitation's mutable fields if its status is still `expect`; false
    /// when someone else changed it first (a racing accept, say).
    async fn update_invitation(&mut self, i: &Invitation, expect: InvitationStatus)
    -> Result<bool>;
    /// Revokes the pending invitations of this e-mail to the scope and everything below
    /// it (an org's workspaces and projects, a workspace's projects); how many.
    async fn revoke_pending_invitations(
        &mut self,
        scope: Scope,
        email: &Email,
        now: Timestamp,
    ) -> Result<u64>;
    async fn insert_api_key(&mut self, k: &ApiKey) -> Result<()>;
    async fn delete_api_key(&mut self, user: UserId, id: ApiKeyId) -> Result<bool>;
    async fn insert_org_api_key(&mut self, k: &OrgApiKey) -> Result<()>;
    async fn delete_org_api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<bool>;
    /// Revokes every personal API key of the user; how many.
    async fn delete_api_keys_of(&mut self, user: UserId) -> Result<u64>;
}
