//! `/org-admin`: the organization admins' panel. Every page under `/org-admin/{org}`
//! takes the org proof of the permission it needs ([`OrgPage`], [`ScopePage`]), the same
//! proof the API's route for the same thing takes; an org the user cannot see is a
//! 404 page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use orgbase_domain::config::OrgConfig;
use orgbase_domain::{
    ApiKeyId, Assistant, AssistantId, Invitation, InvitationId, Member, Org, OrgApiKey, OrgDomain,
    OrgId, PageRequest, Project, ProjectId, Role, Scope, UserId, Workspace, WorkspaceId,
};
use orgbase_http::AppState;
use orgbase_service::authz::perm;
use orgbase_service::{
    AssistantFilter, Caller, DomainInput, Error, ImportReport, InvitationInput, OrgAccess, OrgRef,
    RederiveReport, ScopePath, ServiceKeyInput, SignupSettingsInput, Usage,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::account::number;
use super::admin::{AuditPage, AuditQuery};
use super::{Nothing, grantable, id_of, next_link, page_of};
use crate::render::{Refusal, respond, see_other};
use crate::session::{Ctx, Form, OrgPage, ScopePage, SignedIn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/org-admin", get(pick))
        .route("/org-admin/{org}", get(dashboard))
        .route("/org-admin/{org}/members", get(members))
        .route("/org-admin/{org}/members/{user}/role", post(change_role))
        .route(
            "/org-admin/{org}/members/{user}/remove",
            post(remove_member),
        )
        .route(
            "/org-admin/{org}/invitations",
            get(invitations).post(invite),
        )
        .route("/org-admin/{org}/invitations/{id}/resend", post(resend))
        .route("/org-admin/{org}/invitations/{id}/revoke", post(revoke))
        .route("/org-admin/{org}/signup", get(signup).post(set_signup))
        .route("/org-admin/{org}/domains", get(domains).post(claim))
        .route("/org-admin/{org}/domains/{domain}/verify", post(verify))
        .route("/org-admin/{org}/domains/{domain}/backfill", post(backfill))
        .route(
            "/org-admin/{org}/domains/{domain}/remove",
            post(remove_domain),
        )
        .route("/org-admin/{org}/settings", get(settings))
        .route("/org-admin/{org}/settings/provider", post(set_provider))
        .route(
            "/org-admin/{org}/settings/provider/{name}/remove",
            post(remove_provider),
        )
        .route("/org-admin/{org}/settings/limits", post(set_limits))
        .route("/org-admin/{org}/settings/document", post(set_document))
        .route("/org-admin/{org}/keys", get(keys).post(create_key))
        .route("/org-admin/{org}/keys/{id}/delete", post(delete_key))
        .route("/org-admin/{org}/assistants", get(assistants))
        .route("/org-admin/{org}/assistants/rederive", post(rederive))
        .route("/org-admin/{org}/assistants/{id}/share", post(share))
        .route("/org-admin/{org}/import", get(import_page).post(import))
        .route("/org-admin/{org}/audit", get(audit))
        .route("/org-admin/{org}/export", get(export_page))
        .route("/org-admin/{org}/export.json", get(export_file))
}

fn blank_none(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------- the org picker

struct Administered {
    slug: String,
    role: Role,
}

#[derive(Template)]
#[template(path = "org_pick.html")]
struct PickPage<'a> {
    ctx: &'a Ctx,
    orgs: Vec<Administered>,
}

/// `/org-admin`: the orgs the user administers; straight to the one when there is one.
async fn pick(State(s): State<AppState>, SignedIn(ctx, actor): SignedIn) -> Response {
    let me = match s.svc.me().show(&actor).await {
        Ok(me) => me,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let orgs: Vec<Administered> = me
        .memberships
        .into_iter()
        .filter(|(m, _)| matches!(m.scope, Scope::Org(_)) && m.role >= Role::Admin)
        .map(|(m, slug)| Administered {
            slug: slug.as_str().to_string(),
            role: m.role,
        })
        .collect();
    if let [only] = orgs.as_slice()
        && !actor.is_system_admin()
    {
        return see_other(&ctx, &format!("/org-admin/{}", only.slug));
    }
    respond(&ctx, StatusCode::OK, &PickPage { ctx: &ctx, orgs })
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "org_dashboard.html")]
struct DashboardPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    usage: Usage,
    pending: String,
    role: String,
}

fn limit_text(v: &Option<u64>) -> String {
    v.map_or_else(|| "no limit".to_string(), |n| n.to_string())
}

