use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::{Role, UserId};
use orgbase_service::{NewOrgInput, OrgPatch, perm};
use serde::Deserialize;

use super::nullable;
use crate::AppState;
use crate::extract::{Auth, Body, ListQuery, OrgAuth, Query};
use crate::problem::ApiResult;
use crate::views::{AuditView, OrgView, page};

pub async fn list_mine(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let p = s.svc.orgs().list_mine(&a, q.page()?).await?;
    Ok(Json(page(p, |o| OrgView::new(o.org, Some(o.role)))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    slug: Option<String>,
    description: Option<String>,
    default_framework: Option<String>,
    default_language_model: Option<String>,
    public: Option<bool>,
}

pub async fn create(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let input = NewOrgInput {
        name: b.name,
        slug: b.slug,
        description: b.description,
        default_framework: b.default_framework,
        default_language_model: b.default_language_model,
        public: b.public,
    };
    let o = s.svc.orgs().create(&a, input).await?;
    Ok((StatusCode::CREATED, Json(OrgView::new(o.org, Some(o.role)))))
}

pub async fn get(OrgAuth(access): OrgAuth<perm::OrgRead>) -> ApiResult<impl IntoResponse> {
    let role = access.role();
    Ok(Json(OrgView::new(access.into_org(), role)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    default_framework: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    default_language_model: Option<Option<String>>,
    public: Option<bool>,
}

pub async fn patch(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
    Body(b): Body<PatchBody>,
) -> ApiResult<impl IntoResponse> {
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

pub async fn delete(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgDelete>,
) -> ApiResult<StatusCode> {
    s.svc.orgs().delete(&access).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgRestore>,
) -> ApiResult<impl IntoResponse> {
    let org = s.svc.orgs().restore(&access).await?;
    Ok(Json(OrgView::new(org, access.role())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    new_owner_id: uuid::Uuid,
}

pub async fn transfer(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgTransfer>,
    Body(b): Body<TransferBody>,
) -> ApiResult<impl IntoResponse> {
    let org = s
        .svc
        .orgs()
        .transfer(&access, UserId(b.new_owner_id))
        .await?;
    let role = if org.owner_id == Some(access.actor().id()) {
        Some(Role::Owner)
    } else {
        access.role().map(|_| Role::Admin)
    };
    Ok(Json(OrgView::new(org, role)))
}

pub async fn audit(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::AuditRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let events = s
        .svc
        .orgs()
        .audit(&access, q.action.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(events, AuditView::from)))
}
