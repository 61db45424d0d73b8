//! Signup settings, claimed domains, invitations, accounts made by org admins.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use orgbase_domain::{InvitationId, ProjectId, WorkspaceId};
use orgbase_service::{DomainInput, InvitationInput, OrgUserInput, SignupSettingsInput, perm};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Auth, Body, ClientOrigin, InvitationQuery, NoQuery, OrgAuth, Query};
use crate::paths::{DomainPath, InvitationPath, OrgPath, Params, id};
use crate::problem::{ApiResult, Problem, problem_with};
use crate::views::{
    AcceptedView, BackfillView, DomainView, GrantableRoleName, ImportRefusedView, ImportReportView,
    InvitationCreatedView, InvitationView, OrgUserCreatedView, OrgView, PageView,
    SignupSettingsView, UserView, page,
};

/// Signup settings: enabled, key, default role (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/signup", tag = "access", params(OrgPath),
    responses((status = 200, body = SignupSettingsView)))]
pub async fn get_signup(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::SignupManage>,
) -> ApiResult<Json<SignupSettingsView>> {
    Ok(Json(s.svc.access().signup_settings(&access).into()))
}

/// New signup settings. A missing `key` keeps the current one (or makes one when
/// sign-up is turned on without a key); `rotate` replaces it with a new random key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupSettingsBody {
    enabled: bool,
    key: Option<String>,
    #[serde(default)]
    rotate: bool,
    #[schema(value_type = Option<GrantableRoleName>)]
    default_role: Option<String>,
}

/// Change signup settings; rotate the key.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/signup", tag = "access", params(OrgPath),
    request_body = SignupSettingsBody, responses((status = 200, body = SignupSettingsView)))]
pub async fn put_signup(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::SignupManage>,
    Body(b): Body<SignupSettingsBody>,
) -> ApiResult<Json<SignupSettingsView>> {
    let input = SignupSettingsInput {
        enabled: b.enabled,
        key: b.key,
        rotate: b.rotate,
        default_role: b.default_role,
    };
    let settings = s.svc.access().set_signup_settings(&access, input).await?;
    Ok(Json(settings.into()))
}

/// E-mail domains the organization claims.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/domains", tag = "access", params(OrgPath),
    responses((status = 200, body = PageView<DomainView>)))]
pub async fn list_domains(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgRead>,
    Query(NoQuery {}): Query<NoQuery>,
) -> ApiResult<Json<PageView<DomainView>>> {
    let items = s
        .svc
        .access()
        .domains(&access)
        .await?
        .into_iter()
        .map(DomainView::from)
        .collect();
    Ok(Json(PageView {
        items,
        next_cursor: None,
    }))
}

/// A domain to claim: sign-ups with an e-mail there may join, with this role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    /// e.g. `example.com`
    domain: String,
    auto_join: Option<bool>,
    #[schema(value_type = Option<GrantableRoleName>)]
    role: Option<String>,
}

/// Claim an e-mail domain (auto-join, role); the claim is pending until verified.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains", tag = "access", params(OrgPath),
    request_body = DomainBody, responses((status = 201, body = DomainView)))]
pub async fn add_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    Body(b): Body<DomainBody>,
) -> ApiResult<(StatusCode, Json<DomainView>)> {
    let input = DomainInput {
        domain: b.domain,
        auto_join: b.auto_join,
        role: b.role,
    };
    let d = s.svc.access().add_domain(&access, input).await?;
    Ok((StatusCode::CREATED, Json(DomainView::from(d))))
}

/// Verify a claim by its DNS TXT record (`txt_record` of the claim).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains/{domain}/verify", tag = "access",
    params(DomainPath), responses((status = 200, body = DomainView)))]