async fn dashboard(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::ConfigManage>,
) -> Response {
    let usage = match s.svc.configuration().usage(&access).await {
        Ok(u) => u,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let pending = match access.require::<perm::InvitationsManage>() {
        Ok(inv) => {
            let p = s
                .svc
                .invitations()
                .list(
                    &inv,
                    Some("pending"),
                    PageRequest {
                        after: None,
                        limit: 200,
                    },
                )
                .await;
            match p {
                Ok(p) if p.next_cursor.is_some() => "200+".to_string(),
                Ok(p) => p.items.len().to_string(),
                Err(_) => "?".to_string(),
            }
        }
        Err(_) => "?".to_string(),
    };
    let role = access
        .role()
        .map_or_else(|| "system admin".to_string(), |r| r.as_str().to_string());
    let page = DashboardPage {
        ctx: &ctx,
        section: "dashboard",
        o: access.org(),
        usage,
        pending,
        role,
    };
    respond(&ctx, StatusCode::OK, &page)
}

// ---------------------------------------------------------------- members

#[derive(Deserialize, Default)]
struct MembersQuery {
    workspace: Option<String>,
    project: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "org_members.html")]
struct MembersPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    scope_name: String,
    /// `?workspace=..&project=..` of the scope shown, for the forms' actions.
    scope_query: String,
    workspaces: Vec<Workspace>,
    selected_ws: String,
    projects: Vec<Project>,
    selected_project: String,
    q: String,
    members: Vec<Member>,
    grantable: Vec<&'static str>,
    paged: bool,
    first: String,
    next: Option<String>,
}

