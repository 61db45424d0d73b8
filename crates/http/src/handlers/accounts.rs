//! Sign-up, login, logout, and the caller's own account and personal API keys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::ApiKeyId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Auth, Body, ClientOrigin, PageQuery, Query};
use crate::paths::{ApiKeyPath, Params, id};
use crate::problem::ApiResult;
use crate::views::{
    ApiKeyCreatedView, ApiKeyView, MeView, MembershipView, MyMembershipView, OrgView, PageView,
    SessionView, SignupView, UserView, VerifiedView, page,
};

/// A sign-up: into an org by its signup key, an invitation, a claimed e-mail domain,
/// or (when the server allows it) with a personal org of one's own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    name: String,
    signup_key: Option<String>,
    invitation_token: Option<String>,
}

/// Sign up; returns the user, a session token and the personal org.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", security(()),
    request_body = SignupBody, responses((status = 201, body = SignupView)))]
pub async fn signup(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<SignupBody>,
) -> ApiResult<(StatusCode, Json<SignupView>)> {
    let input = orgbase_service::SignupInput {
        email: b.email,
        password: b.password,
        name: b.name,
        signup_key: b.signup_key,
        invitation_token: b.invitation_token,
    };
    let r = s.svc.accounts().signup(input, o).await?;
    let me = r.user.id;
    let organization = r.organization.map(|org| {
        let role = (org.owner_id == Some(me)).then_some(orgbase_domain::Role::Owner);
        OrgView::new(org, role)
    });
    let body = SignupView {
        user: UserView::from(r.user),
        token: r.token,
        expires_at: r.expires_at,
        organization,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// Log in with e-mail and password; returns a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginBody, responses((status = 200, body = SessionView)))]
pub async fn login(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<LoginBody>,
) -> ApiResult<Json<SessionView>> {
    let r = s.svc.accounts().login(&b.email, &b.password, o).await?;
    Ok(Json(SessionView {
        token: r.token,
        expires_at: r.expires_at,
        user: UserView::from(r.user),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetBody {
    /// The account's e-mail.
    email: String,
}

/// Ask for a password-reset mail: a one-time link (1 hour) to set a new password, which
/// ends every session of the account. The answer is the same whether or not the
/// address has an account.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", security(()),
    request_body = PasswordResetBody,
    responses((status = 204, description = "Received: if the address has an account, a reset mail is on its way")))]
pub async fn password_reset(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<PasswordResetBody>,
) -> ApiResult<StatusCode> {
    s.svc.accounts().request_password_reset(&b.email, o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailBody {
    /// The token of the mailed link (`…/verify-email?token=obe_…`).
    token: String,
}

/// Prove an e-mail address with the link mailed to it; joins the org that proved the
/// address's domain when the user belongs to none.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", security(()),
    request_body = VerifyEmailBody, responses((status = 200, body = VerifiedView)))]
pub async fn verify_email(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<VerifyEmailBody>,
) -> ApiResult<Json<VerifiedView>> {
    let (user, org) = s.svc.accounts().verify_email(&b.token, o).await?;
    Ok(Json(VerifiedView {
        user: UserView::from(user),
        organization: org.map(|o| OrgView::new(o, None)),
    }))
}

/// Mail a new link that proves the caller's address.
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "auth",
    responses((status = 204, description = "Mailed")))]
pub async fn resend_verification(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> ApiResult<StatusCode> {
    s.svc.me().resend_verification(&a).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out")))]
pub async fn logout(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<StatusCode> {
    s.svc.accounts().logout(&a).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and their memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = MeView)))]
pub async fn me(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<MeView>> {
    let me = s.svc.me().show(&a).await?;
    let memberships = me
        .memberships
        .into_iter()
        .map(|(m, slug)| MyMembershipView {
            membership: MembershipView::from(m),
            org_slug: slug.as_str().to_string(),
        })
        .collect();
    Ok(Json(MeView {
        user: UserView::from(me.user),
        memberships,
    }))
}

/// What a user may change of their own account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatchBody {
    name: String,
}

/// Rename yourself.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = MePatchBody,
    responses((status = 200, body = UserView)))]
pub async fn update_me(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<MePatchBody>,
) -> ApiResult<Json<UserView>> {
    let user = s.svc.me().rename(&a, &b.name).await?;
    Ok(Json(UserView::from(user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Change password; ends the caller's other sessions.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = PasswordBody,
    responses((status = 204, description = "Changed")))]
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

/// The caller's personal API keys.
#[utoipa::path(get, path = "/api/v1/me/api-keys", tag = "me", params(PageQuery),
    responses((status = 200, body = PageView<ApiKeyView>)))]
pub async fn list_api_keys(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<ApiKeyView>>> {
    let p = s.svc.me().api_keys(&a, q.page()?).await?;
    Ok(Json(page(p, ApiKeyView::from)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyBody {
    name: String,
    /// The key expires after this many days (at most 3650); never when absent.
    expires_in_days: Option<i64>,
}

/// Create a personal API key; the token is shown once.
#[utoipa::path(post, path = "/api/v1/me/api-keys", tag = "me", request_body = ApiKeyBody,
    responses((status = 201, body = ApiKeyCreatedView)))]
pub async fn create_api_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<ApiKeyBody>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreatedView>)> {
    let created = s
        .svc
        .me()
        .create_api_key(&a, &b.name, b.expires_in_days)
        .await?;
    let body = ApiKeyCreatedView {
        key: ApiKeyView::from(created.key),
        token: created.token,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Revoke a personal API key.
#[utoipa::path(delete, path = "/api/v1/me/api-keys/{id}", tag = "me", params(ApiKeyPath),
    responses((status = 204, description = "Revoked")))]
pub async fn delete_api_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(p): Params<ApiKeyPath>,
) -> ApiResult<StatusCode> {
    let key: ApiKeyId = id(&p.id, "api_key_not_found", "API key")?;
    s.svc.me().delete_api_key(&a, key).await?;
    Ok(StatusCode::NO_CONTENT)
}
