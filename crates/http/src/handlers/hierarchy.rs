use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::{ProjectId, UserId, WorkspaceId};
use orgbase_service::{MemberInput, OrgRef, ScopePath, perm};
use serde::Deserialize;

use crate::AppState;
use crate::extract::{Body, ListQuery, OrgAuth, PathParams, Query};
use crate::problem::{ApiResult, Problem};
use crate::views::{MemberView, ProjectView, WorkspaceView, page};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    name: String,
}

pub async fn list_workspaces(
    State(s): State<AppState>,
    OrgAuth(_, access): OrgAuth<perm::WorkspacesRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let list = s.svc.list_workspaces(&access, q.page()?).await?;
    Ok(Json(page(list, WorkspaceView::from)))
}

pub async fn create_workspace(
    State(s): State<AppState>,
    OrgAuth(a, access): OrgAuth<perm::WorkspacesManage>,
    Body(b): Body<NameBody>,
) -> ApiResult<impl IntoResponse> {
    let ws = s.svc.create_workspace(&access, &a, &b.name).await?;
    Ok((StatusCode::CREATED, Json(WorkspaceView::from(ws))))
}

pub async fn get_workspace(
    State(s): State<AppState>,
    OrgAuth(_, access): OrgAuth<perm::WorkspacesRead>,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let ws = s
        .svc
        .workspace_in(
            &access,
            p.id::<WorkspaceId>(1, "workspace_not_found", "workspace")?,
        )
        .await?;
    Ok(Json(WorkspaceView::from(ws)))
}

pub async fn list_projects(
    State(s): State<AppState>,
    OrgAuth(_, access): OrgAuth<perm::ProjectsRead>,
    p: PathParams,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let ws = p.id::<WorkspaceId>(1, "workspace_not_found", "workspace")?;
    let list = s.svc.list_projects(&access, ws, q.page()?).await?;
    Ok(Json(page(list, ProjectView::from)))
}

pub async fn create_project(
    State(s): State<AppState>,
    OrgAuth(a, access): OrgAuth<perm::OrgRead>,
    p: PathParams,
    Body(b): Body<NameBody>,
) -> ApiResult<impl IntoResponse> {
    let ws = p.id::<WorkspaceId>(1, "workspace_not_found", "workspace")?;
    let project = s.svc.create_project(&access, &a, ws, &b.name).await?;
    Ok((StatusCode::CREATED, Json(ProjectView::from(project))))
}

/// Reads org, workspace and project from the path (in that order); `with_user` says
/// the last parameter is a user id.
fn scope_of(
    p: &PathParams,
    with_user: bool,
) -> Result<(OrgRef, ScopePath, Option<UserId>), Problem> {
    let n = p.0.len();
    let scope_params = if with_user { n.saturating_sub(1) } else { n };
    let workspace = if scope_params >= 2 {
        Some(p.id::<WorkspaceId>(1, "workspace_not_found", "workspace")?)
    } else {
        None
    };
    let project = if scope_params >= 3 {
        Some(p.id::<ProjectId>(2, "project_not_found", "project")?)
    } else {
        None
    };
    let user = if with_user {
        Some(p.id::<UserId>(n - 1, "member_not_found", "member")?)
    } else {
        None
    };
    Ok((
        OrgRef::parse(p.get(0)),
        ScopePath { workspace, project },
        user,
    ))
}

pub async fn list_members(
    State(s): State<AppState>,
    OrgAuth(_, access): OrgAuth<perm::MembersRead>,
    p: PathParams,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let (_, path, _) = scope_of(&p, false)?;
    let list = s.svc.list_members(&access, path, q.page()?).await?;
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
    OrgAuth(a, access): OrgAuth<perm::OrgRead>,
    p: PathParams,
    Body(b): Body<AddMemberBody>,
) -> ApiResult<impl IntoResponse> {
    let (_, path, _) = scope_of(&p, false)?;
    let input = MemberInput {
        user_id: b.user_id.map(UserId),
        email: b.email,
        role: b.role,
    };
    let m = s.svc.add_member(&access, &a, path, input).await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(m))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

pub async fn change_role(
    State(s): State<AppState>,
    OrgAuth(a, access): OrgAuth<perm::OrgRead>,
    p: PathParams,
    Body(b): Body<RoleBody>,
) -> ApiResult<impl IntoResponse> {
    let (_, path, user) = scope_of(&p, true)?;
    let user = user.ok_or_else(|| {
        Problem::from(orgbase_service::Error::not_found(
            "member_not_found",
            "member",
        ))
    })?;
    let m = s
        .svc
        .change_member_role(&access, &a, path, user, &b.role)
        .await?;
    Ok(Json(MemberView::from(m)))
}

pub async fn remove_member(
    State(s): State<AppState>,
    OrgAuth(a, access): OrgAuth<perm::OrgRead>,
    p: PathParams,
) -> ApiResult<StatusCode> {
    let (_, path, user) = scope_of(&p, true)?;
    let user = user.ok_or_else(|| {
        Problem::from(orgbase_service::Error::not_found(
            "member_not_found",
            "member",
        ))
    })?;
    s.svc.remove_member(&access, &a, path, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
