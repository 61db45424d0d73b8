//! Orgbase's HTTP surface. Every route is declared once in [`routes`], which builds
//! both the router and the OpenAPI document, so the two cannot drift apart.

pub mod extract;
mod handlers;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod proxy;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::MethodFilter;
use orgbase_service::Services;

use crate::handlers::{access, accounts, admin, hierarchy, orgs, system};
use crate::openapi::{Api, Op};
use crate::problem::Problem;

/// Largest accepted request body. Org documents are small; imports get their own limit.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub svc: Services,
    pub proxies: Arc<proxy::ProxyTrust>,
    pub metrics: Arc<metrics::Metrics>,
    pub openapi: Arc<str>,
}

/// Every route of the server, with its documentation: one line per operation.
#[rustfmt::skip]
pub fn routes() -> Api {
    use MethodFilter as M;
    Api::default()
        .op(Op::get("/healthz", "system", "Liveness: the process answers").public(), M::GET, system::healthz)
        .op(Op::get("/readyz", "system", "Readiness: the database answers").public(), M::GET, system::readyz)
        .op(Op::get("/metrics", "system", "Prometheus metrics").public(), M::GET, system::metrics)
        .op(Op::get("/api/v1/openapi.json", "system", "This document").public(), M::GET, system::openapi)
        // accounts
        .op(Op::post("/api/v1/auth/signup", "auth", "Sign up; returns the user, a session token and the personal org").public().created(), M::POST, accounts::signup)
        .op(Op::post("/api/v1/auth/login", "auth", "Log in with e-mail and password; returns a session token").public(), M::POST, accounts::login)
        .op(Op::post("/api/v1/auth/set-password", "auth", "Set a password with a one-time link's token").public().no_content(), M::POST, access::set_password)
        .op(Op::post("/api/v1/auth/logout", "auth", "End the current session").no_content(), M::POST, accounts::logout)
        .op(Op::get("/api/v1/me", "me", "The caller and their memberships"), M::GET, accounts::me)
        .op(Op::post("/api/v1/me/password", "me", "Change password; ends the caller's other sessions").no_content(), M::POST, accounts::change_password)
        .op(Op::get("/api/v1/me/api-keys", "me", "The caller's personal API keys").paged(), M::GET, accounts::list_api_keys)
        .op(Op::post("/api/v1/me/api-keys", "me", "Create a personal API key; the token is shown once").created(), M::POST, accounts::create_api_key)
        .op(Op::delete("/api/v1/me/api-keys/{id}", "me", "Revoke a personal API key").no_content(), M::DELETE, accounts::delete_api_key)
        // organizations
        .op(Op::get("/api/v1/orgs", "orgs", "Organizations the caller belongs to").paged(), M::GET, orgs::list_mine)
        .op(Op::post("/api/v1/orgs", "orgs", "Create an organization; the caller becomes its owner").created(), M::POST, orgs::create)
        .op(Op::get("/api/v1/orgs/{org}", "orgs", "One organization, by id or slug"), M::GET, orgs::get)
        .op(Op::patch("/api/v1/orgs/{org}", "orgs", "Change fields of an organization (only those given)"), M::PATCH, orgs::patch)
        .op(Op::delete("/api/v1/orgs/{org}", "orgs", "Soft-delete an organization").no_content(), M::DELETE, orgs::delete)
        .op(Op::post("/api/v1/orgs/{org}/restore", "orgs", "Restore a soft-deleted organization"), M::POST, orgs::restore)
        .op(Op::post("/api/v1/orgs/{org}/transfer", "orgs", "Transfer ownership to an active member"), M::POST, orgs::transfer)
        .op(Op::get("/api/v1/orgs/{org}/audit", "audit", "The organization's audit events, newest first").paged(), M::GET, orgs::audit)
        // who gets in: signup settings, claimed domains, invitations, accounts made by admins
        .op(Op::get("/api/v1/orgs/{org}/signup", "access", "Signup settings: enabled, key, default role (admins)"), M::GET, access::get_signup)
        .op(Op::put("/api/v1/orgs/{org}/signup", "access", "Change signup settings; rotate the key"), M::PUT, access::put_signup)
        .op(Op::get("/api/v1/orgs/{org}/domains", "access", "E-mail domains the organization claims"), M::GET, access::list_domains)
        .op(Op::post("/api/v1/orgs/{org}/domains", "access", "Claim an e-mail domain (auto-join, role)").created(), M::POST, access::add_domain)
        .op(Op::delete("/api/v1/orgs/{org}/domains/{domain}", "access", "Release a claimed domain").no_content(), M::DELETE, access::remove_domain)
        .op(Op::get("/api/v1/orgs/{org}/invitations", "invitations", "Invitations, filtered by status").paged(), M::GET, access::list_invitations)
        .op(Op::post("/api/v1/orgs/{org}/invitations", "invitations", "Invite an e-mail; the token is returned once").created(), M::POST, access::invite)
        .op(Op::post("/api/v1/orgs/{org}/invitations/{id}/resend", "invitations", "New token and expiry for an invitation"), M::POST, access::resend)
        .op(Op::delete("/api/v1/orgs/{org}/invitations/{id}", "invitations", "Revoke an invitation").no_content(), M::DELETE, access::revoke)
        .op(Op::post("/api/v1/invitations/accept", "invitations", "Accept an invitation (signed in, matching e-mail)"), M::POST, access::accept)
        .op(Op::post("/api/v1/invitations/decline", "invitations", "Decline an invitation with its token").public().no_content(), M::POST, access::decline)
        .op(Op::post("/api/v1/orgs/{org}/users", "access", "Create an account in the organization (e-mail in a claimed domain)").created(), M::POST, access::create_org_user)
        // members at org scope
        .op(Op::get("/api/v1/orgs/{org}/members", "members", "Members of the organization").paged(), M::GET, hierarchy::list_members)
        .op(Op::post("/api/v1/orgs/{org}/members", "members", "Add an existing user to the organization (system admins)").created(), M::POST, hierarchy::add_member)
        .op(Op::patch("/api/v1/orgs/{org}/members/{user_id}", "members", "Change a member's role"), M::PATCH, hierarchy::change_role)
        .op(Op::delete("/api/v1/orgs/{org}/members/{user_id}", "members", "Remove a member").no_content(), M::DELETE, hierarchy::remove_member)
        // workspaces and projects
        .op(Op::get("/api/v1/orgs/{org}/workspaces", "hierarchy", "Workspaces of the organization").paged(), M::GET, hierarchy::list_workspaces)
        .op(Op::post("/api/v1/orgs/{org}/workspaces", "hierarchy", "Create a workspace").created(), M::POST, hierarchy::create_workspace)
        .op(Op::get("/api/v1/orgs/{org}/workspaces/{ws}", "hierarchy", "One workspace"), M::GET, hierarchy::get_workspace)
        .op(Op::get("/api/v1/orgs/{org}/workspaces/{ws}/projects", "hierarchy", "Projects of a workspace").paged(), M::GET, hierarchy::list_projects)
        .op(Op::post("/api/v1/orgs/{org}/workspaces/{ws}/projects", "hierarchy", "Create a project").created(), M::POST, hierarchy::create_project)
        .op(Op::get("/api/v1/orgs/{org}/workspaces/{ws}/members", "members", "Members of a workspace").paged(), M::GET, hierarchy::list_members)
        .op(Op::post("/api/v1/orgs/{org}/workspaces/{ws}/members", "members", "Add an org member to a workspace").created(), M::POST, hierarchy::add_member)
        .op(Op::patch("/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}", "members", "Change a workspace member's role"), M::PATCH, hierarchy::change_role)
        .op(Op::delete("/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}", "members", "Remove a workspace member").no_content(), M::DELETE, hierarchy::remove_member)
        .op(Op::get("/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members", "members", "Members of a project").paged(), M::GET, hierarchy::list_members)
        .op(Op::post("/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members", "members", "Add an org member to a project").created(), M::POST, hierarchy::add_member)
        .op(Op::patch("/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}", "members", "Change a project member's role"), M::PATCH, hierarchy::change_role)
        .op(Op::delete("/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}", "members", "Remove a project member").no_content(), M::DELETE, hierarchy::remove_member)
        // permission checks for platforms
        .op(Op::post("/api/v1/check", "check", "May this user do this there? (system admins)"), M::POST, admin::check)
        // system administration
        .op(Op::get("/api/v1/admin/users", "admin", "All users").paged(), M::GET, admin::list_users)
        .op(Op::post("/api/v1/admin/users", "admin", "Create a user").created(), M::POST, admin::create_user)
        .op(Op::patch("/api/v1/admin/users/{id}", "admin", "Enable, disable, rename, reset password, grant system admin"), M::PATCH, admin::update_user)
        .op(Op::get("/api/v1/admin/orgs", "admin", "All organizations (include_deleted=true for deleted ones)").paged(), M::GET, admin::list_orgs)
        .op(Op::post("/api/v1/admin/orgs", "admin", "Create an organization owned by an existing user").created(), M::POST, admin::create_org)
        .op(Op::post("/api/v1/admin/system/sync", "admin", "Sync the system organization from the server's environment"), M::POST, admin::system_sync)
        .op(Op::get("/api/v1/admin/audit", "admin", "All audit events, newest first (filter by org and action)").paged(), M::GET, admin::audit)
}

/// The complete application: routes, limits, fallbacks and the observing middleware.
/// Settings of the HTTP layer itself.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    pub trusted_proxies: proxy::ProxyTrust,
}

pub fn app(svc: Services, options: HttpOptions) -> Router {
    let api = routes();
    let openapi: Arc<str> = api.document().to_string().into();
    let state = AppState {
        svc,
        proxies: Arc::new(options.trusted_proxies),
        metrics: Arc::new(metrics::Metrics::default()),
        openapi,
    };
    api.router
        .fallback(|| async { Problem::route_not_found() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}