pub async fn verify_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    Params(p): Params<DomainPath>,
) -> ApiResult<Json<DomainView>> {
    let d = s.svc.access().verify_domain(&access, &p.domain).await?;
    Ok(Json(DomainView::from(d)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillBody {
    /// Only list who would be added.
    dry_run: bool,
}

/// Add the org-less users who proved an address in this verified domain (dry run first).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains/{domain}/backfill", tag = "access",
    params(DomainPath), request_body = BackfillBody, responses((status = 200, body = BackfillView)))]
pub async fn backfill_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    Params(p): Params<DomainPath>,
    Body(b): Body<BackfillBody>,
) -> ApiResult<Json<BackfillView>> {
    let users = s
        .svc
        .access()
        .backfill_domain(&access, &p.domain, b.dry_run)
        .await?;
    Ok(Json(BackfillView {
        dry_run: b.dry_run,
        count: users.len(),
        users: users.into_iter().map(UserView::from).collect(),
    }))
}

/// Release a claimed domain.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/domains/{domain}", tag = "access",
    params(DomainPath), responses((status = 204, description = "Released")))]
pub async fn remove_domain(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::DomainsManage>,
    Params(p): Params<DomainPath>,
) -> ApiResult<StatusCode> {
    s.svc.access().remove_domain(&access, &p.domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whom to invite, with which role, to the org or one of its workspaces or projects.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    #[schema(value_type = Option<GrantableRoleName>)]
    role: Option<String>,
    workspace_id: Option<uuid::Uuid>,
    project_id: Option<uuid::Uuid>,
}

/// Invite an e-mail; the token is returned once.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations", tag = "invitations",
    params(OrgPath), request_body = InviteBody,
    responses((status = 201, body = InvitationCreatedView)))]
pub async fn invite(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Body(b): Body<InviteBody>,
) -> ApiResult<(StatusCode, Json<InvitationCreatedView>)> {
    let input = InvitationInput {
        email: b.email,
        role: b.role,
        workspace_id: b.workspace_id.map(WorkspaceId),
        project_id: b.project_id.map(ProjectId),
    };
    let created = s.svc.invitations().invite(&access, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Invitations, filtered by status.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/invitations", tag = "invitations",
    params(OrgPath, InvitationQuery), responses((status = 200, body = PageView<InvitationView>)))]
pub async fn list_invitations(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Query(q): Query<InvitationQuery>,
) -> ApiResult<Json<PageView<InvitationView>>> {
    let list = s
        .svc
        .invitations()
        .list(&access, q.status.as_deref(), q.page()?)
        .await?;
    Ok(Json(page(list, InvitationView::from)))
}

/// New token and expiry for an invitation.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations/{id}/resend", tag = "invitations",
    params(InvitationPath), responses((status = 200, body = InvitationCreatedView)))]
pub async fn resend_invitation(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Params(p): Params<InvitationPath>,
) -> ApiResult<Json<InvitationCreatedView>> {
    let inv: InvitationId = id(&p.id, "invitation_not_found", "invitation")?;
    Ok(Json(s.svc.invitations().resend(&access, inv).await?.into()))
}

/// Revoke an invitation.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/invitations/{id}", tag = "invitations",
    params(InvitationPath), responses((status = 204, description = "Revoked")))]
pub async fn revoke_invitation(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::InvitationsManage>,
    Params(p): Params<InvitationPath>,
) -> ApiResult<StatusCode> {
    let inv: InvitationId = id(&p.id, "invitation_not_found", "invitation")?;
    s.svc.invitations().revoke(&access, inv).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The token of an invitation link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// Accept an invitation (signed in, matching e-mail).
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "invitations",
    request_body = TokenBody, responses((status = 200, body = AcceptedView)))]
pub async fn accept_invitation(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<TokenBody>,
) -> ApiResult<Json<AcceptedView>> {
    let org = s.svc.invitations().accept(&a, &b.token).await?;
    Ok(Json(AcceptedView {
        organization: OrgView::new(org, None),
    }))
}

/// Decline an invitation with its token.
#[utoipa::path(post, path = "/api/v1/invitations/decline", tag = "invitations", security(()),
    request_body = TokenBody, responses((status = 204, description = "Declined")))]
