//! The OpenID Connect provider's records (ADR 0025).

use async_trait::async_trait;
use orgbase_domain::{
    OidcClient, OidcClientId, OidcCode, OidcToken, OrgId, Page, PageRequest, SigningAlg,
    SigningKey, Timestamp, UserId,
};

use crate::Result;

#[async_trait]
pub trait OidcReads: Send + Sync {
    /// Every signing key, the highest generation first within each algorithm (RS256
    /// first).
    async fn signing_keys(&self) -> Result<Vec<SigningKey>>;
    async fn oidc_client(&self, id: OidcClientId) -> Result<Option<OidcClient>>;
    /// By the identifier clients send (`client_id`).
    async fn oidc_client_by_client_id(&self, client_id: &str) -> Result<Option<OidcClient>>;
    /// The clients of `owner` (an org), or the platform-wide ones (`None`), by id.
    async fn oidc_clients(
        &self,
        owner: Option<OrgId>,
        page: PageRequest,
    ) -> Result<Page<OidcClient>>;
    /// A token by its hash, whatever its state.
    async fn oidc_token(&self, token_hash: &str) -> Result<Option<OidcToken>>;
    /// The scope a user consented to share with a client.
    async fn oidc_consent(&self, user: UserId, client: OidcClientId) -> Result<Option<String>>;
}

#[async_trait]
pub trait OidcWrites: Send {
    /// Inserts `k` as its algorithm's newest generation (`k.generation` is ignored).
    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<()>;
    /// Deletes the keys of `alg` but its `keep` highest generations; returns how many
    /// went.
    async fn prune_signing_keys(&mut self, alg: SigningAlg, keep: u32) -> Result<u64>;
    /// Replaces a key's sealed private key (master-key rotation), only while it is still
    /// `expected`; false otherwise.
    async fn reseal_signing_key(&mut self, kid: &str, expected: &str, sealed: &str)
    -> Result<bool>;
    /// Serializes key creation across nodes and processes (a row lock on PostgreSQL;
    /// SQLite's single writer already does).
    async fn lock_signing_keys(&mut self) -> Result<()>;
    async fn insert_oidc_client(&mut self, k: &OidcClient) -> Result<()>;
    /// Every field but id, client id, owner, creator and creation time; false when the
    /// client is gone.
    async fn update_oidc_client(&mut self, k: &OidcClient) -> Result<bool>;
    async fn delete_oidc_client(&mut self, id: OidcClientId) -> Result<bool>;
    async fn insert_oidc_code(&mut self, c: &OidcCode) -> Result<()>;
    /// The code with this hash, locked, and whether this call used it (false: it had
    /// been used already, which is reuse).
    async fn take_oidc_code(
        &mut self,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OidcCode, bool)>>;
    async fn insert_oidc_token(&mut self, t: &OidcToken) -> Result<()>;
    /// Marks a live refresh token rotated; false when it was not live (reuse, expiry,
    /// revocation), and then nothing changes.
    async fn use_oidc_token(&mut self, token_hash: &str, now: Timestamp) -> Result<bool>;
    /// Revokes one token; false when it was revoked already or is unknown.
    async fn revoke_oidc_token(&mut self, token_hash: &str, now: Timestamp) -> Result<bool>;
    /// Revokes every token of a family (reuse detected, a revocation, a reused code).
    async fn revoke_oidc_family(&mut self, family: uuid::Uuid, now: Timestamp) -> Result<u64>;
    async fn upsert_oidc_consent(
        &mut self,
        user: UserId,
        client: OidcClientId,
        scope: &str,
        now: Timestamp,
    ) -> Result<()>;
}
