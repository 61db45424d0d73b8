//! System administration (`/admin`) and permission checks for platforms (`/check`).
//! Every handler takes the system-admin proof.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::{OrgId, ProjectId, UserId, WorkspaceId};
use orgbase_service::{CheckRequest, Error, NewUserInput, OrgRef, UserRef};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{
    AdminAuditQuery, AdminAuth, AdminOrgsQuery, AdminUsersQuery, Body, CheckAuth, Query,
};
use crate::paths::{DomainPath, OrgPath, Params, UserPath, id};
use crate::problem::{ApiResult, Problem};
use crate::views::{AuditView, CheckView, DomainView, OrgView, PageView, SyncView, UserView, page};

/// All users.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(AdminUsersQuery),
    responses((status = 200, body = PageView<UserView>)))]
pub async fn admin_list_users(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<AdminUsersQuery>,
) -> ApiResult<Json<PageView<UserView>>> {
    let p = s.svc.admin().users(&a, q.q.as_deref(), q.page()?).await?;
    Ok(Json(page(p, UserView::from)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    is_system_admin: bool,
    /// Put the user straight into this org (id or slug) ...
    org: Option<String>,
    /// ... with this role (default viewer).
    #[schema(value_type = Option<crate::views::GrantableRoleName>)]
    role: Option<String>,
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUserBody,
    responses((status = 201, body = UserView)))]
pub async fn admin_create_user(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
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

/// Fields of a user to change; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    enabled: Option<bool>,
    password: Option<String>,
    name: Option<String>,
    is_system_admin: Option<bool>,
}

/// Enable, disable, rename, reset password, grant system admin.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", params(UserPath),
    request_body = UserPatchBody, responses((status = 200, body = UserView)))]
pub async fn admin_update_user(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<UserPath>,
    Body(b): Body<UserPatchBody>,
) -> ApiResult<Json<UserView>> {
    let user: UserId = id(&p.id, "user_not_found", "user")?;
    let patch = orgbase_service::UserPatch {
        enabled: b.enabled,
        password: b.password,
        name: b.name,
        is_system_admin: b.is_system_admin,
    };
    let u = s
        .svc
        .admin()
        .update_user(&a, UserRef::Id(user), patch)
        .await?;
    Ok(Json(UserView::from(u)))
}

/// All organizations (`include_deleted=true` for deleted ones too).
#[utoipa::path(get, path = "/api/v1/admin/orgs", tag = "admin", params(AdminOrgsQuery),
    responses((status = 200, body = PageView<OrgView>)))]
pub async fn admin_list_orgs(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<AdminOrgsQuery>,
) -> ApiResult<Json<PageView<OrgView>>> {
    let p = s
        .svc
        .admin()
        .orgs(
            &a,
            q.include_deleted.unwrap_or(false),
            q.q.as_deref(),
            q.page()?,
        )
        .await?;
    Ok(Json(page(p, |o| OrgView::new(o, None))))
}

/// A new organization and the existing user who owns it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminNewOrgBody {
    /// The e-mail of an existing user, who becomes the owner.
    owner_email: String,
    name: String,
    /// Made from the name when absent.
    slug: Option<String>,
    description: Option<String>,
    default_framework: Option<String>,
    default_language_model: Option<String>,
    public: Option<bool>,
}

/// Create an organization owned by an existing user.
#[utoipa::path(post, path = "/api/v1/admin/orgs", tag = "admin", request_body = AdminNewOrgBody,
    responses((status = 201, body = OrgView)))]
pub async fn admin_create_org(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Body(b): Body<AdminNewOrgBody>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
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

/// All audit events, newest first (filter by org and action).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AdminAuditQuery),
    responses((status = 200, body = PageView<AuditView>)))]
