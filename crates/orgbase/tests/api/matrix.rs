//! The isolation matrix: every operation of the served OpenAPI document, called as
//! every kind of caller, gets exactly the status SPEC §3 implies, and no answer names
//! an organization the caller does not belong to.
//!
//! - The operations come from `GET /api/v1/openapi.json`; [`ROUTES`] says, for each
//!   (method, path template), what the route needs ([`Need`]) and how to build a valid
//!   request ([`Make`]). An operation without an entry, or an entry without an
//!   operation, fails the story: a new route needs a line here.
//! - What a member may do is not re-encoded here: [`Need::At`] names a permission and a
//!   scope, and `orgbase_domain::role_for` (the permission table) decides from the
//!   caller's roles in org A, workspace W1 and project P1.
//! - Callers ([`Kind`]): anonymous, a forged token, an expired session, a disabled
//!   user's API key, a revoked API key, viewer / editor / admin / owner of org A, the
//!   admin of org B, the admin of workspace W2 of org A (a viewer of A otherwise) and
//!   the system admin. The expired, disabled and revoked credentials belong to org-A
//!   admins, so a credential check that let them through would show as a 2xx.
//! - Expected: 2xx when allowed; 401 (`unauthenticated`) for every bad credential on
//!   a non-public route; 404 for callers outside org A (same code and detail as for an
//!   org that does not exist); 403 for members whose role is too low; 403
//!   `system_admin_required` on system-admin routes.
//! - Requests that change or remove their target get a fresh target for every call
//!   (a new copy of org A, a new invitation, a new member, ...), so every caller meets
//!   the same situation whatever the order.

use std::collections::BTreeSet;
use std::time::Instant;

use orgbase_domain::{Permission, Role, ScopeKind, role_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, Test, TestApp, s, spawn, test_settings};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(every_route_as_every_caller),
    story!(foreign_ids_stay_foreign),
];

/// Every kind of caller, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Forged,
    Expired,
    Disabled,
    Revoked,
    Viewer,
    Editor,
    Admin,
    Owner,
    OtherOrgAdmin,
    OtherWorkspaceAdmin,
    SystemAdmin,
    OrgKey,
    OtherOrgKey,
}

impl Kind {
    const ALL: [Kind; 14] = [
        Kind::Anonymous,
        Kind::Forged,
        Kind::Expired,
        Kind::Disabled,
        Kind::Revoked,
        Kind::Viewer,
        Kind::Editor,
        Kind::Admin,
        Kind::Owner,
        Kind::OtherOrgAdmin,
        Kind::OtherWorkspaceAdmin,
        Kind::SystemAdmin,
        Kind::OrgKey,
        Kind::OtherOrgKey,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Anonymous => "anonymous",
            Kind::Forged => "forged token",
            Kind::Expired => "expired session",
            Kind::Disabled => "disabled user",
            Kind::Revoked => "revoked API key",
            Kind::Viewer => "org viewer",
            Kind::Editor => "org editor",
            Kind::Admin => "org admin",
            Kind::Owner => "org owner",
            Kind::OtherOrgAdmin => "admin of another org",
            Kind::OtherWorkspaceAdmin => "admin of another workspace",
            Kind::SystemAdmin => "system admin",
            Kind::OrgKey => "org A's admin service key",
            Kind::OtherOrgKey => "another org's admin service key",
        }
    }

    /// An organization's service key, not a person.
    fn is_service(self) -> bool {
        matches!(self, Kind::OrgKey | Kind::OtherOrgKey)
    }

    /// Holds a credential the server accepts.
    fn authenticated(self) -> bool {
        !matches!(
            self,
            Kind::Anonymous | Kind::Forged | Kind::Expired | Kind::Disabled | Kind::Revoked
        )
    }

    /// The caller's active roles in org A, workspace W1 and project P1; `None` for
    /// callers with no membership in org A.
    fn roles(self) -> Option<[Option<Role>; 3]> {
        let org = |r| Some([Some(r), None, None]);
        match self {
            Kind::Viewer => org(Role::Viewer),
            Kind::Editor => org(Role::Editor),
            Kind::Admin | Kind::OrgKey => org(Role::Admin),
            Kind::Owner => org(Role::Owner),
            // Admin of W2 only: in W1 and P1 an org viewer like any other.
            Kind::OtherWorkspaceAdmin => org(Role::Viewer),
            _ => None,
        }
    }
}

/// What a route needs, in SPEC §3's words.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// No credential; one sent is ignored.
    Public,
    /// Any signed-in user, acting on their own account.
    SignedIn,
    /// A signed-in user, on a thing that belongs to the org-A owner alone (the path
    /// names the owner's API key): the owner succeeds, anyone else gets 404 `.0`.
    OwnerOnly(&'static [&'static str]),
    /// A permission at a scope of org A: the permission table decides for members,
    /// non-members get 404, system admins pass.
    At(Permission, ScopeKind),
    /// An org-A route that only system admins pass (members 403, others 404).
    SystemAdminInOrg,
    /// `/api/v1/admin/*`.
    SystemAdmin,
    /// `/api/v1/check`: system admins, and service keys with the `check` scope about
    /// their own org.
    Checker,
    /// Like `At`, but people only: service keys get 403 `service_key_not_allowed`.
    PeopleAt(Permission, ScopeKind),
    /// An assistant of org A owned by its editor (`{id}`): like `At(p, Org)`, but an
    /// assistant the caller cannot see is 404 `assistant_not_found`.
    Assistant(Permission),
}

/// How to build a valid request. In paths, `{org}` is org A, `{ws}` is W1, `{project}`
/// is P1, `{user_id}` the member target T (a viewer of A, W1 and P1), `{id}` the
/// neutral user, unless the maker says otherwise.
#[derive(Clone, Copy)]
enum Make {
    /// The fixture's path, this body.
    Body(fn(&Fixture, usize) -> Option<Value>),
    /// `{org}` is a new copy of org A (same members, same roles), deleted first when
    /// `deleted`; this body.
    FreshOrg {
        deleted: bool,
        body: fn(&Fixture, usize) -> Option<Value>,
    },
    /// `{id}` is a new API key of the org-A owner.
    OwnerKey,
    /// `{id}` is a new assistant of org A owned by its editor (org A has a provider).
    Assistant,
    /// `{id}` as for `Assistant`, `{org}` a new copy of org A, which the assistant is
    /// shared with already when `shared`.
    SharedAssistant { shared: bool },
    /// `{id}` is a new service key of org A.
    ServiceKey,
    /// `{client}` is a new OpenID Connect client of org A; this body.
    OrgOidcClient(fn(&Fixture, usize) -> Option<Value>),
    /// `{client}` is a new platform-wide OpenID Connect client; this body.
    OidcClient(fn(&Fixture, usize) -> Option<Value>),
    /// `{id}` is a new pending invitation of org A.
    Invitation,
    /// `{domain}` is a new domain claimed by org A (pending).
    Domain,
    /// `{domain}` is a new domain claimed by org A and approved by a system admin.
    VerifiedDomain,
    /// `{user_id}` is a new viewer of org A, and of W1 / P1 for those scopes.
    NewMember(ScopeKind),
    /// The body adds a new org-A viewer who is not in W1 / P1 yet.
    OrgMemberToAdd,
    /// The body adds a new user who is in no org.
    UserToAdd,
    /// The body accepts an invitation of org C sent to the caller's address.
    CallerInvitation,
    /// The body declines a new invitation of org C.
    DeclineToken,
    /// The body sets a password with a new one-time link of org C.
    PasswordLink,
    /// The body proves a new user's address with the link mailed at sign-up.
    VerifyEmailToken,
    /// The token is a new session of the caller (it is ended).
    OwnSession,
    /// The body changes the caller's password (the calling session stays).
    OwnPassword,
    /// The fixture's path, this CSV file as the body (`text/csv`).
    Csv(fn(&Fixture, usize) -> String),
}

