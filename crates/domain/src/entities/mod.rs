//! The entities Orgbase keeps, with their invariants and the small rules that belong
//! to them. The store maps them to rows; the service builds and changes them; the HTTP
//! layer renders views of them.
//!
//! Grouped by aggregate, as the store is: users, orgs, the hierarchy (workspaces,
//! projects, memberships), access (claimed domains, invitations), credentials
//! (sessions, API keys, password hashes and links) and the audit trail; `page` holds
//! keyset pagination.

pub mod access;
pub mod assistant;
pub mod audit;
pub mod credentials;
pub mod hierarchy;
pub mod mail;
pub mod oidc;
pub mod org;
pub mod page;
pub mod user;

pub use access::{Invitation, OrgDomain};
pub use assistant::{Assistant, FieldChange};
pub use audit::AuditEvent;
pub use credentials::{
    ApiKey, ApiKeyAuth, EmailToken, OrgApiKey, PasswordHash, PasswordToken, Session, SessionAuth,
};
pub use hierarchy::{Member, Membership, Project, RoleChain, Scope, Workspace, default_tree};
pub use mail::{MailKind, MailStatus, OutboxMail};
pub use oidc::{
    Affiliation, GroupsStyle, OidcClient, OidcCode, OidcToken, OidcTokenKind, OrgClaims,
    RedirectUri, SigningAlg, SigningKey, org_claims,
};
pub use org::{Org, OrgWithRole};
pub use page::{Page, PageRequest};
pub use user::User;
