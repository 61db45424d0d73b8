//! Workspaces, projects, and members at org, workspace and project scope. A member
//! route exists once per scope; the scope proof (`ScopeAuth`) is checked at the scope
//! the path names, so the three share one body each.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::UserId;
use orgbase_service::{MemberInput, ScopeAccess, perm};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Body, MemberQuery, OrgAuth, PageQuery, Query, ScopeAuth};
use crate::paths::{
    OrgMemberPath, OrgPath, Params, ProjectMemberPath, ProjectPath, WorkspaceMemberPath,
    WorkspacePath, id,
};
use crate::problem::ApiResult;
use crate::views::{GrantableRoleName, MemberView, PageView, ProjectView, WorkspaceView, page};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    name: String,
}

/// Workspaces of the organization.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces", tag = "hierarchy",
    params(OrgPath, PageQuery), responses((status = 200, body = PageView<WorkspaceView>)))]
pub async fn list_workspaces(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::WorkspacesRead>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<WorkspaceView>>> {
    let list = s.svc.hierarchy().workspaces(&access, q.page()?).await?;
    Ok(Json(page(list, WorkspaceView::from)))
}

/// Create a workspace.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces", tag = "hierarchy",
    params(OrgPath), request_body = NameBody, responses((status = 201, body = WorkspaceView)))]
pub async fn create_workspace(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::WorkspacesManage>,
    Body(b): Body<NameBody>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let ws = s.svc.hierarchy().create_workspace(&access, &b.name).await?;
    Ok((StatusCode::CREATED, Json(WorkspaceView::from(ws))))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}", tag = "hierarchy",
    params(WorkspacePath), responses((status = 200, body = WorkspaceView)))]
pub async fn get_workspace(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::WorkspacesRead>,
) -> ApiResult<Json<WorkspaceView>> {
    let ws = s.svc.hierarchy().workspace(access)?;
    Ok(Json(WorkspaceView::from(ws)))
}

/// Projects of a workspace.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}/projects", tag = "hierarchy",
    params(WorkspacePath, PageQuery), responses((status = 200, body = PageView<ProjectView>)))]
pub async fn list_projects(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::ProjectsRead>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<ProjectView>>> {
    let list = s.svc.hierarchy().projects(&access, q.page()?).await?;
    Ok(Json(page(list, ProjectView::from)))
}

/// Create a project.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces/{ws}/projects", tag = "hierarchy",
    params(WorkspacePath), request_body = NameBody, responses((status = 201, body = ProjectView)))]
pub async fn create_project(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::ProjectsManage>,
    Body(b): Body<NameBody>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let project = s.svc.hierarchy().create_project(&access, &b.name).await?;
    Ok((StatusCode::CREATED, Json(ProjectView::from(project))))
}

/// A user to add: by id or by e-mail (org members only below org scope).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberBody {
    user_id: Option<uuid::Uuid>,
    email: Option<String>,
    #[schema(value_type = GrantableRoleName)]
    role: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[schema(value_type = GrantableRoleName)]
    role: String,
}

type MemberPage = ApiResult<Json<PageView<MemberView>>>;
type Created = ApiResult<(StatusCode, Json<MemberView>)>;

async fn members(
    s: AppState,
    access: ScopeAccess<perm::MembersRead>,
    q: MemberQuery,
) -> MemberPage {
    let list = s
        .svc
        .hierarchy()
        .members(&access, q.q.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(list, MemberView::from)))
}

async fn add(s: AppState, access: ScopeAccess<perm::MembersManage>, b: AddMemberBody) -> Created {
    let input = MemberInput {
        user_id: b.user_id.map(UserId),
        email: b.email,
        role: b.role,
    };
    let m = s.svc.hierarchy().add_member(&access, input).await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(m))))
}

async fn change(
    s: AppState,
    access: ScopeAccess<perm::MembersManage>,
    user_id: &str,
    b: RoleBody,
) -> ApiResult<Json<MemberView>> {
    let user: UserId = id(user_id, "member_not_found", "member")?;
    let m = s
        .svc
        .hierarchy()
        .change_role(&access, user, &b.role)
        .await?;
    Ok(Json(MemberView::from(m)))
}

