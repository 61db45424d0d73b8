//! OpenID Connect clients: platform-wide ones (system admins, `/oidc/clients`) and an
//! org's own (its admins, `/orgs/{org}/oidc/clients`). The same use cases serve both;
//! each route's proof decides whose clients it reaches (ADR 0025).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::OidcClientId;
use orgbase_service::oidc::ClientInput;
use orgbase_service::perm;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{AdminAuth, Body, OrgAuth, PageQuery, Query};
use crate::paths::{OidcClientPath, OrgOidcClientPath, OrgPath, Params, id};
use crate::problem::ApiResult;
use crate::views::{OidcClientCreatedView, OidcClientView, PageView, page};

const TAG: &str = "oidc";

/// A client to register, or the fields to change (absent ones stay).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcClientBody {
    /// Required at registration.
    name: Option<String>,
    /// Matched exactly; https, or http on a loopback host. At least one at registration.
    redirect_uris: Option<Vec<String>>,
    /// Where `/oidc/logout` may send the browser afterwards (matched exactly).
    post_logout_redirect_uris: Option<Vec<String>>,
    /// Confidential (a secret; the default) or public (PKCE only). Fixed at registration.
    confidential: Option<bool>,
    /// Platform-wide clients: only these orgs' members (ids or slugs) sign in.
    allowed_orgs: Option<Vec<String>>,
    /// Platform-wide clients: no consent page.
    first_party: Option<bool>,
    /// `orgs`, `roles` (default) or `full`: how the `groups` claim names organizations.
    groups: Option<String>,
    /// Put `admin` in the `roles` claim of org owners and admins.
    admin_role: Option<bool>,
    /// `RS256` (default) or `EdDSA`.
    id_token_signed_response_alg: Option<String>,
}

impl From<OidcClientBody> for ClientInput {
    fn from(b: OidcClientBody) -> Self {
        Self {
            name: b.name,
            redirect_uris: b.redirect_uris,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            confidential: b.confidential,
            allowed_orgs: b.allowed_orgs,
            first_party: b.first_party,
            groups: b.groups,
            admin_role: b.admin_role,
            id_token_signed_response_alg: b.id_token_signed_response_alg,
        }
    }
}

fn client_id(raw: &str) -> Result<OidcClientId, crate::problem::Problem> {
    id(raw, "oidc_client_not_found", "OpenID Connect client")
}

type One = ApiResult<Json<OidcClientView>>;
type WithSecret = ApiResult<(StatusCode, Json<OidcClientCreatedView>)>;

/// Platform-wide clients.
#[utoipa::path(get, path = "/api/v1/oidc/clients", tag = TAG, params(PageQuery),
    responses((status = 200, body = PageView<OidcClientView>)))]
pub async fn list_clients(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<OidcClientView>>> {
    let p = s.svc.oidc().clients(&a, q.page()?).await?;
    Ok(Json(page(p, OidcClientView::from)))
}

/// Register a platform-wide client; a confidential client's secret is shown once.
#[utoipa::path(post, path = "/api/v1/oidc/clients", tag = TAG, request_body = OidcClientBody,
    responses((status = 201, body = OidcClientCreatedView)))]
pub async fn create_client(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<OidcClientBody>,
) -> WithSecret {
    let c = s.svc.oidc().create_client(&a, b.into()).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One platform-wide client.
#[utoipa::path(get, path = "/api/v1/oidc/clients/{client}", tag = TAG, params(OidcClientPath),
    responses((status = 200, body = OidcClientView)))]
pub async fn get_client(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OidcClientPath>,
) -> One {
    let c = s.svc.oidc().client(&a, client_id(&p.client)?).await?;
    Ok(Json(c.into()))
}

/// Change a platform-wide client (absent fields stay).
#[utoipa::path(patch, path = "/api/v1/oidc/clients/{client}", tag = TAG,
    params(OidcClientPath), request_body = OidcClientBody,
    responses((status = 200, body = OidcClientView)))]
pub async fn patch_client(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OidcClientPath>,
    Body(b): Body<OidcClientBody>,
) -> One {
    let c = s
        .svc
        .oidc()
        .update_client(&a, client_id(&p.client)?, b.into())
        .await?;
    Ok(Json(c.into()))
}

/// Delete a platform-wide client, with its codes, tokens and consents.
#[utoipa::path(delete, path = "/api/v1/oidc/clients/{client}", tag = TAG,
    params(OidcClientPath), responses((status = 204, description = "Deleted")))]
pub async fn delete_client(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OidcClientPath>,
) -> ApiResult<StatusCode> {
    s.svc
        .oidc()
        .delete_client(&a, client_id(&p.client)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for a confidential client, shown once; the old one stops at once.
#[utoipa::path(post, path = "/api/v1/oidc/clients/{client}/secret", tag = TAG,
    params(OidcClientPath), responses((status = 201, body = OidcClientCreatedView)))]
pub async fn new_client_secret(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OidcClientPath>,
) -> WithSecret {
    let c = s
        .svc
        .oidc()
        .new_client_secret(&a, client_id(&p.client)?)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// The org's own clients.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/oidc/clients", tag = TAG,
    params(OrgPath, PageQuery), responses((status = 200, body = PageView<OidcClientView>)))]
pub async fn list_org_clients(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<OidcClientView>>> {
    let p = s.svc.oidc().clients(&a, q.page()?).await?;
    Ok(Json(page(p, OidcClientView::from)))
}

/// Register a client of the org: only its members sign in through it. People only.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/oidc/clients", tag = TAG, params(OrgPath),
    request_body = OidcClientBody, responses((status = 201, body = OidcClientCreatedView)))]
pub async fn create_org_client(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Body(b): Body<OidcClientBody>,
) -> WithSecret {
    let c = s.svc.oidc().create_client(&a, b.into()).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One client of the org.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/oidc/clients/{client}", tag = TAG,
    params(OrgOidcClientPath), responses((status = 200, body = OidcClientView)))]
pub async fn get_org_client(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Params(p): Params<OrgOidcClientPath>,
) -> One {
    let c = s.svc.oidc().client(&a, client_id(&p.client)?).await?;
    Ok(Json(c.into()))
}

/// Change a client of the org (absent fields stay). People only.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/oidc/clients/{client}", tag = TAG,
    params(OrgOidcClientPath), request_body = OidcClientBody,
    responses((status = 200, body = OidcClientView)))]
pub async fn patch_org_client(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Params(p): Params<OrgOidcClientPath>,
    Body(b): Body<OidcClientBody>,
) -> One {
    let c = s
        .svc
        .oidc()
        .update_client(&a, client_id(&p.client)?, b.into())
        .await?;
    Ok(Json(c.into()))
}

/// Delete a client of the org, with its codes, tokens and consents. People only.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/oidc/clients/{client}", tag = TAG,
    params(OrgOidcClientPath), responses((status = 204, description = "Deleted")))]
pub async fn delete_org_client(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Params(p): Params<OrgOidcClientPath>,
) -> ApiResult<StatusCode> {
    s.svc
        .oidc()
        .delete_client(&a, client_id(&p.client)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for a confidential client of the org, shown once. People only.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/oidc/clients/{client}/secret", tag = TAG,
    params(OrgOidcClientPath), responses((status = 201, body = OidcClientCreatedView)))]
pub async fn new_org_client_secret(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::OidcClientsManage>,
    Params(p): Params<OrgOidcClientPath>,
) -> WithSecret {
    let c = s
        .svc
        .oidc()
        .new_client_secret(&a, client_id(&p.client)?)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}
