use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::UserId;
use orgbase_service::{MemberInput, perm};
use serde::Deserialize;

use crate::AppState;
use crate::extract::{Body, ListQuery, OrgAuth, PathParams, Query, ScopeAuth};
use crate::problem::ApiResult;
use crate::views::{MemberView, ProjectView, WorkspaceView, page};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    name: String,
}

pub async fn list_workspaces(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::WorkspacesRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let list = s.svc.hierarchy().workspaces(&access, q.page()?).await?;
    Ok(Json(page(list, WorkspaceView::from)))
}

pub async fn create_workspace(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::WorkspacesManage>,
    Body(b): Body<NameBody>,
) -> ApiResult<impl IntoResponse> {
    let ws = s.svc.hierarchy().create_workspace(&access, &b.name).await?;
    Ok((StatusCode::CREATED, Json(WorkspaceView::from(ws))))
}

pub async fn get_workspace(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::WorkspacesRead>,
) -> ApiResult<impl IntoResponse> {
    let ws = s.svc.hierarchy().workspace(access)?;
    Ok(Json(WorkspaceView::from(ws)))
}

pub async fn list_projects(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::ProjectsRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let list = s.svc.hierarchy().projects(&access, q.page()?).await?;
    Ok(Json(page(list, ProjectView::from)))
}

pub async fn create_project(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::ProjectsManage>,
    Body(b): Body<NameBody>,
) -> ApiResult<impl IntoResponse> {
    let project = s.svc.hierarchy().create_project(&access, &b.name).await?;
    Ok((StatusCode::CREATED, Json(ProjectView::from(project))))
}

/// The member a path ends with (`.../members/{user_id}`).
fn member_id(p: &PathParams) -> ApiResult<UserId> {
    p.id(p.0.len().saturating_sub(1), "member_not_found", "member")
}

pub async fn list_members(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let list = s.svc.hierarchy().members(&access, q.page()?).await?;
    Ok(Json(page(list, MemberView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMemberBody {
    user_id: Option<uuid::Uuid>,
    email: Option<String>,
    role: String,
}

pub async fn add_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    Body(b): Body<AddMemberBody>,
) -> ApiResult<impl IntoResponse> {
    let input = MemberInput {
        user_id: b.user_id.map(UserId),
        email: b.email,
        role: b.role,
    };
    let m = s.svc.hierarchy().add_member(&access, input).await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(m))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

pub async fn change_role(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersManage>,
    p: PathParams,
    Body(b): Body<RoleBody>,
) -> ApiResult<impl IntoResponse> {
    let user = member_id(&p)?;
    let m = s
        .svc
        .hierarchy()
        .change_role(&access, user, &b.role)
        .await?;
    Ok(Json(MemberView::from(m)))
}

/// Any member may remove themselves; removing others takes `members.manage` there,
/// which the service checks for that case.
pub async fn remove_member(
    State(s): State<AppState>,
    ScopeAuth(access): ScopeAuth<perm::MembersRead>,
    p: PathParams,
) -> ApiResult<StatusCode> {
    let user = member_id(&p)?;
    s.svc.hierarchy().remove_member(&access, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