/// Any member may remove themselves; removing others takes `members.manage` there,
/// which the service checks for that case.
async fn remove(
    s: AppState,
    access: ScopeAccess<perm::MembersRead>,
    user_id: &str,
) -> ApiResult<StatusCode> {
    let user: UserId = id(user_id, "member_not_found", "member")?;
    s.svc.hierarchy().remove_member(&access, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of the organization.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "members",
    params(OrgPath, MemberQuery), responses((status = 200, body = PageView<MemberView>)))]
pub async fn list_org_members(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Query(q): Query<MemberQuery>,
) -> MemberPage {
    members(s, access, q).await
}

/// Add an existing user to the organization (system admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members", tag = "members",
    params(OrgPath), request_body = AddMemberBody, responses((status = 201, body = MemberView)))]
pub async fn add_org_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Body(b): Body<AddMemberBody>,
) -> Created {
    add(s, access, b).await
}

/// Change a member's role.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{user_id}", tag = "members",
    params(OrgMemberPath), request_body = RoleBody, responses((status = 200, body = MemberView)))]
pub async fn change_org_role(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Params(p): Params<OrgMemberPath>,
    Body(b): Body<RoleBody>,
) -> ApiResult<Json<MemberView>> {
    change(s, access, &p.user_id, b).await
}

/// Remove a member.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{user_id}", tag = "members",
    params(OrgMemberPath), responses((status = 204, description = "Removed")))]
pub async fn remove_org_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Params(p): Params<OrgMemberPath>,
) -> ApiResult<StatusCode> {
    remove(s, access, &p.user_id).await
}

/// Members of a workspace.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}/members", tag = "members",
    params(WorkspacePath, MemberQuery), responses((status = 200, body = PageView<MemberView>)))]
pub async fn list_workspace_members(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Query(q): Query<MemberQuery>,
) -> MemberPage {
    members(s, access, q).await
}

/// Add an org member to a workspace.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces/{ws}/members", tag = "members",
    params(WorkspacePath), request_body = AddMemberBody,
    responses((status = 201, body = MemberView)))]
pub async fn add_workspace_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Body(b): Body<AddMemberBody>,
) -> Created {
    add(s, access, b).await
}

/// Change a workspace member's role.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}",
    tag = "members", params(WorkspaceMemberPath), request_body = RoleBody,
    responses((status = 200, body = MemberView)))]
pub async fn change_workspace_role(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Params(p): Params<WorkspaceMemberPath>,
    Body(b): Body<RoleBody>,
) -> ApiResult<Json<MemberView>> {
    change(s, access, &p.user_id, b).await
}

/// Remove a workspace member.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/workspaces/{ws}/members/{user_id}",
    tag = "members", params(WorkspaceMemberPath),
    responses((status = 204, description = "Removed")))]
pub async fn remove_workspace_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Params(p): Params<WorkspaceMemberPath>,
) -> ApiResult<StatusCode> {
    remove(s, access, &p.user_id).await
}

/// Members of a project.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members",
    tag = "members", params(ProjectPath, MemberQuery),
    responses((status = 200, body = PageView<MemberView>)))]
pub async fn list_project_members(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Query(q): Query<MemberQuery>,
) -> MemberPage {
    members(s, access, q).await
}

/// Add an org member to a project.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members",
    tag = "members", params(ProjectPath), request_body = AddMemberBody,
    responses((status = 201, body = MemberView)))]
pub async fn add_project_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Body(b): Body<AddMemberBody>,
) -> Created {
    add(s, access, b).await
}

/// Change a project member's role.
#[utoipa::path(patch,
    path = "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}",
    tag = "members", params(ProjectMemberPath), request_body = RoleBody,
    responses((status = 200, body = MemberView)))]
pub async fn change_project_role(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Params(p): Params<ProjectMemberPath>,
    Body(b): Body<RoleBody>,
) -> ApiResult<Json<MemberView>> {
    change(s, access, &p.user_id, b).await
}

/// Remove a project member.
#[utoipa::path(delete,
    path = "/api/v1/orgs/{org}/workspaces/{ws}/projects/{project}/members/{user_id}",
    tag = "members", params(ProjectMemberPath),
    responses((status = 204, description = "Removed")))]
pub async fn remove_project_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Params(p): Params<ProjectMemberPath>,
) -> ApiResult<StatusCode> {
    remove(s, access, &p.user_id).await
}