fn scope_query(q: &MembersQuery) -> String {
    let pairs: Vec<(&str, &str)> = [("workspace", &q.workspace), ("project", &q.project)]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!(
            "?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// The members page at the scope `q` names, read with its own proof (the page shows
/// what the user may read there, whatever the form before it needed).
async fn render_members(
    s: &AppState,
    ctx: &Ctx,
    org_id: OrgId,
    q: &MembersQuery,
    status: StatusCode,
) -> Response {
    let id = |v: &Option<String>| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| Uuid::parse_str(v).unwrap_or(Uuid::nil()))
    };
    let path = ScopePath {
        workspace: id(&q.workspace).map(WorkspaceId::from),
        project: id(&q.project).map(ProjectId::from),
    };
    let Some(token) = ctx.session_token() else {
        return Refusal::error(Error::Unauthenticated).into_response();
    };
    let access = match s
        .svc
        .authz()
        .scope::<perm::MembersRead>(token, &OrgRef::Id(org_id), path, ctx.origin.clone())
        .await
    {
        Ok(a) => a,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let p = match s
        .svc
        .hierarchy()
        .members(&access, q.q.as_deref(), page_of(q.cursor.as_deref()))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    // The workspaces to pick a scope from (when the caller may list them).
    let caller = access.caller().clone();
    let org = access.org();
    let workspaces = match s
        .svc
        .authz()
        .org_for::<perm::WorkspacesRead>(caller, &OrgRef::Id(org.id))
        .await
    {
        Ok(ws) => s
            .svc
            .hierarchy()
            .workspaces(
                &ws,
                PageRequest {
                    after: None,
                    limit: 200,
                },
            )
            .await
            .map(|p| p.items)
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    // The projects of the chosen workspace, to narrow the scope further.
    let projects = match access.workspace() {
        Some(w) => {
            let at = ScopePath {
                workspace: Some(w.id),
                project: None,
            };
            match s
                .svc
                .authz()
                .scope::<perm::ProjectsRead>(token, &OrgRef::Id(org.id), at, ctx.origin.clone())
                .await
            {
                Ok(pa) => s
                    .svc
                    .hierarchy()
                    .projects(
                        &pa,
                        PageRequest {
                            after: None,
                            limit: 200,
                        },
                    )
                    .await
                    .map(|p| p.items)
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let scope_name = match (access.workspace(), access.project()) {
        (_, Some(p)) => format!("project {}", p.name),
        (Some(w), None) => format!("workspace {}", w.name),
        _ => "the whole organization".to_string(),
    };
    let ws = q.workspace.as_deref().unwrap_or("");
    let pr = q.project.as_deref().unwrap_or("");
    let search = q.q.as_deref().unwrap_or("");
    let base = format!("/org-admin/{}/members", org.slug);
    let filters = [("workspace", ws), ("project", pr), ("q", search)];
    let page = MembersPage {
        ctx,
        section: "members",
        o: org,
        scope_name,
        scope_query: scope_query(q),
        workspaces,
        selected_ws: ws.to_string(),
        projects,
        selected_project: pr.to_string(),
        q: search.to_string(),
        members: p.items,
        grantable: grantable(access.grantable_ceiling()),
        paged: q.cursor.is_some(),
        first: next_link(&base, &filters, None).unwrap_or_else(|| base.clone()),
        next: next_link(&base, &filters, p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn members(
    State(s): State<AppState>,
    ScopePage(ctx, access): ScopePage<perm::MembersRead>,
    Query(q): Query<MembersQuery>,
) -> Response {
    render_members(&s, &ctx, access.org().id, &q, StatusCode::OK).await
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(s): State<AppState>,
    ScopePage(mut ctx, access): ScopePage<perm::MembersManage>,
    Path((_, user)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
    Form(f): Form<RoleForm>,
) -> Response {
    let status = match s
        .svc
        .hierarchy()
        .change_role(&access, id_of::<UserId>(&user), &f.role)
        .await
    {
        Ok(m) => {
            ctx.done("members", format!("The role is now {}.", m.membership.role));
            StatusCode::OK
        }
        Err(e) => ctx.fail("members", e),
    };
    render_members(&s, &ctx, access.org().id, &q, status).await
}

async fn remove_member(
    State(s): State<AppState>,
    ScopePage(mut ctx, access): ScopePage<perm::MembersRead>,
    Path((_, user)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s
        .svc
        .hierarchy()
        .remove_member(&access, id_of::<UserId>(&user))
        .await
    {
        Ok(()) => {
            ctx.done("members", "The member is removed.");
            StatusCode::OK
        }
        Err(e) => ctx.fail("members", e),
    };
    render_members(&s, &ctx, access.org().id, &q, status).await
}

// ---------------------------------------------------------------- invitations

#[derive(Deserialize, Default)]
struct InvitationsQuery {
    status: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "org_invitations.html")]
struct InvitationsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    options: Vec<(&'static str, bool)>,
    invitations: Vec<(Invitation, &'static str)>,
    grantable: Vec<&'static str>,
    paged: bool,
    first: String,
    next: Option<String>,
}

async fn render_invitations(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::InvitationsManage>,
    q: &InvitationsQuery,
    status: StatusCode,
) -> Response {
    let filter = q.status.as_deref().unwrap_or("pending");
    let shown = if filter == "all" { None } else { Some(filter) };
    let p = match s
        .svc
        .invitations()
        .list(access, shown, page_of(q.cursor.as_deref()))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let now = s.svc.now();
    let base = format!("/org-admin/{}/invitations", access.org().slug);
    let filters = [("status", filter)];
    let page = InvitationsPage {
        ctx,
        section: "invitations",
        o: access.org(),
        options: [
            "pending", "accepted", "declined", "revoked", "expired", "all",
        ]
        .into_iter()
        .map(|o| (o, o == filter))
        .collect(),
        invitations: p
            .items
            .into_iter()
            .map(|i| {
                let st = i.effective_status(now).as_str();
                (i, st)
            })
            .collect(),
        grantable: grantable(access.grantable_ceiling()),
        paged: q.cursor.is_some(),
        first: next_link(&base, &filters, None).unwrap_or_else(|| base.clone()),
        next: next_link(&base, &filters, p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn invitations(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::InvitationsManage>,
    Query(q): Query<InvitationsQuery>,
) -> Response {
    render_invitations(&s, &ctx, &access, &q, StatusCode::OK).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: Option<String>,
}

async fn invite(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::InvitationsManage>,
    Form(f): Form<InviteForm>,
) -> Response {
    let input = InvitationInput {
        email: f.email,
        role: blank_none(f.role),
        workspace_id: None,
        project_id: None,
    };
    let status = match s.svc.invitations().invite(&access, input).await {
        Ok(made) => {
            let to = made.invitation.email.to_string();
            match made.accept_url {
                Some(link) => ctx.secret(
                    "invite",
                    format!(
                        "{to} is invited. No mail is configured: send them this link yourself."
                    ),
                    link,
                ),
                None => ctx.done(
                    "invite",
                    format!("{to} is invited; the link is on its way by mail."),
                ),
            }
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("invite", e),
    };
    render_invitations(&s, &ctx, &access, &InvitationsQuery::default(), status).await
}

async fn resend(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::InvitationsManage>,
    Path((_, id)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s
        .svc
        .invitations()
        .resend(&access, id_of::<InvitationId>(&id))
        .await
    {
        Ok(made) => {
            let to = made.invitation.email.to_string();
            match made.accept_url {
                Some(link) => ctx.secret(
                    "list",
                    format!("A new link for {to}; the old one no longer works."),
                    link,
                ),
                None => ctx.done(
                    "list",
                    format!("A new link is on its way to {to}; the old one no longer works."),
                ),
            }
            StatusCode::OK
        }
        Err(e) => ctx.fail("list", e),
    };
    render_invitations(&s, &ctx, &access, &InvitationsQuery::default(), status).await
}

async fn revoke(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::InvitationsManage>,
    Path((_, id)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s
        .svc
        .invitations()
        .revoke(&access, id_of::<InvitationId>(&id))
        .await
    {
        Ok(_) => {
            ctx.done("list", "The invitation is revoked.");
            StatusCode::OK
        }
        Err(e) => ctx.fail("list", e),
    };
    render_invitations(&s, &ctx, &access, &InvitationsQuery::default(), status).await
}

// ---------------------------------------------------------------- sign-up

#[derive(Template)]
#[template(path = "org_signup.html")]
struct SignupPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    enabled: bool,
    key: String,
    roles: Vec<(&'static str, bool)>,
}

fn render_signup(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::SignupManage>,
    org: &Org,
    status: StatusCode,
) -> Response {
    let settings = s.svc.access().signup_settings(access);
    let page = SignupPage {
        ctx,
        section: "signup",
        o: org,
        enabled: settings.enabled,
        key: settings.key.unwrap_or_default(),
        roles: [Role::Viewer, Role::Editor, Role::Admin]
            .into_iter()
            .map(|r| (r.as_str(), r == settings.default_role))
            .collect(),
    };
    respond(ctx, status, &page)
}

async fn signup(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::SignupManage>,
) -> Response {
    render_signup(&s, &ctx, &access, access.org(), StatusCode::OK)
}

#[derive(Deserialize)]
struct SignupForm {
    enabled: Option<String>,
    default_role: Option<String>,
    rotate: Option<String>,
}

async fn set_signup(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::SignupManage>,
    Form(f): Form<SignupForm>,
) -> Response {
    let input = SignupSettingsInput {
        enabled: f.enabled.is_some(),
        key: None,
        rotate: f.rotate.is_some(),
        default_role: blank_none(f.default_role),
    };
    match s.svc.access().set_signup_settings(&access, input).await {
        Ok(_) => {
            // The proof holds the org as it was; read the settings as they are now.
            let caller = access.caller().clone();
            let fresh = s
                .svc
                .authz()
                .org_for::<perm::SignupManage>(caller, &OrgRef::Id(access.org().id))
                .await;
            let text = if f.rotate.is_some() {
                "A new signup key is made; the old one no longer works."
            } else {
                "The sign-up settings are saved."
            };
            ctx.done("signup", text);
            match fresh {
                Ok(a) => render_signup(&s, &ctx, &a, a.org(), StatusCode::OK),
                Err(e) => Refusal::error(e).into_response(),
            }
        }
        Err(e) => {
            let status = ctx.fail("signup", e);
            render_signup(&s, &ctx, &access, access.org(), status)
        }
    }
}

// ---------------------------------------------------------------- domains

#[derive(Template)]
#[template(path = "org_domains.html")]
struct DomainsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    domains: Vec<OrgDomain>,
    /// A backfill's dry run: who would be added, and the domain to confirm it for.
    preview: Option<(String, Vec<String>)>,
}

async fn render_domains(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::DomainsManage>,
    preview: Option<(String, Vec<String>)>,
    status: StatusCode,
) -> Response {
    let read = match access.require::<perm::OrgRead>() {
        Ok(r) => r,
        Err(e) => return Refusal::error(e).into_response(),
    };
    match s.svc.access().domains(&read).await {
        Ok(domains) => {
            let page = DomainsPage {
                ctx,
                section: "domains",
                o: access.org(),
                domains,
                preview,
            };
            respond(ctx, status, &page)
        }
        Err(e) => Refusal::error(e).into_response(),
    }
}

async fn domains(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::DomainsManage>,
) -> Response {
    render_domains(&s, &ctx, &access, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ClaimForm {
    domain: String,
    auto_join: Option<String>,
    role: Option<String>,
}

async fn claim(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::DomainsManage>,
    Form(f): Form<ClaimForm>,
) -> Response {
    let input = DomainInput {
        domain: f.domain,
        auto_join: Some(f.auto_join.is_some()),
        role: blank_none(f.role),
    };
    let status = match s.svc.access().add_domain(&access, input).await {
        Ok(d) => {
            ctx.done(
                "claim",
                format!(
                    "{} is claimed. Publish the TXT record below in its DNS, then verify.",
                    d.domain
                ),
            );
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("claim", e),
    };
    render_domains(&s, &ctx, &access, None, status).await
}

async fn verify(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::DomainsManage>,
    Path((_, domain)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s.svc.access().verify_domain(&access, &domain).await {
        Ok(d) => {
            ctx.done("domains", format!("{} is verified.", d.domain));
            StatusCode::OK
        }
        Err(e) => ctx.fail("domains", e),
    };
    render_domains(&s, &ctx, &access, None, status).await
}

#[derive(Deserialize)]
struct BackfillForm {
    confirm: Option<String>,
}

async fn backfill(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::DomainsManage>,
    Path((_, domain)): Path<(String, String)>,
    Form(f): Form<BackfillForm>,
) -> Response {
    let dry_run = f.confirm.is_none();
    let (status, preview) = match s
        .svc
        .access()
        .backfill_domain(&access, &domain, dry_run)
        .await
    {
        Ok(users) => {
            let emails: Vec<String> = users.iter().map(|u| u.email.to_string()).collect();
            if dry_run {
                ctx.done(
                    "domains",
                    format!(
                        "{} existing account(s) of {domain} would join.",
                        emails.len()
                    ),
                );
                (StatusCode::OK, Some((domain.clone(), emails)))
            } else {
                ctx.done(
                    "domains",
                    format!("{} account(s) of {domain} joined.", emails.len()),
                );
                (StatusCode::OK, None)
            }
        }
        Err(e) => (ctx.fail("domains", e), None),
    };
    render_domains(&s, &ctx, &access, preview, status).await
}

async fn remove_domain(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::DomainsManage>,
    Path((_, domain)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s.svc.access().remove_domain(&access, &domain).await {
        Ok(()) => {
            ctx.done("domains", format!("{domain} is no longer claimed."));
            StatusCode::OK
        }
        Err(e) => ctx.fail("domains", e),
    };
    render_domains(&s, &ctx, &access, None, status).await
}

// ---------------------------------------------------------------- providers and limits

struct ProviderRow {
    name: String,
    api_key: String,
    base_url: String,
    default_model: String,
    models: String,
}

#[derive(Template)]
#[template(path = "org_settings.html")]
struct SettingsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    providers: Vec<ProviderRow>,
    max_members: String,
    max_assistants: String,
    max_assistants_per_user: String,
    usage: Option<Usage>,
    document: String,
}

async fn render_settings(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::ConfigManage>,
    document: Option<String>,
    status: StatusCode,
) -> Response {
    // Read fresh: the proof holds the org as it was before this request's change.
    let caller = access.caller().clone();
    let access = match s
        .svc
        .authz()
        .org_for::<perm::ConfigManage>(caller, &OrgRef::Id(access.org().id))
        .await
    {
        Ok(a) => a,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let masked = match s.svc.configuration().get(&access).await {
        Ok(v) => v,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let config = OrgConfig::parse(&masked).unwrap_or_default();
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let page = SettingsPage {
        ctx,
        section: "settings",
        o: access.org(),
        providers: config
            .providers
            .iter()
            .map(|(name, p)| ProviderRow {
                name: name.clone(),
                api_key: p.api_key.clone().unwrap_or_default(),
                base_url: p.base_url.clone().unwrap_or_default(),
                default_model: p.default_model.clone().unwrap_or_default(),
                models: p.models.join(", "),
            })
            .collect(),
        max_members: opt(config.limits.max_members),
        max_assistants: opt(config.limits.max_assistants),
        max_assistants_per_user: opt(config.limits.max_assistants_per_user),
        usage: s.svc.configuration().usage(&access).await.ok(),
        document: document
            .unwrap_or_else(|| serde_json::to_string_pretty(&masked).unwrap_or_default()),
    };
    respond(ctx, status, &page)
}

async fn settings(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::ConfigManage>,
) -> Response {
    render_settings(&s, &ctx, &access, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ProviderForm {
    name: String,
    api_key: Option<String>,
    base_url: Option<String>,
    default_model: Option<String>,
    models: Option<String>,
}

async fn set_provider(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ConfigManage>,
    Form(f): Form<ProviderForm>,
) -> Response {
    let name = f.name.trim().to_string();
    let mut entry = serde_json::Map::new();
    // An empty key field keeps the stored key; a new one replaces it.
    if let Some(k) = blank_none(f.api_key) {
        entry.insert("api_key".into(), Value::String(k));
    }
    entry.insert(
        "base_url".into(),
        blank_none(f.base_url).map_or(Value::Null, Value::String),
    );
    entry.insert(
        "default_model".into(),
        blank_none(f.default_model).map_or(Value::Null, Value::String),
    );
    let models: Vec<Value> = f
        .models
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| Value::String(m.to_string()))
        .collect();
    entry.insert(
        "models".into(),
        if models.is_empty() {
            Value::Null
        } else {
            Value::Array(models)
        },
    );
    let status = if name.is_empty() {
        ctx.fail(
            "provider",
            Error::bad_request("invalid_provider", "give the provider a name"),
        )
    } else {
        let patch = json!({ "providers": { name.clone(): Value::Object(entry) } });
        match s.svc.configuration().patch(&access, patch).await {
            Ok(_) => {
                ctx.done("provider", format!("The provider {name} is saved."));
                StatusCode::OK
            }
            Err(e) => ctx.fail("provider", e),
        }
    };
    render_settings(&s, &ctx, &access, None, status).await
}

async fn remove_provider(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ConfigManage>,
    Path((_, name)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let patch = json!({ "providers": { name.clone(): Value::Null } });
    // Removing what is not there is said so, not reported done.
    let present = s
        .svc
        .configuration()
        .get(&access)
        .await
        .map(|c| c["providers"].get(&name).is_some());
    let done = match present {
        Ok(true) => s.svc.configuration().patch(&access, patch).await,
        Ok(false) => Err(Error::not_found("provider_not_found", "provider")),
        Err(e) => Err(e),
    };
    let status = match done {
        Ok(_) => {
            ctx.done("provider", format!("The provider {name} is removed."));
            StatusCode::OK
        }
        Err(e) => ctx.fail("provider", e),
    };
    render_settings(&s, &ctx, &access, None, status).await
}

#[derive(Deserialize)]
struct LimitsForm {
    max_members: Option<String>,
    max_assistants: Option<String>,
    max_assistants_per_user: Option<String>,
}

async fn set_limits(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ConfigManage>,
    Form(f): Form<LimitsForm>,
) -> Response {
    let parsed = (|| {
        Ok::<_, Error>(json!({ "limits": {
            "max_members": number("max_members", f.max_members.as_deref())?,
            "max_assistants": number("max_assistants", f.max_assistants.as_deref())?,
            "max_assistants_per_user": number("max_assistants_per_user", f.max_assistants_per_user.as_deref())?,
        }}))
    })();
    let done = match parsed {
        Ok(patch) => s.svc.configuration().patch(&access, patch).await,
        Err(e) => Err(e),
    };
    let status = match done {
        Ok(_) => {
            ctx.done("limits", "The limits are saved.");
            StatusCode::OK
        }
        Err(e) => ctx.fail("limits", e),
    };
    render_settings(&s, &ctx, &access, None, status).await
}

#[derive(Deserialize)]
struct DocumentForm {
    document: String,
}

async fn set_document(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ConfigManage>,
    Form(f): Form<DocumentForm>,
) -> Response {
    let done = match serde_json::from_str::<Value>(&f.document) {
        Ok(doc) => s.svc.configuration().put(&access, doc).await,
        Err(e) => Err(Error::bad_request(
            "invalid_json",
            format!("the document is not JSON: {e}"),
        )),
    };
    let (status, keep) = match done {
        Ok(_) => {
            ctx.done("document", "The configuration is saved.");
            (StatusCode::OK, None)
        }
        Err(e) => (ctx.fail("document", e), Some(f.document)),
    };
    render_settings(&s, &ctx, &access, keep, status).await
}

// ---------------------------------------------------------------- service keys

#[derive(Template)]
#[template(path = "org_keys.html")]
struct KeysPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    keys: Vec<OrgApiKey>,
    paged: bool,
    first: String,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn render_keys(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::ApiKeysManage>,
    cursor: Option<&str>,
    status: StatusCode,
) -> Response {
    let p = match s.svc.service_keys().list(access, page_of(cursor)).await {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let base = format!("/org-admin/{}/keys", access.org().slug);
    let page = KeysPage {
        ctx,
        section: "keys",
        o: access.org(),
        keys: p.items,
        paged: cursor.is_some(),
        first: base.clone(),
        next: next_link(&base, &[], p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn keys(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::ApiKeysManage>,
    Query(q): Query<CursorQuery>,
) -> Response {
    render_keys(&s, &ctx, &access, q.cursor.as_deref(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct ServiceKeyForm {
    name: String,
    role: Option<String>,
    scope_secrets: Option<String>,
    scope_check: Option<String>,
    expires_in_days: Option<String>,
}

async fn create_key(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ApiKeysManage>,
    Form(f): Form<ServiceKeyForm>,
) -> Response {
    let mut scopes = Vec::new();
    if f.scope_secrets.is_some() {
        scopes.push("secrets:read".to_string());
    }
    if f.scope_check.is_some() {
        scopes.push("check".to_string());
    }
    let made = match number("expires_in_days", f.expires_in_days.as_deref()) {
        Ok(days) => {
            let input = ServiceKeyInput {
                name: f.name,
                role: blank_none(f.role),
                scopes,
                expires_in_days: days,
            };
            s.svc.service_keys().create(&access, input).await
        }
        Err(e) => Err(e),
    };
    let status = match made {
        Ok(k) => {
            ctx.secret(
                "key",
                format!("The service key {} is made.", k.key.name),
                k.token,
            );
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("key", e),
    };
    render_keys(&s, &ctx, &access, None, status).await
}

async fn delete_key(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::ApiKeysManage>,
    Path((_, id)): Path<(String, String)>,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s
        .svc
        .service_keys()
        .delete(&access, id_of::<ApiKeyId>(&id))
        .await
    {
        Ok(()) => {
            ctx.done("keys", "The key is deleted; it stops working at once.");
            StatusCode::OK
        }
        Err(e) => ctx.fail("keys", e),
    };
    render_keys(&s, &ctx, &access, None, status).await
}

// ---------------------------------------------------------------- assistants

#[derive(Template)]
#[template(path = "org_assistants.html")]
struct AssistantsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    assistants: Vec<Assistant>,
    report: Option<RederiveReport>,
    paged: bool,
    first: String,
    next: Option<String>,
}

async fn render_assistants(
    s: &AppState,
    ctx: &Ctx,
    access: &OrgAccess<perm::AssistantsRead>,
    cursor: Option<&str>,
    report: Option<RederiveReport>,
    status: StatusCode,
) -> Response {
    let p = match s
        .svc
        .assistants()
        .list(access, AssistantFilter::default(), page_of(cursor))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let base = format!("/org-admin/{}/assistants", access.org().slug);
    let page = AssistantsPage {
        ctx,
        section: "assistants",
        o: access.org(),
        assistants: p.items,
        report,
        paged: cursor.is_some(),
        first: base.clone(),
        next: next_link(&base, &[], p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn assistants(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::AssistantsRead>,
    Query(q): Query<CursorQuery>,
) -> Response {
    render_assistants(&s, &ctx, &access, q.cursor.as_deref(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct RederiveForm {
    confirm: Option<String>,
}

async fn rederive(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::AssistantsManage>,
    Form(f): Form<RederiveForm>,
) -> Response {
    let dry_run = f.confirm.is_none();
    let (status, report) = match s.svc.assistants().rederive(&access, dry_run).await {
        Ok(r) => {
            let n = r.changed.len();
            if dry_run {
                ctx.done(
                    "rederive",
                    format!("{n} assistant(s) would change; {} would not.", r.unchanged),
                );
            } else {
                ctx.done("rederive", format!("{n} assistant(s) changed."));
            }
            (StatusCode::OK, Some(r))
        }
        Err(e) => (ctx.fail("rederive", e), None),
    };
    match access.require::<perm::AssistantsRead>() {
        Ok(read) => render_assistants(&s, &ctx, &read, None, report, status).await,
        Err(e) => Refusal::error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct ShareForm {
    target: String,
}

async fn share(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::AssistantsRead>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<ShareForm>,
) -> Response {
    let caller = access.caller().clone();
    let id = id_of::<AssistantId>(&id);
    let done = async {
        let Caller::User(actor) = &caller else {
            return Err(Error::Unauthenticated);
        };
        let token = ctx.session_token().ok_or(Error::Unauthenticated)?;
        let assistant = s
            .svc
            .authz()
            .assistant::<perm::AssistantsEditOwn>(token, id, actor.origin().clone())
            .await?;
        if assistant.assistant().org_id != access.org().id {
            return Err(Error::not_found("assistant_not_found", "assistant"));
        }
        let target = s
            .svc
            .authz()
            .org_for::<perm::AssistantsCreate>(caller.clone(), &OrgRef::parse(f.target.trim()))
            .await?;
        s.svc.assistants().share(&assistant, &target).await?;
        Ok(target.org().name.clone())
    };
    let status = match done.await {
        Ok(name) => {
            ctx.done(
                "assistants",
                format!("The assistant is shared with {name}."),
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("assistants", e),
    };
    render_assistants(&s, &ctx, &access, None, None, status).await
}

// ---------------------------------------------------------------- import

#[derive(Template)]
#[template(path = "org_import.html")]
struct ImportPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    csv: String,
    report: Option<ImportReport>,
}

async fn import_page(OrgPage(ctx, access): OrgPage<perm::MembersManage>) -> Response {
    let page = ImportPage {
        ctx: &ctx,
        section: "import",
        o: access.org(),
        csv: String::new(),
        report: None,
    };
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct ImportForm {
    csv: String,
    execute: Option<String>,
}

async fn import(
    State(s): State<AppState>,
    OrgPage(mut ctx, access): OrgPage<perm::MembersManage>,
    Form(f): Form<ImportForm>,
) -> Response {
    let dry_run = f.execute.is_none();
    let quiet = |_: orgbase_service::ImportPhase, _: usize, _: usize| {};
    let (status, report) = match s
        .svc
        .access()
        .import_users(&access, f.csv.as_bytes(), dry_run, &quiet)
        .await
    {
        Ok(r) => {
            let t = &r.totals;
            let text = if r.executed {
                format!(
                    "Imported: {} created, {} added, {} skipped.",
                    t.create, t.add, t.skip
                )
            } else if r.refused() || t.error > 0 {
                format!(
                    "{} row(s) have errors: fix them and check again. Nothing was imported.",
                    t.error
                )
            } else {
                format!(
                    "Checked {} row(s): {} would be created, {} added, {} skipped. Nothing is imported until you confirm.",
                    t.rows, t.create, t.add, t.skip
                )
            };
            if t.error > 0 {
                ctx.notices.push(crate::render::Notice {
                    form: "import",
                    ok: false,
                    text,
                    secret: None,
                });
                (StatusCode::UNPROCESSABLE_ENTITY, Some(r))
            } else {
                ctx.done("import", text);
                (StatusCode::OK, Some(r))
            }
        }
        Err(e) => (ctx.fail("import", e), None),
    };
    let executed = report.as_ref().is_some_and(|r| r.executed);
    let page = ImportPage {
        ctx: &ctx,
        section: "import",
        o: access.org(),
        csv: if executed { String::new() } else { f.csv },
        report,
    };
    respond(&ctx, status, &page)
}

// ---------------------------------------------------------------- audit and export

async fn audit(
    State(s): State<AppState>,
    OrgPage(ctx, access): OrgPage<perm::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let found = s
        .svc
        .orgs()
        .audit(&access, action, page_of(q.cursor.as_deref()))
        .await;
    let base = format!("/org-admin/{}/audit", access.org().slug);
    let (status, page) = AuditPage::new(&ctx, Some(access.org()), base, &q, found);
    respond(&ctx, status, &page)
}

#[derive(Template)]
#[template(path = "org_export.html")]
struct ExportPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    o: &'a Org,
    owner: bool,
}

async fn export_page(OrgPage(ctx, access): OrgPage<perm::OrgExport>) -> Response {
    let page = ExportPage {
        ctx: &ctx,
        section: "export",
        o: access.org(),
        owner: access.role() == Some(Role::Owner),
    };
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
struct ExportQuery {
    secrets: Option<String>,
}

/// The org's document as a file to save.
async fn export_file(
    State(s): State<AppState>,
    OrgPage(_ctx, access): OrgPage<perm::OrgExport>,
    Query(q): Query<ExportQuery>,
) -> Response {
    match s
        .svc
        .portability()
        .export(&access, q.secrets.is_some())
        .await
    {
        Ok(doc) => {
            let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let mut res = (StatusCode::OK, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"{}.json\"",
                access.org().slug
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(e) => Refusal::error(e).into_response(),
    }
}
