//! Organizations: the caller's own, create, read, change, delete, restore, transfer,
//! and the org's audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::{Role, UserId};
use orgbase_service::{NewOrgInput, OrgPatch, perm};
use serde::Deserialize;
use utoipa::ToSchema;

use super::nullable;
use crate::AppState;
use crate::extract::{AuditQuery, Auth, Body, OrgAuth, PageQuery, Query};
use crate::paths::OrgPath;
use crate::problem::ApiResult;
use crate::views::{AuditView, OrgView, PageView, page};

/// Organizations the caller belongs to.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", params(PageQuery),
    responses((status = 200, body = PageView<OrgView>)))]
pub async fn list_my_orgs(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<OrgView>>> {
    let p = s.svc.orgs().list_mine(&a, q.page()?).await?;
    Ok(Json(page(p, |o| OrgView::new(o.org, Some(o.role)))))
}

/// A new organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgBody {
    name: String,
    /// Made from the name when absent.
    slug: Option<String>,
    description: Option<String>,
    default_framework: Option<String>,
    default_language_model: Option<String>,
    public: Option<bool>,
}

impl From<NewOrgBody> for NewOrgInput {
    fn from(b: NewOrgBody) -> Self {
        NewOrgInput {
            name: b.name,
            slug: b.slug,
            description: b.description,
            default_framework: b.default_framework,
            default_language_model: b.default_language_model,
            public: b.public,
        }
    }
}

/// Create an organization; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", request_body = NewOrgBody,
    responses((status = 201, body = OrgView)))]
pub async fn create_org(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<NewOrgBody>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let o = s.svc.orgs().create(&a, b.into()).await?;
    Ok((StatusCode::CREATED, Json(OrgView::new(o.org, Some(o.role)))))
}

/// One organization, by id or slug.
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "orgs", params(OrgPath),
    responses((status = 200, body = OrgView)))]
pub async fn get_org(OrgAuth(access): OrgAuth<perm::OrgRead>) -> ApiResult<Json<OrgView>> {
    let role = access.role();
    Ok(Json(OrgView::new(access.into_org(), role)))
}

/// Fields of an organization to change; absent fields stay, `null` clears a default.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatchBody {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    default_framework: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    default_language_model: Option<Option<String>>,
    public: Option<bool>,
}

/// Change fields of an organization (only those given).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}", tag = "orgs", params(OrgPath),
    request_body = OrgPatchBody, responses((status = 200, body = OrgView)))]
pub async fn patch_org(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
    Body(b): Body<OrgPatchBody>,
) -> ApiResult<Json<OrgView>> {
    let patch = OrgPatch {
        name: b.name,
        slug: b.slug,
        description: b.description,
        default_framework: b.default_framework,
        default_language_model: b.default_language_model,
        public: b.public,
    };
    let org = s.svc.orgs().update(&access, patch).await?;
    Ok(Json(OrgView::new(org, access.role())))
}

/// Soft-delete an organization.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}", tag = "orgs", params(OrgPath),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_org(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgDelete>,
) -> ApiResult<StatusCode> {
    s.svc.orgs().delete(&access).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a soft-deleted organization.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/restore", tag = "orgs", params(OrgPath),
    responses((status = 200, body = OrgView)))]
pub async fn restore_org(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgRestore>,
) -> ApiResult<Json<OrgView>> {
    let org = s.svc.orgs().restore(&access).await?;
    Ok(Json(OrgView::new(org, access.role())))
}

/// The member who becomes owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    new_owner_id: uuid::Uuid,
}

/// Transfer ownership to an active member.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/transfer", tag = "orgs", params(OrgPath),
    request_body = TransferBody, responses((status = 200, body = OrgView)))]
pub async fn transfer_org(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgTransfer>,
    Body(b): Body<TransferBody>,
) -> ApiResult<Json<OrgView>> {
    let org = s
        .svc
        .orgs()
        .transfer(&access, UserId(b.new_owner_id))
        .await?;
    let role = if org.owner_id == access.caller().user_id() {
        Some(Role::Owner)
    } else {
        access.role().map(|_| Role::Admin)
    };
    Ok(Json(OrgView::new(org, role)))
}

/// The organization's audit events, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit", tag = "audit", params(OrgPath, AuditQuery),
    responses((status = 200, body = PageView<AuditView>)))]
pub async fn org_audit(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<PageView<AuditView>>> {
    let events = s
        .svc
        .orgs()
        .audit(&access, q.action.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(events, AuditView::from)))
}
