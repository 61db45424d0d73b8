//! An organization's service keys (admins): a key acts as a service account of that
//! org, with a role and optional scopes, and never reaches another org.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::ApiKeyId;
use orgbase_service::{ServiceKeyInput, perm};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Body, OrgAuth, PageQuery, Query};
use crate::paths::{OrgApiKeyPath, OrgPath, Params, id};
use crate::problem::ApiResult;
use crate::views::{OrgApiKeyCreatedView, OrgApiKeyView, PageView, page};

/// The org's service keys.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/api-keys", tag = "service keys",
    params(OrgPath, PageQuery), responses((status = 200, body = PageView<OrgApiKeyView>)))]
pub async fn list_org_api_keys(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::ApiKeysManage>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<OrgApiKeyView>>> {
    let p = s.svc.service_keys().list(&a, q.page()?).await?;
    Ok(Json(page(p, OrgApiKeyView::from)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgApiKeyBody {
    name: String,
    /// The key's role in the org (default `viewer`; at most your own, and at most admin).
    #[schema(value_type = Option<crate::views::GrantableRoleName>)]
    role: Option<String>,
    /// `secrets:read` (admin keys only) lets the key read provider keys in resolved
    /// configurations; `check` lets it ask `POST /api/v1/check` about its org.
    #[schema(value_type = Option<Vec<crate::views::KeyScopeName>>)]
    #[serde(default)]
    scopes: Vec<String>,
    /// The key expires after this many days (at most 3650); never when absent.
    expires_in_days: Option<i64>,
}

/// Create a service key; the token is shown once. People only: a service key cannot
/// create keys.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/api-keys", tag = "service keys",
    params(OrgPath), request_body = OrgApiKeyBody,
    responses((status = 201, body = OrgApiKeyCreatedView)))]
pub async fn create_org_api_key(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::ApiKeysManage>,
    Body(b): Body<OrgApiKeyBody>,
) -> ApiResult<(StatusCode, Json<OrgApiKeyCreatedView>)> {
    let input = ServiceKeyInput {
        name: b.name,
        role: b.role,
        scopes: b.scopes,
        expires_in_days: b.expires_in_days,
    };
    let created = s.svc.service_keys().create(&a, input).await?;
    let body = OrgApiKeyCreatedView {
        key: OrgApiKeyView::from(created.key),
        token: created.token,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Revoke a service key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/api-keys/{id}", tag = "service keys",
    params(OrgApiKeyPath), responses((status = 204, description = "Revoked")))]
pub async fn delete_org_api_key(
    State(s): State<AppState>,
    OrgAuth(a): OrgAuth<perm::ApiKeysManage>,
    Params(p): Params<OrgApiKeyPath>,
) -> ApiResult<StatusCode> {
    let key: ApiKeyId = id(&p.id, "api_key_not_found", "API key")?;
    s.svc.service_keys().delete(&a, key).await?;
    Ok(StatusCode::NO_CONTENT)
}
