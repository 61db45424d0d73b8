//! The storage traits, one pair per aggregate: `XReads` (usable on the store and inside
//! a transaction) and `XWrites` (only inside a transaction).
//!
//! | aggregate | reads | writes |
//! | --- | --- | --- |
//! | users, sessions, passwords | [`UserReads`] | [`UserWrites`] |
//! | organizations | [`OrgReads`] | [`OrgWrites`] |
//! | workspaces, projects, memberships | [`HierarchyReads`] | [`HierarchyWrites`] |
//! | signup keys, domains, invitations, API keys (personal and service) | [`AccessReads`] | [`AccessWrites`] |
//! | the audit trail | [`AuditReads`] | [`AuditWrites`] |
//! | the mail outbox | [`MailReads`] | [`MailWrites`] |
//! | assistants and their orgs | [`AssistantReads`] | [`AssistantWrites`] |
//! | the OpenID Connect provider's keys | [`OidcReads`] | [`OidcWrites`] |
//!
//! [`Store`] (every read, plus [`Database`]) and [`Tx`] (every read and write, plus
//! [`Commit`]) gather them and are implemented for whatever implements the parts, so
//! callers hold one `Arc<dyn Store>` or `Box<dyn Tx>` and call `store.x()` as before.
//! Methods of a trait object's supertraits need no import; for generic code,
//! `use orgbase_store::prelude::*`.

mod access;
mod assistants;
mod audit;
mod hierarchy;
mod mail;
mod oidc;
mod orgs;
mod users;

use async_trait::async_trait;
use orgbase_domain::{ApiKeyId, Timestamp};

pub use access::{AccessReads, AccessWrites};
pub use assistants::{AssistantFilter, AssistantReads, AssistantWrites};
pub use audit::{AuditFilter, AuditReads, AuditWrites};
pub use hierarchy::{HierarchyReads, HierarchyWrites};
pub use mail::{MailReads, MailWrites};
pub use oidc::{OidcReads, OidcWrites};
pub use orgs::{OrgAccessRow, OrgFilter, OrgKey, OrgReads, OrgWrites};
pub use users::{UserFilter, UserReads, UserWrites};

use crate::{Result, dump};

/// What only the store itself does: name its backend, migrate, answer a ping, dump its
/// schema, open a transaction, and the one write made outside a transaction.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies the embedded migrations that have not run yet; returns how many ran.
    async fn migrate(&self) -> Result<usize>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;
    /// The live schema, normalized (see [`dump`]).
    async fn schema(&self) -> Result<dump::Schema>;
    /// Opens a transaction. Dropping it without [`Commit::commit`] rolls it back.
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// Records when an API key was last used (best effort, outside any use case).
    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()>;
    /// The same for an organization's service key.
    async fn touch_org_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()>;
}

/// The end of a transaction.
#[async_trait]
pub trait Commit: Send + Sync {
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Reads outside a transaction, and the way into one.
pub trait Store:
    Database
    + UserReads
    + OrgReads
    + HierarchyReads
    + AccessReads
    + AuditReads
    + MailReads
    + AssistantReads
    + OidcReads
{
}

impl<T> Store for T where
    T: ?Sized
        + Database
        + UserReads
        + OrgReads
        + HierarchyReads
        + AccessReads
        + AuditReads
        + MailReads
        + AssistantReads
        + OidcReads
{
}

/// One transaction: every read, every write, and [`Commit`]. Every use case writes its
/// change and its audit event through the same `Tx` and commits once.
pub trait Tx:
    Commit
    + UserReads
    + UserWrites
    + OrgReads
    + OrgWrites
    + HierarchyReads
    + HierarchyWrites
    + AccessReads
    + AccessWrites
    + AuditReads
    + AuditWrites
    + MailReads
    + MailWrites
    + AssistantReads
    + AssistantWrites
    + OidcReads
    + OidcWrites
{
}

impl<T> Tx for T where
    T: ?Sized
        + Commit
        + UserReads
        + UserWrites
        + OrgReads
        + OrgWrites
        + HierarchyReads
        + HierarchyWrites
        + AccessReads
        + AccessWrites
        + AuditReads
        + AuditWrites
        + MailReads
        + MailWrites
        + AssistantReads
        + AssistantWrites
        + OidcReads
        + OidcWrites
{
}