pub async fn decline_invitation(
    State(s): State<AppState>,
    ClientOrigin(o): ClientOrigin,
    Body(b): Body<TokenBody>,
) -> ApiResult<StatusCode> {
    s.svc.invitations().decline(&b.token, o).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account an org admin makes in the org: the e-mail must be in a claimed domain.
/// Without a password, a one-time set-password link is returned.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUserBody {
    email: String,
    name: String,
    #[schema(value_type = Option<GrantableRoleName>)]
    role: Option<String>,
    password: Option<String>,
}

/// Create an account in the organization (e-mail in a claimed domain).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/users", tag = "access", params(OrgPath),
    request_body = OrgUserBody, responses((status = 201, body = OrgUserCreatedView)))]
pub async fn create_org_user(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::MembersManage>,
    Body(b): Body<OrgUserBody>,
) -> ApiResult<(StatusCode, Json<OrgUserCreatedView>)> {
    let input = OrgUserInput {
        email: b.email,
        name: b.name,
        role: b.role,
        password: b.password,
    };
    let c = s.svc.access().create_user(&access, input).await?;
    let body = OrgUserCreatedView {
        user: UserView::from(c.user),
        role: c.role,
        set_password_token: c.set_password_token,
        set_password_url: c.set_password_url,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Largest CSV file `POST /orgs/{org}/users/import` takes (its own limit: 5,000 rows of
/// long addresses and names fit).
pub const IMPORT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// `?dry_run=`: `true` (the default) only reports what each row would do; `false`
/// carries the file out.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only validate and report (default `true`); `false` imports.
    dry_run: Option<bool>,
}

/// Import users from a CSV file (`email,name,role[,workspace]`), validating first.
///
/// With `dry_run=true` (the default) every row's outcome is reported and nothing is
/// written. With `dry_run=false` the rows are written in one transaction, or, if any
/// row is an error, nothing is and the answer is 422 `import_has_errors` with the
/// report. New accounts are mailed a one-time link to set their password. At most
/// 5,000 rows and 2 MiB.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/users/import", tag = "access",
    params(OrgPath, ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "A header `email,name,role` or `email,name,role,workspace`, then one row per user; the workspace by id or name"),
    responses(
        (status = 200, body = ImportReportView),
        (status = 422, body = ImportRefusedView, content_type = "application/problem+json",
            description = "Rows are errors; nothing was written")))]
pub async fn import_users(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::MembersManage>,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(Problem::unsupported_media_type_of(
            "the CSV file with Content-Type: text/csv",
        ));
    }
    let bytes = crate::extract::body_bytes(body, IMPORT_BODY_LIMIT).await?;
    let dry_run = q.dry_run.unwrap_or(true);
    let report = s
        .svc
        .access()
        .import_users(&access, &bytes, dry_run, &|_, _, _| {})
        .await?;
    let refused = report.refused();
    let errors = report.totals.error;
    let view = ImportReportView::from(report);
    if refused {
        let value = serde_json::to_value(&view).unwrap_or_default();
        return Ok(problem_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_has_errors",
            format!("{errors} row(s) are errors; nothing was imported (see report.rows)"),
            "report",
            value,
        ));
    }
    Ok(Json(view).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordBody {
    /// The token of a one-time set-password link.
    token: String,
    password: String,
}

/// Complete a password reset with the mailed link's token (SPEC §8's name for
/// `set-password`, which it shares: one use case, one kind of link).
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", security(()),
    request_body = SetPasswordBody, responses((status = 204, description = "Password set")))]
pub async fn confirm_password_reset(
    state: State<AppState>,
    origin: ClientOrigin,
    body: Body<SetPasswordBody>,
) -> ApiResult<StatusCode> {
    set_password(state, origin, body).await
}

/// Set a password with a one-time link's token.
#[utoipa::path(post, path = "/api/v1/auth/set-password", tag = "auth", security(()),
    request_body = SetPasswordBody, responses((status = 204, description = "Password set")))]
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
