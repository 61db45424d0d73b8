use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::{OrgId, ProjectId, UserId, WorkspaceId};
use orgbase_service::{CheckRequest, NewUserInput, OrgRef, UserRef};
use serde::Deserialize;

use crate::AppState;
use crate::extract::{AdminAuth, Body, ListQuery, Query};
use crate::problem::ApiResult;
use crate::views::{AuditView, OrgView, UserView, page};

pub async fn list_users(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let p = s.svc.admin().users(&a, q.page()?).await?;
    Ok(Json(page(p, UserView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    is_system_admin: bool,
    /// Put the user straight into this org (id or slug) ...
    org: Option<String>,
    /// ... with this role (default viewer).
    role: Option<String>,
}

pub async fn create_user(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<CreateUserBody>,
) -> ApiResult<impl IntoResponse> {
    let input = NewUserInput {
        email: b.email,
        password: b.password,
        name: b.name,
        is_system_admin: b.is_system_admin,
        org: b.org.as_deref().map(OrgRef::parse),
        role: b.role,
    };
    let u = s.svc.admin().create_user(&a, input).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(u))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    enabled: Option<bool>,
    password: Option<String>,
    name: Option<String>,
    is_system_admin: Option<bool>,
}

pub async fn update_user(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    p: crate::extract::PathParams,
    Body(b): Body<UserPatchBody>,
) -> ApiResult<impl IntoResponse> {
    let id: UserId = p.id(0, "user_not_found", "user")?;
    let patch = orgbase_service::UserPatch {
        enabled: b.enabled,
        password: b.password,
        name: b.name,
        is_system_admin: b.is_system_admin,
    };
    Ok(Json(UserView::from(
        s.svc
            .admin()
            .update_user(&a, UserRef::Id(id), patch)
            .await?,
    )))
}

pub async fn list_orgs(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let p = s
        .svc
        .admin()
        .orgs(&a, q.include_deleted.unwrap_or(false), q.page()?)
        .await?;
    Ok(Json(page(p, |o| OrgView::new(o, None))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgBody {
    name: String,
    owner_email: String,
    slug: Option<String>,
    description: Option<String>,
    default_framework: Option<String>,
    default_language_model: Option<String>,
    public: Option<bool>,
}

pub async fn create_org(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<CreateOrgBody>,
) -> ApiResult<impl IntoResponse> {
    let input = orgbase_service::NewOrgInput {
        name: b.name,
        slug: b.slug,
        description: b.description,
        default_framework: b.default_framework,
        default_language_model: b.default_language_model,
        public: b.public,
    };
    let org = s.svc.admin().create_org(&a, &b.owner_email, input).await?;
    Ok((StatusCode::CREATED, Json(OrgView::new(org, None))))
}

pub async fn audit(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let org = q
        .org
        .as_deref()
        .and_then(|o| uuid::Uuid::parse_str(o).ok())
        .map(OrgId);
    let events = s
        .svc
        .admin()
        .audit(&a, org, q.action.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(events, AuditView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    user_id: uuid::Uuid,
    permission: String,
    org: String,
    workspace: Option<uuid::Uuid>,
    project: Option<uuid::Uuid>,
}

pub async fn check(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<CheckBody>,
) -> ApiResult<impl IntoResponse> {
    let req = CheckRequest {
        user_id: UserId(b.user_id),
        permission: b.permission,
        org: OrgRef::parse(&b.org),
        workspace: b.workspace.map(WorkspaceId),
        project: b.project.map(ProjectId),
    };
    Ok(Json(s.svc.admin().check(&a, req).await?))
}

pub async fn system_sync(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(s.svc.system().sync(&a).await?))
}
