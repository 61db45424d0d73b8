//! What the store is asked with: the query parameters of its reads. The entities it
//! keeps live in the domain crate (`orgbase_domain::entities`).

pub use orgbase_domain::entities::*;
use orgbase_domain::{MembershipStatus, OrgId, Role, Slug};

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<OrgId>,
    pub action: Option<String>,
}

/// Which orgs an admin listing shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgFilter {
    pub include_deleted: bool,
}

/// How an org is named in a look-up.
#[derive(Debug, Clone, Copy)]
pub enum OrgKey<'a> {
    Id(OrgId),
    Slug(&'a Slug),
}

/// An org with the caller's org role and membership status, if they have one.
pub type OrgAccessRow = (Org, Option<(Role, MembershipStatus)>);
