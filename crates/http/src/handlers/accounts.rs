use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use orgbase_domain::ApiKeyId;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::extract::{Auth, Body, ClientOrigin, ListQuery, PathParams, Query};
use crate::problem::ApiResult;
use crate::views::{ApiKeyView, MembershipView, OrgView, UserView, page};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    name: String,
    signup_key: Option<String>,
    invitation_token: Option<String>,
}

pub async fn signup(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<SignupBody>,
) -> ApiResult<impl IntoResponse> {
    let input = orgbase_service::SignupInput {
        email: b.email,
        password: b.password,
        name: b.name,
        signup_key: b.signup_key,
        invitation_token: b.invitation_token,
    };
    let r = s.svc.accounts().signup(input, o).await?;
    let me = r.user.id;
    let org = r.organization.map(|org| {
        let role = (org.owner_id == Some(me)).then_some(orgbase_domain::Role::Owner);
        OrgView::new(org, role)
    });
    let body = json!({"user": UserView::from(r.user), "token": r.token, "expires_at": r.expires_at, "organization": org});
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

pub async fn login(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let r = s.svc.accounts().login(&b.email, &b.password, o).await?;
    Ok(Json(
        json!({"token": r.token, "expires_at": r.expires_at, "user": UserView::from(r.user)}),
    ))
}

pub async fn logout(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<StatusCode> {
    s.svc.accounts().logout(&a).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<impl IntoResponse> {
    let me = s.svc.me().show(&a).await?;
    let memberships: Vec<_> = me
        .memberships
        .into_iter()
        .map(|(m, slug)| {
            let mut v = serde_json::to_value(MembershipView::from(m)).unwrap_or_default();
            v["org_slug"] = json!(slug.as_str());
            v
        })
        .collect();
    Ok(Json(
        json!({"user": UserView::from(me.user), "memberships": memberships}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<PasswordBody>,
) -> ApiResult<StatusCode> {
    s.svc
        .me()
        .change_password(&a, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_api_keys(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let p = s.svc.me().api_keys(&a, q.page()?).await?;
    Ok(Json(page(p, ApiKeyView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyBody {
    name: String,
    expires_in_days: Option<i64>,
}

pub async fn create_api_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<ApiKeyBody>,
) -> ApiResult<impl IntoResponse> {
    let created = s
        .svc
        .me()
        .create_api_key(&a, &b.name, b.expires_in_days)
        .await?;
    let mut v = serde_json::to_value(ApiKeyView::from(created.key)).unwrap_or_default();
    v["token"] = json!(created.token);
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn delete_api_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: PathParams,
) -> ApiResult<StatusCode> {
    let id: ApiKeyId = p.id(0, "api_key_not_found", "API key")?;
    s.svc.me().delete_api_key(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