pub async fn admin_audit(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Query(q): Query<AdminAuditQuery>,
) -> ApiResult<Json<PageView<AuditView>>> {
    // A filter that is not an org id is refused, not ignored (it would return
    // everything).
    let org = match q.org.as_deref() {
        None => None,
        Some(raw) => Some(OrgId(uuid::Uuid::parse_str(raw).map_err(|_| {
            Problem::from(Error::bad_request("invalid_org", "org must be an org id"))
        })?)),
    };
    let events = s
        .svc
        .admin()
        .audit(&a, org, q.action.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(events, AuditView::from)))
}

/// May this user do this there?
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    user_id: uuid::Uuid,
    /// A permission name of the permission table, e.g. `members.manage`.
    permission: String,
    /// The organization's id or slug.
    org: String,
    workspace: Option<uuid::Uuid>,
    project: Option<uuid::Uuid>,
}

/// May this user do this there? (system admins; service keys with the `check` scope,
/// about their own org)
#[utoipa::path(post, path = "/api/v1/check", tag = "check", request_body = CheckBody,
    responses((status = 200, body = CheckView)))]
pub async fn check(
    State(s): State<AppState>,
    CheckAuth(a): CheckAuth,
    Body(b): Body<CheckBody>,
) -> ApiResult<Json<CheckView>> {
    let req = CheckRequest {
        user_id: UserId(b.user_id),
        permission: b.permission,
        org: OrgRef::parse(&b.org),
        workspace: b.workspace.map(WorkspaceId),
        project: b.project.map(ProjectId),
    };
    let r = s.svc.admin().check(&a, req).await?;
    Ok(Json(CheckView {
        allowed: r.allowed,
        role: r.role,
    }))
}

/// Suspend an organization: until it is reactivated, nobody but system admins acts in
/// it (its members and service keys get 403 `org_suspended`, permission checks answer
/// not allowed, nobody joins). The system organization cannot be suspended.
#[utoipa::path(post, path = "/api/v1/admin/orgs/{org}/suspend", tag = "admin",
    params(OrgPath), responses((status = 200, body = OrgView)))]
pub async fn admin_suspend_org(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OrgPath>,
) -> ApiResult<Json<OrgView>> {
    set_suspended(s, a, p, true).await
}

/// Reactivate a suspended organization.
#[utoipa::path(post, path = "/api/v1/admin/orgs/{org}/reactivate", tag = "admin",
    params(OrgPath), responses((status = 200, body = OrgView)))]
pub async fn admin_reactivate_org(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<OrgPath>,
) -> ApiResult<Json<OrgView>> {
    set_suspended(s, a, p, false).await
}

async fn set_suspended(
    s: AppState,
    a: orgbase_service::SystemAdmin,
    p: OrgPath,
    suspended: bool,
) -> ApiResult<Json<OrgView>> {
    let org = s
        .svc
        .admin()
        .set_suspended(&a, &OrgRef::parse(&p.org), suspended)
        .await?;
    Ok(Json(OrgView::new(org, None)))
}

/// Approve an organization's pending domain claim (instead of its DNS proof).
#[utoipa::path(post, path = "/api/v1/admin/orgs/{org}/domains/{domain}/approve", tag = "admin",
    params(DomainPath), responses((status = 200, body = DomainView)))]
pub async fn admin_approve_domain(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
    Params(p): Params<DomainPath>,
) -> ApiResult<Json<DomainView>> {
    let d = s
        .svc
        .access()
        .approve_domain(&a, &OrgRef::parse(&p.org), &p.domain)
        .await?;
    Ok(Json(DomainView::from(d)))
}

/// Sync the system organization from the server's environment.
#[utoipa::path(post, path = "/api/v1/admin/system/sync", tag = "admin",
    responses((status = 200, body = SyncView)))]
pub async fn system_sync(
    State(s): State<AppState>,
    AdminAuth(a): AdminAuth,
) -> ApiResult<Json<SyncView>> {
    let r = s.svc.system().sync(&a).await?;
    Ok(Json(SyncView { changed: r.changed }))
}