struct Route {
    method: &'static str,
    path: &'static str,
    /// Tells entries of the same operation apart.
    case: &'static str,
    need: Need,
    make: Make,
}

const fn route(method: &'static str, path: &'static str, need: Need, make: Make) -> Route {
    Route {
        method,
        path,
        case: "",
        need,
        make,
    }
}

const NO_BODY: Make = Make::Body(|_, _| None);

use Need::{At, OwnerOnly, Public, SignedIn};
use Permission as P;
use ScopeKind::{Org, Project, Workspace};

const WS: &str = "/api/v1/orgs/{org}/workspaces/{ws}";
const PROJ: &str = "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}";

/// One line per operation of the OpenAPI document (two for PATCH of an org, whose
/// need depends on the fields).
#[rustfmt::skip]
static ROUTES: &[Route] = &[
    route("GET", "/healthz", Public, NO_BODY),
    route("GET", "/readyz", Public, NO_BODY),
    route("GET", "/metrics", Public, NO_BODY),
    route("GET", "/api/v1/openapi.json", Public, NO_BODY),
    route("GET", "/.well-known/openid-configuration", Public, NO_BODY),
    route("GET", "/oidc/jwks", Public, NO_BODY),
    route("GET", "/api/v1/oidc/clients", Need::SystemAdmin, NO_BODY),
    route("POST", "/api/v1/oidc/clients", Need::SystemAdmin, Make::Body(|_, n| Some(oidc_client_body(n)))),
    route("GET", "/api/v1/oidc/clients/{client}", Need::SystemAdmin, Make::OidcClient(|_, _| None)),
    route("PATCH", "/api/v1/oidc/clients/{client}", Need::SystemAdmin, Make::OidcClient(|_, n| Some(json!({"name": format!("renamed {n}")})))),
    route("DELETE", "/api/v1/oidc/clients/{client}", Need::SystemAdmin, Make::OidcClient(|_, _| None)),
    route("POST", "/api/v1/oidc/clients/{client}/secret", Need::SystemAdmin, Make::OidcClient(|_, _| None)),
    route("GET", "/api/v1/orgs/{org}/oidc/clients", At(P::OidcClientsManage, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/oidc/clients", Need::PeopleAt(P::OidcClientsManage, Org), Make::Body(|_, n| Some(oidc_client_body(n)))),
    route("GET", "/api/v1/orgs/{org}/oidc/clients/{client}", At(P::OidcClientsManage, Org), Make::OrgOidcClient(|_, _| None)),
    route("PATCH", "/api/v1/orgs/{org}/oidc/clients/{client}", Need::PeopleAt(P::OidcClientsManage, Org), Make::OrgOidcClient(|_, n| Some(json!({"name": format!("renamed {n}")})))),
    route("DELETE", "/api/v1/orgs/{org}/oidc/clients/{client}", Need::PeopleAt(P::OidcClientsManage, Org), Make::OrgOidcClient(|_, _| None)),
    route("POST", "/api/v1/orgs/{org}/oidc/clients/{client}/secret", Need::PeopleAt(P::OidcClientsManage, Org), Make::OrgOidcClient(|_, _| None)),
    // accounts
    route("POST", "/api/v1/auth/signup", Public, Make::Body(|_, n| Some(json!({"email": format!("signup-{n}@example.com"), "password": "password-123", "name": "New Person"})))),
    route("POST", "/api/v1/auth/login", Public, Make::Body(|fx, _| Some(json!({"email": fx.carol_email, "password": "password-123"})))),
    route("POST", "/api/v1/auth/set-password", Public, Make::PasswordLink),
    route("POST", "/api/v1/auth/password-reset/confirm", Public, Make::PasswordLink),
    route("POST", "/api/v1/auth/verify-email", Public, Make::VerifyEmailToken),
    route("POST", "/api/v1/auth/verify-email/resend", SignedIn, NO_BODY),
    route("POST", "/api/v1/auth/password-reset", Public, Make::Body(|fx, _| Some(json!({"email": fx.carol_email})))),
    route("POST", "/api/v1/auth/logout", SignedIn, Make::OwnSession),
    route("GET", "/api/v1/me", SignedIn, NO_BODY),
    route("PATCH", "/api/v1/me", SignedIn, Make::Body(|_, n| Some(json!({"name": format!("Renamed {n}")})))),
    route("POST", "/api/v1/me/password", SignedIn, Make::OwnPassword),
    route("GET", "/api/v1/me/api-keys", SignedIn, NO_BODY),
    route("POST", "/api/v1/me/api-keys", SignedIn, Make::Body(|_, n| Some(json!({"name": format!("key {n}")})))),
    route("DELETE", "/api/v1/me/api-keys/{id}", OwnerOnly(&["api_key_not_found"]), Make::OwnerKey),
    // organizations
    route("GET", "/api/v1/orgs", SignedIn, NO_BODY),
    route("POST", "/api/v1/orgs", SignedIn, Make::Body(|_, n| Some(json!({"name": format!("Created {n}")})))),
    route("GET", "/api/v1/orgs/{org}", At(P::OrgRead, Org), NO_BODY),
    Route { case: "metadata", ..route("PATCH", "/api/v1/orgs/{org}", At(P::ConfigManage, Org), Make::Body(|_, n| Some(json!({"description": format!("described {n}")})))) },
    Route { case: "rename", ..route("PATCH", "/api/v1/orgs/{org}", At(P::OrgUpdate, Org), Make::Body(|fx, _| Some(json!({"name": fx.a.name})))) },
    route("DELETE", "/api/v1/orgs/{org}", At(P::OrgDelete, Org), Make::FreshOrg { deleted: false, body: |_, _| None }),
    route("POST", "/api/v1/orgs/{org}/restore", At(P::OrgRestore, Org), Make::FreshOrg { deleted: true, body: |_, _| None }),
    route("POST", "/api/v1/orgs/{org}/transfer", At(P::OrgTransfer, Org), Make::FreshOrg { deleted: false, body: |fx, _| Some(json!({"new_owner_id": fx.admin_id})) }),
    route("GET", "/api/v1/orgs/{org}/audit", At(P::AuditRead, Org), NO_BODY),
    route("GET", "/api/v1/orgs/{org}/export", At(P::OrgExport, Org), NO_BODY),
    route("POST", "/api/v1/orgs/import", Need::SystemAdmin, Make::Body(|fx, n| Some(json!({"version": 1, "org": {"slug": format!("matrix-import-{n}"), "name": "Imported"}, "members": [{"email": fx.carol_email, "role": "owner"}]})))),
    // who gets in
    route("GET", "/api/v1/orgs/{org}/assistants", At(P::AssistantsRead, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/assistants", At(P::AssistantsCreate, Org), Make::Body(|_, n| Some(json!({"name": format!("Assistant {n}"), "metadata": {"system_prompt": "Be kind."}})))),
    route("POST", "/api/v1/orgs/{org}/assistants/rederive", At(P::AssistantsManage, Org), Make::Body(|_, _| Some(json!({"dry_run": true})))),
    route("GET", "/api/v1/assistants/{id}", Need::Assistant(P::AssistantsRead), Make::Assistant),
    route("PATCH", "/api/v1/assistants/{id}", Need::Assistant(P::AssistantsEditOwn), Make::Assistant),
    route("DELETE", "/api/v1/assistants/{id}", Need::Assistant(P::AssistantsEditOwn), Make::Assistant),
    route("GET", "/api/v1/assistants/{id}/resolved-config", Need::Assistant(P::AssistantsRead), Make::Assistant),
    route("POST", "/api/v1/assistants/{id}/organizations/{org}", Need::Assistant(P::AssistantsEditOwn), Make::SharedAssistant { shared: false }),
    route("DELETE", "/api/v1/assistants/{id}/organizations/{org}", Need::Assistant(P::AssistantsEditOwn), Make::SharedAssistant { shared: true }),
    route("GET", "/api/v1/orgs/{org}/api-keys", At(P::ApiKeysManage, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/api-keys", Need::PeopleAt(P::ApiKeysManage, Org), Make::Body(|_, n| Some(json!({"name": format!("service {n}"), "role": "viewer"})))),
    route("DELETE", "/api/v1/orgs/{org}/api-keys/{id}", Need::PeopleAt(P::ApiKeysManage, Org), Make::ServiceKey),
    route("GET", "/api/v1/orgs/{org}/signup", At(P::SignupManage, Org), NO_BODY),
    route("PUT", "/api/v1/orgs/{org}/signup", At(P::SignupManage, Org), Make::Body(|_, _| Some(json!({"enabled": true})))),
    // Claimed domains are part of the org's metadata (SPEC §2): members read them.
    route("GET", "/api/v1/orgs/{org}/config", At(P::ConfigManage, Org), NO_BODY),
    route("PUT", "/api/v1/orgs/{org}/config", At(P::ConfigManage, Org), Make::Body(|_, _| Some(json!({"features": {"rag_enabled": true}})))),
    route("PATCH", "/api/v1/orgs/{org}/config", At(P::ConfigManage, Org), Make::Body(|_, n| Some(json!({"limits": {"max_assistants": n}})))),
    route("GET", "/api/v1/orgs/{org}/usage", At(P::ConfigManage, Org), NO_BODY),
    route("GET", "/api/v1/orgs/{org}/domains", At(P::OrgRead, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/domains", At(P::DomainsManage, Org), Make::Body(|_, n| Some(json!({"domain": format!("claim-{n}.matrix-domains.test")})))),
    route("DELETE", "/api/v1/orgs/{org}/domains/{domain}", At(P::DomainsManage, Org), Make::Domain),
    // Verifying a claim that is verified already answers without asking DNS.
    route("POST", "/api/v1/orgs/{org}/domains/{domain}/verify", At(P::DomainsManage, Org), Make::VerifiedDomain),
    route("POST", "/api/v1/orgs/{org}/domains/{domain}/backfill", At(P::DomainsManage, Org), Make::VerifiedDomain),
    route("GET", "/api/v1/orgs/{org}/invitations", At(P::InvitationsManage, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/invitations", At(P::InvitationsManage, Org), Make::Body(|_, n| Some(json!({"email": format!("invitee-{n}@example.net"), "role": "viewer"})))),
    route("POST", "/api/v1/orgs/{org}/invitations/{id}/resend", At(P::InvitationsManage, Org), Make::Invitation),
    route("DELETE", "/api/v1/orgs/{org}/invitations/{id}", At(P::InvitationsManage, Org), Make::Invitation),
    route("POST", "/api/v1/invitations/accept", SignedIn, Make::CallerInvitation),
    route("POST", "/api/v1/invitations/decline", Public, Make::DeclineToken),
    route("POST", "/api/v1/orgs/{org}/users", At(P::MembersManage, Org), Make::Body(|_, n| Some(json!({"email": format!("made-{n}@users.matrix-domains.test"), "name": "Made Here", "role": "viewer"})))),
    route("POST", "/api/v1/orgs/{org}/users/import", At(P::MembersManage, Org), Make::Csv(|_, n| format!("email,name,role\nimported-{n}@users.matrix-domains.test,Imported,viewer\n"))),
    // members at org scope
    route("GET", "/api/v1/orgs/{org}/members", At(P::MembersRead, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/members", Need::SystemAdminInOrg, Make::UserToAdd),
    route("PATCH", "/api/v1/orgs/{org}/members/{user_id}", At(P::MembersManage, Org), Make::Body(|_, _| Some(json!({"role": "editor"})))),
    route("DELETE", "/api/v1/orgs/{org}/members/{user_id}", At(P::MembersManage, Org), Make::NewMember(Org)),
    // workspaces and projects
    route("GET", "/api/v1/orgs/{org}/workspaces", At(P::WorkspacesRead, Org), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/workspaces", At(P::WorkspacesManage, Org), Make::Body(|_, n| Some(json!({"name": format!("Workspace {n}")})))),
    route("GET", WS, At(P::WorkspacesRead, Workspace), NO_BODY),
    route("GET", "/api/v1/orgs/{org}/workspaces/{ws}/projects", At(P::ProjectsRead, Workspace), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/workspaces/{ws}/projects", At(P::ProjectsManage, Workspace), Make::Body(|_, n| Some(json!({"name": format!("Project {n}")})))),
    route("GET", "/api/v1/orgs/{org}/workspaces/{ws}/members", At(P::MembersRead, Workspace), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/workspaces/{ws}/members", At(P::MembersManage, Workspace), Make::OrgMemberToAdd),
    route("PATCH", "/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}", At(P::MembersManage, Workspace), Make::Body(|_, _| Some(json!({"role": "editor"})))),
    route("DELETE", "/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}", At(P::MembersManage, Workspace), Make::NewMember(Workspace)),
    route("GET", "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members", At(P::MembersRead, Project), NO_BODY),
    route("POST", "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members", At(P::MembersManage, Project), Make::OrgMemberToAdd),
    route("PATCH", "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}", At(P::MembersManage, Project), Make::Body(|_, _| Some(json!({"role": "editor"})))),
    route("DELETE", "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}", At(P::MembersManage, Project), Make::NewMember(Project)),
    // permission checks for platforms
    route("POST", "/api/v1/check", Need::Checker, Make::Body(|fx, _| Some(json!({"user_id": fx.viewer_id, "permission": "members.manage", "org": fx.a.id, "workspace": fx.w1})))),
    // system administration
    route("GET", "/api/v1/admin/users", Need::SystemAdmin, NO_BODY),
    route("POST", "/api/v1/admin/users", Need::SystemAdmin, Make::Body(|_, n| Some(json!({"email": format!("admin-made-{n}@example.com"), "password": "password-123", "name": "Admin Made"})))),
    route("PATCH", "/api/v1/admin/users/{id}", Need::SystemAdmin, Make::Body(|_, n| Some(json!({"name": format!("Renamed {n}")})))),
    route("GET", "/api/v1/admin/orgs", Need::SystemAdmin, NO_BODY),
    route("POST", "/api/v1/admin/orgs", Need::SystemAdmin, Make::Body(|fx, n| Some(json!({"name": format!("Admin Created {n}"), "owner_email": fx.carol_email})))),
    route("POST", "/api/v1/admin/system/sync", Need::SystemAdmin, NO_BODY),
    route("POST", "/api/v1/admin/orgs/{org}/domains/{domain}/approve", Need::SystemAdmin, Make::Domain),
    route("POST", "/api/v1/admin/orgs/{org}/suspend", Need::SystemAdmin, Make::FreshOrg { deleted: false, body: |_, _| None }),
    route("POST", "/api/v1/admin/orgs/{org}/reactivate", Need::SystemAdmin, Make::FreshOrg { deleted: false, body: |_, _| None }),
    route("GET", "/api/v1/admin/audit", Need::SystemAdmin, NO_BODY),
];

/// What a caller should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Success,
    /// This status, with one of these problem codes.
    Refused(u16, &'static [&'static str]),
}

const UNAUTHENTICATED: Want = Want::Refused(401, &["unauthenticated"]);
const ORG_NOT_FOUND: Want = Want::Refused(404, &["org_not_found"]);
const FORBIDDEN: Want = Want::Refused(403, &["forbidden"]);

fn want(need: Need, kind: Kind, make: Make) -> Want {
    if matches!(need, Public) {
        return Want::Success;
    }
    if !kind.authenticated() {
        return UNAUTHENTICATED;
    }
    if kind.is_service() {
        return want_service(need, kind, make);
    }
    if let Need::Assistant(p) = need {
        return match want(At(p, Org), kind, make) {
            Want::Refused(404, _) => Want::Refused(404, &["assistant_not_found"]),
            other => other,
        };
    }
    let need = match need {
        Need::PeopleAt(p, at) => At(p, at),
        Need::Checker => Need::SystemAdmin,
        other => other,
    };
    match need {
        Public | SignedIn => Want::Success,
        OwnerOnly(_) if kind == Kind::Owner => Want::Success,
        OwnerOnly(codes) => Want::Refused(404, codes),
        Need::SystemAdmin if kind == Kind::SystemAdmin => Want::Success,
        Need::SystemAdmin => Want::Refused(403, &["system_admin_required"]),
        _ if kind == Kind::SystemAdmin => Want::Success,
        At(p, at) => match kind.roles() {
            None => ORG_NOT_FOUND,
            Some([o, w, pr]) => {
                if role_for(p, at, o, w, pr).is_some_and(|r| r.allows(p)) {
                    Want::Success
                } else {
                    FORBIDDEN
                }
            }
        },
        Need::SystemAdminInOrg => match kind.roles() {
            None => ORG_NOT_FOUND,
            // Too low a role, or an admin told that members join by invitation.
            Some(_) => Want::Refused(403, &["forbidden", "use_invitations"]),
        },
        Need::Checker | Need::PeopleAt(..) | Need::Assistant(_) => {
            unreachable!("mapped above")
        }
    }
}

/// What a service key gets: org A's admin key (scopes `check` and `secrets:read`)
/// acts as an org-A admin in org A only; org B's admin key (scope `check`) reaches
/// nothing of org A. Neither passes where a person is needed.
fn want_service(need: Need, kind: Kind, make: Make) -> Want {
    const NOT_A_PERSON: Want = Want::Refused(403, &["service_key_not_allowed"]);
    let own = kind == Kind::OrgKey;
    match need {
        Public => Want::Success,
        SignedIn | OwnerOnly(_) => NOT_A_PERSON,
        Need::SystemAdmin => Want::Refused(403, &["system_admin_required"]),
        Need::Checker if own => Want::Success,
        Need::Assistant(_) if !own => Want::Refused(404, &["assistant_not_found"]),
        // The assistant is org A's: the key sees it, but not the copy it is shared with.
        Need::Assistant(_) if matches!(make, Make::SharedAssistant { .. }) => ORG_NOT_FOUND,
        Need::Assistant(p) => want_service(At(p, Org), kind, make),
        // A fresh copy of org A is another org: the key does not reach it.
        _ if !own || matches!(make, Make::FreshOrg { .. }) => ORG_NOT_FOUND,
        Need::Checker => ORG_NOT_FOUND,
        Need::SystemAdminInOrg => Want::Refused(403, &["forbidden", "use_invitations"]),
        Need::PeopleAt(..) => NOT_A_PERSON,
        At(p, at) => {
            // The key's role, as an org role; reading secrets also takes the scope,
            // which this key has.
            if role_for(p, at, Some(Role::Admin), None, None).is_some_and(|r| r.allows(p)) {
                Want::Success
            } else {
                FORBIDDEN
            }
        }
    }
}

/// An organization as the leak check knows it.
#[derive(Debug, Clone)]
struct OrgIds {
    id: String,
    slug: String,
    name: String,
}

impl OrgIds {
    fn strings(&self) -> [String; 3] {
        [self.id.clone(), self.slug.clone(), self.name.clone()]
    }
}

/// One caller: the credential it sends, the account behind it.
#[derive(Debug, Clone)]
struct Caller {
    kind: Kind,
    token: Option<String>,
    email: String,
    password: String,
}

/// Org A (the target, with W1 > P1 and W2), org B (the other tenant), org C (a
/// neutral org that sends invitations and links for public and self-service routes).
struct Fixture {
    a: OrgIds,
    b: OrgIds,
    c: OrgIds,
    w1: String,
    p1: String,
    w2: String,
    owner_token: String,
    system_token: String,
    carol_token: String,
    carol_email: String,
    admin_id: String,
    editor_id: String,
    viewer_id: String,
    ws_admin_id: String,
    target_member: String,
    neutral_user: String,
}

/// A prepared call.
struct Call {
    path: String,
    body: Option<Value>,
    /// Used instead of the caller's token (a session made for this call).
    token: Option<String>,
    /// The org the path names, when it is not org A (a fresh copy).
    org: Option<OrgIds>,
    /// A CSV body instead of JSON.
    csv: Option<String>,
}

impl Call {
    async fn send(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        match &self.csv {
            Some(csv) => {
                app.call_raw(method, path, token, "text/csv", csv.clone())
                    .await
            }
            None => app.call(method, path, token, self.body.clone()).await,
        }
    }
}

async fn every_route_as_every_caller(b: Backend) {
    let started = Instant::now();
    let Some(app) = spawn(b).await else { return };
    let (fx, mut callers) = fixture(&app).await;
    let setup = started.elapsed();

    // The operations the server documents, against the table.
    let (status, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let documented = operations(&doc);
    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the isolation matrix and the OpenAPI document disagree.\n\
         operations without an entry in matrix.rs ROUTES (add one): {missing:?}\n\
         entries without an operation (remove them): {stale:?}"
    );

    let mut failures = Vec::new();
    let mut checked = 0usize;
    // Answers by status class: 2xx, 401, 403, 404.
    let mut tally = [0usize; 4];
    let mut n = 0usize;
    for r in ROUTES {
        for slot in callers.iter_mut() {
            n += 1;
            let caller = slot.clone();
            let call = prepare(&app, &fx, r, &caller, n).await;
            let token = call.token.clone().or(caller.token.clone());
            let method = Method::from_bytes(r.method.as_bytes()).unwrap();
            let got = call
                .send(&app, method.clone(), &call.path, token.as_deref())
                .await;
            checked += 1;
            match got.0.as_u16() {
                200..=299 => tally[0] += 1,
                401 => tally[1] += 1,
                403 => tally[2] += 1,
                404 => tally[3] += 1,
                _ => {}
            }
            let label = format!(
                "{} {}{} as {}",
                r.method,
                call.path,
                if r.case.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.case)
                },
                caller.kind.name()
            );
            let expected = want(r.need, caller.kind, r.make);
            if let Some(f) = judge(&label, expected, &got) {
                failures.push(f);
            }
            // A stranger's 404 says no more than one for an org that does not exist.
            if got.0 == StatusCode::NOT_FOUND && r.path.contains("{org}") {
                let org = call.org.as_ref().map_or(&fx.a.id, |o| &o.id);
                let nowhere = call
                    .path
                    .replace(org.as_str(), &uuid::Uuid::now_v7().to_string());
                let other = call.send(&app, method, &nowhere, token.as_deref()).await;
                if (other.0, &other.1["code"], &other.1["detail"])
                    != (got.0, &got.1["code"], &got.1["detail"])
                {
                    failures.push(format!(
                        "{label}: 404 differs from a missing org's: {} vs {} {}",
                        got.1, other.0, other.1
                    ));
                }
            }
            for leaked in leaks(&fx, caller.kind, call.org.as_ref(), &got.1) {
                failures.push(format!(
                    "{label}: the answer contains {leaked:?}: {}",
                    got.1
                ));
            }
            if matches!(r.make, Make::OwnPassword) && got.0.is_success() {
                slot.password = next_password(&caller.password, n);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} matrix calls went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "isolation matrix ({}): {} routes ({} entries) x {} callers = {checked} calls checked \
         ({} 2xx, {} 401, {} 403, {} 404); setup {:.1}s, total {:.1}s",
        b.name(),
        documented.len(),
        ROUTES.len(),
        Kind::ALL.len(),
        tally[0],
        tally[1],
        tally[2],
        tally[3],
        setup.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// Every (METHOD, path) of an OpenAPI document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ];
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `None` when the answer is the one expected, else what went wrong.
fn judge(label: &str, expected: Want, got: &(StatusCode, Value)) -> Option<String> {
    let (status, body) = got;
    match expected {
        Want::Success if status.is_success() => None,
        Want::Success => Some(format!("{label}: want 2xx, got {status} {body}")),
        Want::Refused(code, codes) => {
            let ok = status.as_u16() == code
                && body["code"].as_str().is_some_and(|c| codes.contains(&c))
                && body["status"] == code;
            (!ok).then(|| format!("{label}: want {code} {codes:?}, got {status} {body}"))
        }
    }
}

/// The names and ids of orgs the caller does not belong to that the answer contains.
fn leaks(fx: &Fixture, kind: Kind, target: Option<&OrgIds>, body: &Value) -> Vec<String> {
    let mut of_a: Vec<String> = fx.a.strings().to_vec();
    of_a.extend([fx.w1.clone(), fx.p1.clone(), fx.w2.clone()]);
    if let Some(t) = target {
        of_a.extend(t.strings());
    }
    let of_b = fx.b.strings().to_vec();
    let forbidden: Vec<String> = match kind {
        Kind::SystemAdmin => vec![],
        Kind::OtherOrgAdmin | Kind::OtherOrgKey => of_a,
        k if k.authenticated() => of_b,
        // Bad credentials and no credential: nobody's org.
        _ => of_a.into_iter().chain(of_b).collect(),
    };
    let text = body.to_string();
    forbidden
        .into_iter()
        .filter(|f| text.contains(f.as_str()))
        .collect()
}

fn next_password(current: &str, n: usize) -> String {
    format!(
        "{}-{n}",
        current.split('-').take(2).collect::<Vec<_>>().join("-")
    )
}

/// Fills a path template from the fixture, overridden by `with`.
fn fill(path: &str, fx: &Fixture, with: &[(&str, &str)]) -> String {
    let mut p = path.to_string();
    for (k, v) in with {
        p = p.replace(k, v);
    }
    p.replace("{org}", &fx.a.id)
        .replace("{ws}", &fx.w1)
        .replace("{project}", &fx.p1)
        .replace("{user_id}", &fx.target_member)
        .replace("{id}", &fx.neutral_user)
}

async fn prepare(app: &TestApp, fx: &Fixture, r: &Route, caller: &Caller, n: usize) -> Call {
    let plain = |body: Option<Value>| Call {
        path: fill(r.path, fx, &[]),
        body,
        token: None,
        org: None,
        csv: None,
    };
    match r.make {
        Make::Body(body) => plain(body(fx, n)),
        Make::Csv(csv) => Call {
            csv: Some(csv(fx, n)),
            ..plain(None)
        },
        Make::FreshOrg { deleted, body } => {
            let org = copy_of_org_a(app, fx, n).await;
            if deleted {
                let got = app
                    .delete(&format!("/api/v1/orgs/{}", org.id), &fx.owner_token)
                    .await;
                assert_eq!(got.0, StatusCode::NO_CONTENT, "{}", got.1);
            }
            Call {
                path: fill(r.path, fx, &[("{org}", &org.id)]),
                body: body(fx, n),
                token: None,
                org: Some(org),
                csv: None,
            }
        }
        Make::OwnerKey => {
            let (st, key) = app
                .post(
                    "/api/v1/me/api-keys",
                    &fx.owner_token,
                    json!({"name": format!("owner key {n}")}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{key}");
            Call {
                path: fill(r.path, fx, &[("{id}", &s(&key["id"]))]),
                ..plain(None)
            }
        }
        Make::Assistant | Make::SharedAssistant { .. } => {
            let a = new_assistant(app, fx, n).await;
            let (org, body) = match r.make {
                Make::SharedAssistant { shared } => {
                    let copy = copy_of_org_a(app, fx, n).await;
                    if shared {
                        let (st, body) = app
                            .post(
                                &format!("/api/v1/assistants/{a}/organizations/{}", copy.id),
                                &fx.system_token,
                                json!({}),
                            )
                            .await;
                        assert_eq!(st, StatusCode::OK, "{body}");
                    }
                    (Some(copy), None)
                }
                _ => (
                    None,
                    (r.method == "PATCH").then(|| json!({"description": format!("edited {n}")})),
                ),
            };
            let mut with = vec![("{id}", a.as_str())];
            if let Some(o) = &org {
                with.push(("{org}", o.id.as_str()));
            }
            Call {
                path: fill(r.path, fx, &with),
                body,
                token: None,
                org,
                csv: None,
            }
        }
        Make::ServiceKey => {
            let key = post_created(
                app,
                &format!("/api/v1/orgs/{}/api-keys", fx.a.id),
                &fx.owner_token,
                json!({"name": format!("doomed {n}")}),
            )
            .await;
            Call {
                path: fill(r.path, fx, &[("{id}", &s(&key["id"]))]),
                ..plain(None)
            }
        }
        Make::OrgOidcClient(body) | Make::OidcClient(body) => {
            let org_path = match r.make {
                Make::OrgOidcClient(_) => format!("/api/v1/orgs/{}/oidc/clients", fx.a.id),
                _ => "/api/v1/oidc/clients".to_string(),
            };
            let client = post_created(
                app,
                &org_path,
                &fx.system_token,
                json!({"name": format!("platform {n}"),
                       "redirect_uris": ["https://platform.example/callback"]}),
            )
            .await;
            Call {
                path: fill(r.path, fx, &[("{client}", &s(&client["id"]))]),
                ..plain(body(fx, n))
            }
        }
        Make::Invitation => {
            let inv = invite(
                app,
                &fx.a.id,
                &fx.owner_token,
                &format!("pending-{n}@example.net"),
            )
            .await;
            Call {
                path: fill(r.path, fx, &[("{id}", &s(&inv["id"]))]),
                ..plain(None)
            }
        }
        Make::Domain | Make::VerifiedDomain => {
            let domain = format!("release-{n}.matrix-domains.test");
            let got = app
                .post(
                    &format!("/api/v1/orgs/{}/domains", fx.a.id),
                    &fx.owner_token,
                    json!({"domain": domain}),
                )
                .await;
            assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
            if matches!(r.make, Make::VerifiedDomain) {
                let approved = app
                    .post(
                        &format!("/api/v1/admin/orgs/{}/domains/{domain}/approve", fx.a.id),
                        &fx.system_token,
                        json!({}),
                    )
                    .await;
                assert_eq!(approved.0, StatusCode::OK, "{}", approved.1);
            }
            Call {
                path: fill(r.path, fx, &[("{domain}", &domain)]),
                // Backfill takes a dry run; verify reads no body.
                ..plain(Some(json!({"dry_run": true})))
            }
        }
        Make::NewMember(at) => {
            let user = new_user(app, fx, n, Some(&fx.a.id)).await;
            if at >= Workspace {
                add_member(
                    app,
                    fx,
                    &format!("/api/v1/orgs/{}/workspaces/{}", fx.a.id, fx.w1),
                    &user,
                )
                .await;
            }
            if at == Project {
                add_member(app, fx, &fill(PROJ, fx, &[]), &user).await;
            }
            Call {
                path: fill(r.path, fx, &[("{user_id}", &user)]),
                ..plain(None)
            }
        }
        Make::OrgMemberToAdd => {
            let user = new_user(app, fx, n, Some(&fx.a.id)).await;
            plain(Some(json!({"user_id": user, "role": "viewer"})))
        }
        Make::UserToAdd => {
            let user = new_user(app, fx, n, None).await;
            plain(Some(json!({"user_id": user, "role": "viewer"})))
        }
        Make::CallerInvitation => {
            let to = if caller.email.is_empty() {
                format!("nobody-{n}@example.net")
            } else {
                caller.email.clone()
            };
            let inv = invite(app, &fx.c.id, &fx.carol_token, &to).await;
            plain(Some(json!({"token": s(&inv["token"])})))
        }
        Make::DeclineToken => {
            let inv = invite(
                app,
                &fx.c.id,
                &fx.carol_token,
                &format!("declines-{n}@example.net"),
            )
            .await;
            plain(Some(json!({"token": s(&inv["token"])})))
        }
        Make::VerifyEmailToken => {
            let email = format!("verifies-{n}@example.net");
            let (st, made) = app
                .call(
                    Method::POST,
                    "/api/v1/auth/signup",
                    None,
                    Some(json!({"email": email, "password": "password-123", "name": "Verifies"})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{made}");
            let token = app
                .mailed_token(&email, "email_verification")
                .await
                .unwrap();
            plain(Some(json!({"token": token})))
        }
        Make::PasswordLink => {
            let (st, made) = app
                .post(
                    &format!("/api/v1/orgs/{}/users", fx.c.id),
                    &fx.system_token,
                    json!({"email": format!("linked-{n}@example.net"), "name": "Linked"}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{made}");
            plain(Some(
                json!({"token": s(&made["set_password_token"]), "password": "password-456"}),
            ))
        }
        Make::OwnSession => {
            let token = if caller.kind.authenticated() && !caller.kind.is_service() {
                let (st, body) = app.login(&caller.email, &caller.password).await;
                assert_eq!(st, StatusCode::OK, "{body}");
                Some(s(&body["token"]))
            } else {
                None
            };
            Call {
                token,
                ..plain(None)
            }
        }
        Make::OwnPassword => plain(Some(json!({
            "current_password": caller.password,
            "new_password": next_password(&caller.password, n),
        }))),
    }
}

/// A new assistant of org A owned by its editor; org A gets a provider for it first
/// (other routes replace A's configuration).
async fn new_assistant(app: &TestApp, fx: &Fixture, n: usize) -> String {
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{}/config", fx.a.id),
            &fx.owner_token,
            json!({"providers": {"openai": {"api_key": "sk-matrix-0123456789", "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let made = post_created(
        app,
        &format!("/api/v1/orgs/{}/assistants", fx.a.id),
        &fx.system_token,
        json!({"name": format!("Matrix assistant {n}"), "owner_id": fx.editor_id}),
    )
    .await;
    s(&made["id"])
}

async fn invite(app: &TestApp, org: &str, token: &str, email: &str) -> Value {
    let (st, inv) = app
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            token,
            json!({"email": email, "role": "viewer"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inv}");
    inv
}

/// A new account (through the admin API), in `org` as a viewer when given.
async fn new_user(app: &TestApp, fx: &Fixture, n: usize, org: Option<&str>) -> String {
    let mut body = json!({"email": format!("extra-{n}@example.com"), "password": "password-123", "name": "Extra"});
    if let Some(o) = org {
        body["org"] = json!(o);
        body["role"] = json!("viewer");
    }
    let (st, user) = app
        .post("/api/v1/admin/users", &fx.system_token, body)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{user}");
    s(&user["id"])
}

async fn add_member(app: &TestApp, fx: &Fixture, scope: &str, user: &str) {
    add_as(app, &fx.system_token, scope, user, "viewer").await;
}

async fn add_as(app: &TestApp, token: &str, scope: &str, user: &str, role: &str) {
    let (st, body) = app
        .post(
            &format!("{scope}/members"),
            token,
            json!({"user_id": user, "role": role}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
}

async fn create_org(app: &TestApp, token: &str, name: &str, slug: Option<&str>) -> OrgIds {
    let mut body = json!({"name": name});
    if let Some(sl) = slug {
        body["slug"] = json!(sl);
    }
    let (st, org) = app.post("/api/v1/orgs", token, body).await;
    assert_eq!(st, StatusCode::CREATED, "{org}");
    OrgIds {
        id: s(&org["id"]),
        slug: s(&org["slug"]),
        name: s(&org["name"]),
    }
}

/// A new org owned by the org-A owner, with A's admin, editor, viewer and the W2 admin
/// (a viewer at org level) as members with the same roles.
async fn copy_of_org_a(app: &TestApp, fx: &Fixture, n: usize) -> OrgIds {
    let org = create_org(app, &fx.owner_token, &format!("Copy {n}"), None).await;
    let scope = format!("/api/v1/orgs/{}", org.id);
    for (user, role) in [
        (&fx.admin_id, "admin"),
        (&fx.editor_id, "editor"),
        (&fx.viewer_id, "viewer"),
        (&fx.ws_admin_id, "viewer"),
    ] {
        add_as(app, &fx.system_token, &scope, user, role).await;
    }
    org
}

async fn post_created(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = app.post(path, token, body).await;
    assert_eq!(st, StatusCode::CREATED, "{path}: {v}");
    v
}

/// Builds orgs A, B and C and one caller of each kind.
async fn fixture(app: &TestApp) -> (Fixture, Vec<Caller>) {
    let mut accounts = Vec::new();
    for name in [
        "owner", "admin", "editor", "viewer", "wsadmin", "bowner", "badmin", "expired", "disabled",
        "revoked", "member", "carol", "neutral",
    ] {
        accounts.push(
            app.signup(&format!("m-{name}@example.com"), "Matrix Person")
                .await,
        );
    }
    let [
        owner,
        admin,
        editor,
        viewer,
        wsadmin,
        bowner,
        badmin,
        expired,
        disabled,
        revoked,
        member,
        carol,
        neutral,
    ] = <[_; 13]>::try_from(accounts).unwrap();

    // The expired session is the one from sign-up: valid now, past its lifetime after
    // the clock moves. Every other caller logs in afresh after that.
    assert_eq!(
        app.get("/api/v1/me", &expired.token).await.0,
        StatusCode::OK
    );
    app.clock
        .advance_seconds(test_settings().session_ttl_hours * 3600 + 60);
    assert_eq!(
        app.get("/api/v1/me", &expired.token).await.0,
        StatusCode::UNAUTHORIZED,
        "a session past its lifetime is refused"
    );
    let login = |email: String| async move {
        let (st, body) = app.login(&email, "password-123").await;
        assert_eq!(st, StatusCode::OK, "{body}");
        s(&body["token"])
    };
    let system_token = app.admin_token().await;
    let owner_t = login(owner.email.clone()).await;
    let admin_t = login(admin.email.clone()).await;
    let editor_t = login(editor.email.clone()).await;
    let viewer_t = login(viewer.email.clone()).await;
    let wsadmin_t = login(wsadmin.email.clone()).await;
    let bowner_t = login(bowner.email.clone()).await;
    let badmin_t = login(badmin.email.clone()).await;
    let disabled_t = login(disabled.email.clone()).await;
    let revoked_t = login(revoked.email.clone()).await;
    let carol_t = login(carol.email.clone()).await;

    let a = create_org(app, &owner_t, "Alpha Matrix Org", Some("alpha-matrix")).await;
    let b = create_org(app, &bowner_t, "Bravo Matrix Org", Some("bravo-matrix")).await;
    let c = create_org(
        app,
        &carol_t,
        "Charlie Neutral Org",
        Some("charlie-neutral"),
    )
    .await;
    let org_a = format!("/api/v1/orgs/{}", a.id);
    for (user, role) in [
        (&admin, "admin"),
        (&editor, "editor"),
        (&viewer, "viewer"),
        (&wsadmin, "viewer"),
        (&expired, "admin"),
        (&disabled, "admin"),
        (&revoked, "admin"),
        (&member, "viewer"),
    ] {
        add_as(app, &system_token, &org_a, &user.id, role).await;
    }
    add_as(
        app,
        &system_token,
        &format!("/api/v1/orgs/{}", b.id),
        &badmin.id,
        "admin",
    )
    .await;

    let ws = |name: &str| json!({"name": name});
    let w1 = s(&post_created(app, &format!("{org_a}/workspaces"), &owner_t, ws("W1")).await["id"]);
    let w2 = s(&post_created(app, &format!("{org_a}/workspaces"), &owner_t, ws("W2")).await["id"]);
    let p1 = s(&post_created(
        app,
        &format!("{org_a}/workspaces/{w1}/projects"),
        &owner_t,
        ws("P1"),
    )
    .await["id"]);
    add_as(
        app,
        &owner_t,
        &format!("{org_a}/workspaces/{w2}"),
        &wsadmin.id,
        "admin",
    )
    .await;
    add_as(
        app,
        &owner_t,
        &format!("{org_a}/workspaces/{w1}"),
        &member.id,
        "viewer",
    )
    .await;
    add_as(
        app,
        &owner_t,
        &format!("{org_a}/workspaces/{w1}/projects/{p1}"),
        &member.id,
        "viewer",
    )
    .await;
    // Org admins create accounts in claimed domains.
    post_created(
        app,
        &format!("{org_a}/domains"),
        &owner_t,
        json!({"domain": "users.matrix-domains.test"}),
    )
    .await;
    let approved = app
        .post(
            &format!(
                "/api/v1/admin/orgs/{}/domains/users.matrix-domains.test/approve",
                a.id
            ),
            &system_token,
            json!({}),
        )
        .await;
    assert_eq!(approved.0, StatusCode::OK, "{}", approved.1);

    // A disabled user's API key, and a revoked key: both worked before.
    let key_of = |token: String, name: &'static str| async move {
        post_created(app, "/api/v1/me/api-keys", &token, json!({"name": name})).await
    };
    let disabled_session = disabled_t.clone();
    let disabled_key = key_of(disabled_t, "disabled").await;
    let disabled_key = s(&disabled_key["token"]);
    assert_eq!(app.get("/api/v1/me", &disabled_key).await.0, StatusCode::OK);
    let (st, body) = app
        .patch(
            &format!("/api/v1/admin/users/{}", disabled.id),
            &system_token,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        app.get("/api/v1/me", &disabled_session).await.0,
        StatusCode::UNAUTHORIZED
    );
    let revoked_key = key_of(revoked_t.clone(), "revoked").await;
    assert_eq!(
        app.get("/api/v1/me", &s(&revoked_key["token"])).await.0,
        StatusCode::OK
    );
    let (st, body) = app
        .delete(
            &format!("/api/v1/me/api-keys/{}", s(&revoked_key["id"])),
            &revoked_t,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");

    // Org service keys: org A's admin key with both scopes, org B's with `check`.
    let service_key = |org: String, token: String, scopes: Value| async move {
        let key = post_created(
            app,
            &format!("/api/v1/orgs/{org}/api-keys"),
            &token,
            json!({"name": "matrix", "role": "admin", "scopes": scopes}),
        )
        .await;
        s(&key["token"])
    };
    let a_key = service_key(
        a.id.clone(),
        owner_t.clone(),
        json!(["check", "secrets:read"]),
    )
    .await;
    let b_key = service_key(b.id.clone(), bowner_t.clone(), json!(["check"])).await;
    let caller = |kind, token: Option<String>, who: Option<&crate::harness::Account>| Caller {
        kind,
        token,
        email: who.map(|a| a.email.clone()).unwrap_or_default(),
        password: "password-123".into(),
    };
    let forged = format!(
        "obs_{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    );
    let callers = vec![
        caller(Kind::Anonymous, None, None),
        caller(Kind::Forged, Some(forged), None),
        caller(Kind::Expired, Some(expired.token.clone()), Some(&expired)),
        caller(Kind::Disabled, Some(disabled_key), Some(&disabled)),
        caller(
            Kind::Revoked,
            Some(s(&revoked_key["token"])),
            Some(&revoked),
        ),
        caller(Kind::Viewer, Some(viewer_t), Some(&viewer)),
        caller(Kind::Editor, Some(editor_t), Some(&editor)),
        caller(Kind::Admin, Some(admin_t), Some(&admin)),
        caller(Kind::Owner, Some(owner_t.clone()), Some(&owner)),
        caller(Kind::OtherOrgAdmin, Some(badmin_t), Some(&badmin)),
        caller(Kind::OtherWorkspaceAdmin, Some(wsadmin_t), Some(&wsadmin)),
        Caller {
            kind: Kind::SystemAdmin,
            token: Some(system_token.clone()),
            email: crate::harness::ADMIN_EMAIL.into(),
            password: crate::harness::ADMIN_PASSWORD.into(),
        },
        caller(Kind::OrgKey, Some(a_key), None),
        caller(Kind::OtherOrgKey, Some(b_key), None),
    ];
    assert_eq!(
        callers.iter().map(|c| c.kind).collect::<Vec<_>>(),
        Kind::ALL.to_vec()
    );
    let fx = Fixture {
        a,
        b,
        c,
        w1,
        p1,
        w2,
        owner_token: owner_t,
        system_token,
        carol_token: carol_t,
        carol_email: carol.email.clone(),
        admin_id: admin.id.clone(),
        editor_id: editor.id.clone(),
        viewer_id: viewer.id.clone(),
        ws_admin_id: wsadmin.id.clone(),
        target_member: member.id.clone(),
        neutral_user: neutral.id.clone(),
    };
    (fx, callers)
}

/// The matrix names org A's things under org A's paths. Here callers name them under
/// paths they do have rights on: org B's admin puts org-A ids under org B, the W2 admin
/// puts P1 under W2, an org-A owner points an invitation at org B's workspace. Each is
/// "not found" (or refused), and org A's things are untouched afterwards.
async fn foreign_ids_stay_foreign(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("f-owner@example.com", "Owner").await;
    let member = app.signup("f-member@example.com", "Member").await;
    let wsadmin = app.signup("f-wsadmin@example.com", "Ws Admin").await;
    let other = app.signup("f-other@example.com", "Other").await;
    let outsider = app.signup("f-outsider@example.com", "Outsider").await;
    let a = format!("/api/v1/orgs/{}", owner.org_id);
    let bo = format!("/api/v1/orgs/{}", other.org_id);
    app.add_to_org(&owner.org_id, &member.id, "viewer").await;
    app.add_to_org(&owner.org_id, &wsadmin.id, "viewer").await;
    let t = &owner.token;
    let w1 =
        s(&post_created(&app, &format!("{a}/workspaces"), t, json!({"name": "W1"})).await["id"]);
    let w2 =
        s(&post_created(&app, &format!("{a}/workspaces"), t, json!({"name": "W2"})).await["id"]);
    let p1 = s(&post_created(
        &app,
        &format!("{a}/workspaces/{w1}/projects"),
        t,
        json!({"name": "P1"}),
    )
    .await["id"]);
    for scope in [
        format!("{a}/workspaces/{w1}"),
        format!("{a}/workspaces/{w1}/projects/{p1}"),
    ] {
        add_as(&app, t, &scope, &member.id, "viewer").await;
    }
    add_as(
        &app,
        t,
        &format!("{a}/workspaces/{w2}"),
        &wsadmin.id,
        "admin",
    )
    .await;
    post_created(
        &app,
        &format!("{a}/domains"),
        t,
        json!({"domain": "f-alpha.matrix-domains.test"}),
    )
    .await;
    let inv = invite(&app, &owner.org_id, t, "f-invitee@example.net").await;
    let inv = s(&inv["id"]);
    let (_, b_ws) = app.get(&format!("{bo}/workspaces"), &other.token).await;
    let b_ws = s(&b_ws["items"][0]["id"]);
    let (_, a_ws) = app.get(&format!("{a}/workspaces"), t).await;
    let before = a_ws["items"].as_array().unwrap().len();

    let mut failures = Vec::new();
    let mut expect = |label: &str, got: (StatusCode, Value), status: u16, codes: &[&str]| {
        let ok =
            got.0.as_u16() == status && got.1["code"].as_str().is_some_and(|c| codes.contains(&c));
        if !ok {
            failures.push(format!(
                "{label}: want {status} {codes:?}, got {} {}",
                got.0, got.1
            ));
        }
    };
    // Org B's owner, under org B's paths, with org A's ids.
    let o = &other.token;
    let ws_nf = &["workspace_not_found"][..];
    expect(
        "B: get A's workspace",
        app.get(&format!("{bo}/workspaces/{w1}"), o).await,
        404,
        ws_nf,
    );
    expect(
        "B: list A's projects",
        app.get(&format!("{bo}/workspaces/{w1}/projects"), o).await,
        404,
        ws_nf,
    );
    expect(
        "B: list A's workspace members",
        app.get(&format!("{bo}/workspaces/{w1}/members"), o).await,
        404,
        ws_nf,
    );
    expect(
        "B: create a project in A's workspace",
        app.post(
            &format!("{bo}/workspaces/{w1}/projects"),
            o,
            json!({"name": "x"}),
        )
        .await,
        404,
        ws_nf,
    );
    expect(
        "B: A's project under B's workspace",
        app.get(&format!("{bo}/workspaces/{b_ws}/projects/{p1}/members"), o)
            .await,
        404,
        &["project_not_found"],
    );
    let m = &member.id;
    expect(
        "B: change an A member's role",
        app.patch(&format!("{bo}/members/{m}"), o, json!({"role": "editor"}))
            .await,
        404,
        &["member_not_found"],
    );
    expect(
        "B: remove an A member",
        app.delete(&format!("{bo}/members/{m}"), o).await,
        404,
        &["member_not_found"],
    );
    expect(
        "B: change an A member's role in B's workspace",
        app.patch(
            &format!("{bo}/workspaces/{b_ws}/members/{m}"),
            o,
            json!({"role": "editor"}),
        )
        .await,
        404,
        &["member_not_found"],
    );
    expect(
        "B: release A's domain",
        app.delete(&format!("{bo}/domains/f-alpha.matrix-domains.test"), o)
            .await,
        404,
        &["domain_not_found"],
    );
    expect(
        "B: resend A's invitation",
        app.post(&format!("{bo}/invitations/{inv}/resend"), o, json!({}))
            .await,
        404,
        &["invitation_not_found"],
    );
    expect(
        "B: revoke A's invitation",
        app.delete(&format!("{bo}/invitations/{inv}"), o).await,
        404,
        &["invitation_not_found"],
    );
    expect(
        "B: invite into A's workspace",
        app.post(
            &format!("{bo}/invitations"),
            o,
            json!({"email": "f-x@example.net", "workspace_id": w1}),
        )
        .await,
        404,
        ws_nf,
    );
    expect(
        "B: invite into A's project",
        app.post(
            &format!("{bo}/invitations"),
            o,
            json!({"email": "f-y@example.net", "workspace_id": b_ws, "project_id": p1}),
        )
        .await,
        404,
        &["project_not_found"],
    );
    // Org A's owner, the other way round.
    expect(
        "A: invite into B's workspace",
        app.post(
            &format!("{a}/invitations"),
            t,
            json!({"email": "f-z@example.net", "workspace_id": b_ws}),
        )
        .await,
        404,
        ws_nf,
    );
    // The W2 admin manages W2, and reaches P1 (of W1) through no W2 path.
    let w = &wsadmin.token;
    let made = app
        .post(
            &format!("{a}/workspaces/{w2}/projects"),
            w,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(
        made.0,
        StatusCode::CREATED,
        "the W2 admin manages W2: {}",
        made.1
    );
    let p_nf = &["project_not_found"][..];
    expect(
        "W2 admin: P1 under W2",
        app.get(&format!("{a}/workspaces/{w2}/projects/{p1}/members"), w)
            .await,
        404,
        p_nf,
    );
    expect(
        "W2 admin: add to P1 under W2",
        app.post(
            &format!("{a}/workspaces/{w2}/projects/{p1}/members"),
            w,
            json!({"user_id": outsider.id, "role": "admin"}),
        )
        .await,
        404,
        p_nf,
    );
    expect(
        "W2 admin: remove from P1 under W2",
        app.delete(&format!("{a}/workspaces/{w2}/projects/{p1}/members/{m}"), w)
            .await,
        404,
        p_nf,
    );
    expect(
        "W2 admin: change a role in P1 under W2",
        app.patch(
            &format!("{a}/workspaces/{w2}/projects/{p1}/members/{m}"),
            w,
            json!({"role": "admin"}),
        )
        .await,
        404,
        p_nf,
    );
    // An admin of a workspace does not make an outsider a member of it.
    expect(
        "W2 admin: add a non-member of the org",
        app.post(
            &format!("{a}/workspaces/{w2}/members"),
            w,
            json!({"user_id": outsider.id, "role": "viewer"}),
        )
        .await,
        409,
        &["not_an_org_member"],
    );

    // Org A is as it was.
    let (_, members) = app.get(&format!("{a}/members"), t).await;
    let still = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["user_id"] == json!(member.id) && x["role"] == "viewer");
    let (_, domains) = app.get(&format!("{a}/domains"), t).await;
    let (_, invs) = app.get(&format!("{a}/invitations?status=pending"), t).await;
    let (_, ws_now) = app.get(&format!("{a}/workspaces"), t).await;
    let (_, p1_members) = app
        .get(&format!("{a}/workspaces/{w1}/projects/{p1}/members"), t)
        .await;
    assert!(still, "{members}");
    assert_eq!(domains["items"].as_array().unwrap().len(), 1, "{domains}");
    assert!(
        invs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == json!(inv)),
        "{invs}"
    );
    assert_eq!(
        ws_now["items"].as_array().unwrap().len(),
        before,
        "{ws_now}"
    );
    assert_eq!(
        p1_members["items"].as_array().unwrap().len(),
        1,
        "{p1_members}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn oidc_client_body(n: usize) -> Value {
    json!({"name": format!("client {n}"), "redirect_uris": [format!("https://platform.example/cb/{n}")]})
}
