//! The route table and the OpenAPI 3.1 document built from it.
//!
//! Every handler carries a `#[utoipa::path]` attribute naming its method, path,
//! parameters, body and responses; [`routes`] registers the handlers with
//! `utoipa_axum`, which builds the router and the document from those same
//! attributes, so a route states its method once and cannot be served undocumented.
//! [`finish`] adds what every operation shares: the bearer scheme and the problem
//! document as the answer to every refusal.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::handlers::{
    access, accounts, admin, assistants, config, hierarchy, orgs, portability, service_keys, system,
};
use crate::problem::ProblemBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Orgbase",
        description = "Organizations, users, memberships and roles for AI-assistant platforms."
    ),
    components(schemas(ProblemBody)),
    tags(
        (name = "system", description = "Health, readiness, metrics, this document"),
        (name = "auth", description = "Sign-up, login, logout, one-time password links"),
        (name = "me", description = "The caller's own account and personal API keys"),
        (name = "orgs", description = "Organizations"),
        (name = "audit", description = "An organization's audit log"),
        (name = "config", description = "An organization's configuration: providers, knowledge base, features, limits"),
        (name = "assistants", description = "Assistants: snapshot of the org's defaults, sharing across orgs, resolved provider configuration"),
        (name = "service keys", description = "An organization's service keys: service accounts with a role and scopes"),
        (name = "access", description = "Who gets in: signup settings, claimed domains, accounts made by admins"),
        (name = "invitations", description = "Invitations"),
        (name = "members", description = "Members at org, workspace and project scope"),
        (name = "hierarchy", description = "Workspaces and projects"),
        (name = "check", description = "Permission checks for platforms"),
        (name = "admin", description = "System administration"),
        (name = "oidc", description = "The OpenID Connect provider: discovery, signing keys, registered clients"),
    )
)]
struct Document;

/// Every route of the server. Handlers sharing a path are registered together.
pub fn routes() -> OpenApiRouter<AppState> {
    use crate::handlers::oidc_clients as oc;
    use {access as a, accounts as acc, admin as adm, hierarchy as h, orgs as o, system as sys};
    OpenApiRouter::with_openapi(Document::openapi())
        .routes(routes!(sys::healthz))
        .routes(routes!(sys::readyz))
        .routes(routes!(sys::metrics))
        .routes(routes!(sys::openapi))
        // the OpenID Connect provider
        .routes(routes!(crate::handlers::oidc::discovery))
        .routes(routes!(crate::handlers::oidc::jwks))
        .routes(routes!(oc::list_clients, oc::create_client))
        .routes(routes!(oc::get_client, oc::patch_client, oc::delete_client))
        .routes(routes!(oc::new_client_secret))
        .routes(routes!(oc::list_org_clients, oc::create_org_client))
        .routes(routes!(
            oc::get_org_client,
            oc::patch_org_client,
            oc::delete_org_client
        ))
        .routes(routes!(oc::new_org_client_secret))
        // accounts and the caller's own account
        .routes(routes!(acc::signup))
        .routes(routes!(acc::login))
        .routes(routes!(a::set_password))
        .routes(routes!(acc::password_reset))
        .routes(routes!(a::confirm_password_reset))
        .routes(routes!(acc::logout))
        .routes(routes!(acc::verify_email))
        .routes(routes!(acc::resend_verification))
        .routes(routes!(acc::me, acc::update_me))
        .routes(routes!(acc::change_password))
        .routes(routes!(acc::list_api_keys, acc::create_api_key))
        .routes(routes!(acc::delete_api_key))
        // organizations
        .routes(routes!(o::list_my_orgs, o::create_org))
        .routes(routes!(o::get_org, o::patch_org, o::delete_org))
        .routes(routes!(o::restore_org))
        .routes(routes!(o::transfer_org))
        .routes(routes!(o::org_audit))
        .routes(routes!(portability::export_org))
        .routes(routes!(portability::import_org))
        .routes(routes!(
            config::get_config,
            config::put_config,
            config::patch_config
        ))
        .routes(routes!(config::get_usage))
        // who gets in
        .routes(routes!(
            assistants::list_assistants,
            assistants::create_assistant
        ))
        .routes(routes!(assistants::rederive_assistants))
        .routes(routes!(
            assistants::get_assistant,
            assistants::patch_assistant,
            assistants::delete_assistant
        ))
        .routes(routes!(
            assistants::share_assistant,
            assistants::unshare_assistant
        ))
        .routes(routes!(assistants::resolved_config))
        .routes(routes!(
            service_keys::list_org_api_keys,
            service_keys::create_org_api_key
        ))
        .routes(routes!(service_keys::delete_org_api_key))
        .routes(routes!(a::get_signup, a::put_signup))
        .routes(routes!(a::list_domains, a::add_domain))
        .routes(routes!(a::remove_domain))
        .routes(routes!(a::verify_domain))
        .routes(routes!(a::backfill_domain))
        .routes(routes!(a::list_invitations, a::invite))
        .routes(routes!(a::resend_invitation))
        .routes(routes!(a::revoke_invitation))
        .routes(routes!(a::accept_invitation))
        .routes(routes!(a::decline_invitation))
        .routes(routes!(a::create_org_user))
        .routes(routes!(a::import_users))
        // members, workspaces, projects
        .routes(routes!(h::list_org_members, h::add_org_member))
        .routes(routes!(h::change_org_role, h::remove_org_member))
        .routes(routes!(h::list_workspaces, h::create_workspace))
        .routes(routes!(h::get_workspace))
        .routes(routes!(h::list_projects, h::create_project))
        .routes(routes!(h::list_workspace_members, h::add_workspace_member))
        .routes(routes!(
            h::change_workspace_role,
            h::remove_workspace_member
        ))
        .routes(routes!(h::list_project_members, h::add_project_member))
        .routes(routes!(h::change_project_role, h::remove_project_member))
        // platforms and system administration
        .routes(routes!(adm::check))
        .routes(routes!(adm::admin_list_users, adm::admin_create_user))
        .routes(routes!(adm::admin_update_user))
        .routes(routes!(adm::admin_list_orgs, adm::admin_create_org))
        .routes(routes!(adm::system_sync))
        .routes(routes!(adm::admin_approve_domain))
        .routes(routes!(adm::admin_suspend_org))
        .routes(routes!(adm::admin_reactivate_org))
        .routes(routes!(adm::admin_audit))
}

/// What every operation shares: bearer authentication unless the operation says
/// otherwise (`security(())`), and a problem document for every refusal.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A session token (obs_…) from login, a personal API key (obk_…) or an organization's service key (obo_…)",
                ))
                .build(),
        ),
    );
    components.responses.insert(
        "Problem".to_string(),
        RefOr::T(
            ResponseBuilder::new()
                .description("An RFC 9457 problem document")
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        ),
    );
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for item in doc.paths.paths.values_mut() {
        let ops: [&mut Option<Operation>; 5] = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            // `security(())` in an annotation means "no credentials needed"; say so the
            // standard way (an empty list), which generators read as a public operation.
            if op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()))
            {
                op.security = Some(Vec::new());
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = match status.as_str() {
                        "201" => "Created",
                        _ => "OK",
                    }
                    .to_string();
                }
            }
            op.responses.responses.insert(
                "default".to_string(),
                RefOr::Ref(Ref::from_response_name("Problem")),
            );
        }
    }
}
