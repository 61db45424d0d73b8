//! The OpenID Connect clients in the panels: `/admin/oidc` (platform-wide clients,
//! system admins) and `/org-admin/{org}/oidc` (an org's own, its admins). The same use
//! cases as the API's two route families, with the same proofs (ADR 0025).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use orgbase_domain::{OidcClient, OidcClientId, Org, PageRequest};
use orgbase_http::AppState;
use orgbase_service::authz::perm;
use orgbase_service::oidc::{ClientAuthority, ClientInput};
use serde::Deserialize;

use super::{Nothing, id_of};
use crate::render::{Refusal, respond};
use crate::session::{AdminPage, Ctx, Form, OrgPage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/oidc", get(admin_list).post(admin_create))
        .route("/admin/oidc/{id}/delete", post(admin_delete))
        .route("/admin/oidc/{id}/secret", post(admin_secret))
        .route("/org-admin/{org}/oidc", get(org_list).post(org_create))
        .route("/org-admin/{org}/oidc/{id}/delete", post(org_delete))
        .route("/org-admin/{org}/oidc/{id}/secret", post(org_secret))
}

#[derive(Template)]
#[template(path = "admin_oidc.html")]
struct AdminOidcPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    clients: Vec<OidcClient>,
    base: String,
    platform: bool,
}

#[derive(Template)]
#[template(path = "org_oidc.html")]
struct OrgOidcPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    clients: Vec<OidcClient>,
    base: String,
    platform: bool,
}

#[derive(Deserialize)]
struct ClientForm {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: Option<String>,
    confidential: Option<String>,
    groups: Option<String>,
    admin_role: Option<String>,
    alg: Option<String>,
    first_party: Option<String>,
    allowed_orgs: Option<String>,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

impl ClientForm {
    fn input(self, platform: bool) -> ClientInput {
        ClientInput {
            name: Some(self.name),
            redirect_uris: Some(lines(&self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(
                self.post_logout_redirect_uris.as_deref().unwrap_or(""),
            )),
            confidential: Some(self.confidential.is_some()),
            groups: self.groups,
            admin_role: Some(self.admin_role.is_some()),
            id_token_signed_response_alg: self.alg,
            // Only the system admins' form has these fields.
            first_party: platform.then_some(self.first_party.is_some()),
            allowed_orgs: if platform {
                Some(
                    self.allowed_orgs
                        .unwrap_or_default()
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                )
            } else {
                None
            },
        }
    }
}

/// The page of `by`'s clients, after whatever the form did.
async fn render(
    s: &AppState,
    ctx: &Ctx,
    by: &(impl ClientAuthority + Sync),
    org: Option<&Org>,
    status: StatusCode,
) -> Response {
    let clients = match s.svc.oidc().clients(by, PageRequest::first(200)).await {
        Ok(p) => p.items,
        Err(e) => return Refusal::error(e).into_response(),
    };
    match org {
        None => {
            let page = AdminOidcPage {
                ctx,
                section: "oidc",
                clients,
                base: "/admin/oidc".into(),
                platform: true,
            };
            respond(ctx, status, &page)
        }
        Some(o) => {
            let page = OrgOidcPage {
                ctx,
                section: "oidc",
                o,
                clients,
                base: format!("/org-admin/{}/oidc", o.slug),
                platform: false,
            };
            respond(ctx, status, &page)
        }
    }
}

async fn create(
    s: &AppState,
    ctx: &mut Ctx,
    by: &(impl ClientAuthority + Sync),
    input: ClientInput,
) -> StatusCode {
    match s.svc.oidc().create_client(by, input).await {
        Ok(c) => {
            let text = format!(
                "{} is registered; its client id is {}.",
                c.client.name, c.client.client_id
            );
            match c.client_secret {
                Some(secret) => ctx.secret(
                    "client",
                    format!("{text} Its secret, shown this once:"),
                    secret,
                ),
                None => ctx.done(
                    "client",
                    format!("{text} It is public: it has no secret and must use PKCE."),
                ),
            }
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("client", e),
    }
}

async fn delete(
    s: &AppState,
    ctx: &mut Ctx,
    by: &(impl ClientAuthority + Sync),
    id: &str,
) -> StatusCode {
    match s
        .svc
        .oidc()
        .delete_client(by, id_of::<OidcClientId>(id))
        .await
    {
        Ok(()) => {
            ctx.done(
                "clients",
                "The client is deleted, with its codes, tokens and consents.",
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("clients", e),
    }
}

async fn secret(
    s: &AppState,
    ctx: &mut Ctx,
    by: &(impl ClientAuthority + Sync),
    id: &str,
) -> StatusCode {
    match s
        .svc
        .oidc()
        .new_client_secret(by, id_of::<OidcClientId>(id))
        .await
    {
        Ok(c) => {
            let text = format!(
                "{} has a new secret; the old one no longer works. Shown this once:",
                c.client.name
            );
            ctx.secret("clients", text, c.client_secret.unwrap_or_default());
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("clients", e),
    }
}

async fn admin_list(State(s): State<AppState>, AdminPage(ctx, a): AdminPage) -> Response {
    render(&s, &ctx, &a, None, StatusCode::OK).await
}

async fn admin_create(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Form(f): Form<ClientForm>,
) -> Response {
    let status = create(&s, &mut ctx, &a, f.input(true)).await;
    render(&s, &ctx, &a, None, status).await
}

async fn admin_delete(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Path(id): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = delete(&s, &mut ctx, &a, &id).await;
    render(&s, &ctx, &a, None, status).await
}

async fn admin_secret(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Path(id): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = secret(&s, &mut ctx, &a, &id).await;
    render(&s, &ctx, &a, None, status).await
}

async fn org_list(
    State(s): State<AppState>,
    OrgPage(ctx, a): OrgPage<perm::OidcClientsManage>,
) -> Response {
    let org = a.org().clone();
    render(&s, &ctx, &a, Some(&org), StatusCode::OK).await
}

async fn org_create(
    State(s): State<AppState>,
    OrgPage(mut ctx, a): OrgPage<perm::OidcClientsManage>,
    Form(f): Form<ClientForm>,
) -> Response {
    let status = create(&s, &mut ctx, &a, f.input(false)).await;
    let org = a.org().clone();
    render(&s, &ctx, &a, Some(&org), status).await
}

async fn org_delete(
    State(s): State<AppState>,
    OrgPage(mut ctx, a): OrgPage<perm::OidcClientsManage>,
    Path((_, id)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = delete(&s, &mut ctx, &a, &id).await;
    let org = a.org().clone();
    render(&s, &ctx, &a, Some(&org), status).await
}

async fn org_secret(
    State(s): State<AppState>,
    OrgPage(mut ctx, a): OrgPage<perm::OidcClientsManage>,
    Path((_, id)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = secret(&s, &mut ctx, &a, &id).await;
    let org = a.org().clone();
    render(&s, &ctx, &a, Some(&org), status).await
}
