//! Signup settings, claimed domains, invitations, accounts made by org admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::{InvitationId, ProjectId, WorkspaceId};
use orgbase_service::{DomainInput, InvitationInput, OrgUserInput, SignupSettingsInput, perm};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::extract::{Auth, Body, ClientOrigin, ListQuery, OrgAuth, PathParams, Query};
use crate::problem::ApiResult;
use crate::views::{DomainView, InvitationView, OrgView, UserView, page};

pub async fn get_signup(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::SignupManage>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(s.svc.access().signup_settings(&access)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    enabled: bool,
    key: Option<String>,
    #[serde(default)]
    rotate: bool,
    default_role: Option<String>,
}

pub async fn put_signup(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::SignupManage>,
    Body(b): Body<SignupBody>,
) -> ApiResult<impl IntoResponse> {
    let input = SignupSettingsInput {
        enabled: b.enabled,
        key: b.key,
        rotate: b.rotate,
        default_role: b.default_role,
    };
    Ok(Json(
        s.svc.access().set_signup_settings(&access, input).await?,
    ))
}

pub async fn list_domains(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgRead>,
) -> ApiResult<impl IntoResponse> {
    let items: Vec<DomainView> = s
        .svc
        .access()
        .domains(&access)
        .await?
        .into_iter()
        .map(DomainView::from)
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    domain: String,
    auto_join: Option<bool>,
    role: Option<String>,
}

pub async fn add_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    Body(b): Body<DomainBody>,
) -> ApiResult<impl IntoResponse> {
    let d = s
        .svc
        .access()
        .add_domain(
            &access,
            DomainInput {
                domain: b.domain,
                auto_join: b.auto_join,
                role: b.role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(DomainView::from(d))))
}

pub async fn remove_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    p: PathParams,
) -> ApiResult<StatusCode> {
    s.svc.access().remove_domain(&access, p.get(1)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    role: Option<String>,
    workspace_id: Option<uuid::Uuid>,
    project_id: Option<uuid::Uuid>,
}

fn created_json(c: orgbase_service::InvitationCreated) -> serde_json::Value {
    let mut v = serde_json::to_value(InvitationView::from(c.invitation)).unwrap_or_default();
    v["token"] = json!(c.token);
    v["accept_url"] = json!(c.accept_url);
    v
}

pub async fn invite(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Body(b): Body<InviteBody>,
) -> ApiResult<impl IntoResponse> {
    let input = InvitationInput {
        email: b.email,
        role: b.role,
        workspace_id: b.workspace_id.map(WorkspaceId),
        project_id: b.project_id.map(ProjectId),
    };
    let created = s.svc.invitations().invite(&access, input).await?;
    Ok((StatusCode::CREATED, Json(created_json(created))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationQuery {
    limit: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

pub async fn list_invitations(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Query(q): Query<InvitationQuery>,
) -> ApiResult<impl IntoResponse> {
    let lq = ListQuery {
        limit: q.limit,
        cursor: q.cursor,
        ..Default::default()
    };
    let list = s
        .svc
        .invitations()
        .list(&access, q.status.as_deref(), lq.page()?)
        .await?;
    Ok(Json(page(list, InvitationView::from)))
}

pub async fn resend(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id: InvitationId = p.id(1, "invitation_not_found", "invitation")?;
    Ok(Json(created_json(
        s.svc.invitations().resend(&access, id).await?,
    )))
}

pub async fn revoke(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    p: PathParams,
) -> ApiResult<StatusCode> {
    let id: InvitationId = p.id(1, "invitation_not_found", "invitation")?;
    s.svc.invitations().revoke(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

pub async fn accept(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<TokenBody>,
) -> ApiResult<impl IntoResponse> {
    let org = s.svc.invitations().accept(&a, &b.token).await?;
    Ok(Json(json!({"organization": OrgView::new(org, None)})))
}

pub async fn decline(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<TokenBody>,
) -> ApiResult<StatusCode> {
    s.svc.invitations().decline(&b.token, o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUserBody {
    email: String,
    name: String,
    role: Option<String>,
    password: Option<String>,
}

pub async fn create_org_user(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::MembersManage>,
    Body(b): Body<OrgUserBody>,
) -> ApiResult<impl IntoResponse> {
    let input = OrgUserInput {
        email: b.email,
        name: b.name,
        role: b.role,
        password: b.password,
    };
    let c = s.svc.access().create_user(&access, input).await?;
    let body = json!({
        "user": UserView::from(c.user),
        "role": c.role,
        "set_password_token": c.set_password_token,
        "set_password_url": c.set_password_url,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordBody {
    token: String,
    password: String,
}

pub async fn set_password(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<SetPasswordBody>,
) -> ApiResult<StatusCode> {
    s.svc
        .accounts()
        .set_password_with_token(&b.token, &b.password, o)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
