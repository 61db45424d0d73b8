//! Orgbase's domain: the types and rules that need no I/O.
//!
//! Everything that crosses the HTTP boundary is parsed into one of these types first
//! ("parse, don't validate"), so the layers below never see an invalid e-mail or slug.

pub mod action;
pub mod config;
pub mod email;
pub mod entities;
pub mod error;
pub mod ids;
pub mod policy;
pub mod role;
pub mod slug;
pub mod text;
pub mod time;

pub use action::AuditAction;
pub use email::Email;
pub use entities::{
    Affiliation, ApiKey, ApiKeyAuth, Assistant, AuditEvent, EmailToken, FieldChange, GroupsStyle,
    Invitation, MailKind, MailStatus, Member, Membership, OidcClient, OidcCode, OidcToken,
    OidcTokenKind, Org, OrgApiKey, OrgClaims, OrgDomain, OrgWithRole, OutboxMail, Page,
    PageRequest, PasswordHash, PasswordToken, Project, RedirectUri, RoleChain, Scope, Session,
    SessionAuth, SigningAlg, SigningKey, User, Workspace, default_tree, org_claims,
};
pub use error::{ErrorKind, InvalidInput};
pub use ids::{
    ApiKeyId, AssistantId, AuditId, InvitationId, MailId, OidcClientId, OrgId, ProjectId,
    SessionId, UserId, WorkspaceId,
};
pub use role::{
    DomainStatus, FieldSource, InvitationStatus, KeyScope, MembershipStatus, OrgStatus, Permission,
    Role, ScopeKind, effective_project_role, effective_workspace_role, role_for,
};
pub use slug::Slug;
pub use text::{Description, Name, Password, parse_label};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
