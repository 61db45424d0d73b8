//! `/admin`: the system admins' panel. Every page takes the system-admin proof
//! ([`AdminPage`]); to anyone else these pages do not exist (404).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use orgbase_domain::{AuditAction, AuditEvent, Org, OrgDomain, OrgId, OutboxMail, User, UserId};
use orgbase_http::AppState;
use orgbase_service::authz::perm;
use orgbase_service::{Caller, Error, NewOrgInput, NewUserInput, OrgRef, UserPatch, UserRef};
use serde::Deserialize;
use uuid::Uuid;

use super::{Nothing, id_of, next_link, page_of};
use crate::render::{Refusal, respond, see_other};
use crate::session::{AdminPage, Ctx, Form};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            get(|AdminPage(ctx, _): AdminPage| async move { see_other(&ctx, "/admin/orgs") }),
        )
        .route("/admin/orgs", get(orgs).post(create_org))
        .route("/admin/orgs/{org}/delete", post(delete_org))
        .route("/admin/orgs/{org}/restore", post(restore_org))
        .route("/admin/orgs/{org}/suspend", post(suspend_org))
        .route("/admin/orgs/{org}/reactivate", post(reactivate_org))
        .route("/admin/users", get(users))
        .route("/admin/users/new", post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/domains", get(domains))
        .route("/admin/domains/approve", post(approve_domain))
        .route("/admin/system", get(system))
        .route("/admin/system/sync", post(sync))
        .route("/admin/mail", get(mail))
        .route("/admin/audit", get(audit))
}

#[derive(Deserialize, Default)]
struct OrgsQuery {
    q: Option<String>,
    deleted: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    q: &'a str,
    deleted: bool,
    orgs: Vec<Org>,
    paged: bool,
    first: String,
    next: Option<String>,
}

async fn render_orgs(
    s: &AppState,
    ctx: &Ctx,
    a: &orgbase_service::SystemAdmin,
    q: &OrgsQuery,
    status: StatusCode,
) -> Response {
    let search = q.q.as_deref().unwrap_or("");
    let deleted = q.deleted.is_some();
    let p = match s
        .svc
        .admin()
        .orgs(a, deleted, Some(search), page_of(q.cursor.as_deref()))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let flag = if deleted { "1" } else { "" };
    let filters = [("q", search), ("deleted", flag)];
    let page = OrgsPage {
        ctx,
        section: "orgs",
        q: search,
        deleted,
        orgs: p.items,
        paged: q.cursor.is_some(),
        first: next_link("/admin/orgs", &filters, None).unwrap_or_else(|| "/admin/orgs".into()),
        next: next_link("/admin/orgs", &filters, p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn orgs(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Query(q): Query<OrgsQuery>,
) -> Response {
    render_orgs(&s, &ctx, &a, &q, StatusCode::OK).await
}

#[derive(Deserialize)]
struct NewOrg {
    name: String,
    slug: Option<String>,
    owner_email: String,
}

async fn create_org(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Form(f): Form<NewOrg>,
) -> Response {
    let input = NewOrgInput {
        name: f.name,
        slug: f.slug.filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    let status = match s.svc.admin().create_org(&a, &f.owner_email, input).await {
        Ok(org) => {
            ctx.done(
                "create",
                format!(
                    "{} is created, with {} as its owner.",
                    org.name, f.owner_email
                ),
            );
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("create", e),
    };
    render_orgs(&s, &ctx, &a, &OrgsQuery::default(), status).await
}

async fn delete_org(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Path(org): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let caller = Caller::User(a.actor().clone());
    let done = match s
        .svc
        .authz()
        .org_for::<perm::OrgDelete>(caller, &OrgRef::parse(&org))
        .await
    {
        Ok(access) => s
            .svc
            .orgs()
            .delete(&access)
            .await
            .map(|()| access.org().name.clone()),
        Err(e) => Err(e),
    };
    let status = match done {
        Ok(name) => {
            ctx.done(
                "org",
                format!("{name} is deleted; it can be restored for 30 days."),
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("org", e),
    };
    render_orgs(&s, &ctx, &a, &OrgsQuery::default(), status).await
}

async fn restore_org(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Path(org): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let caller = Caller::User(a.actor().clone());
    let done = match s
        .svc
        .authz()
        .org_for::<perm::OrgRestore>(caller, &OrgRef::parse(&org))
        .await
    {
        Ok(access) => s.svc.orgs().restore(&access).await,
        Err(e) => Err(e),
    };
    let status = match done {
        Ok(o) => {
            ctx.done("org", format!("{} is restored.", o.name));
            StatusCode::OK
        }
        Err(e) => ctx.fail("org", e),
    };
    let q = OrgsQuery {
        deleted: Some("1".into()),
        ..Default::default()
    };
    render_orgs(&s, &ctx, &a, &q, status).await
}

async fn suspend_org(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Path(org): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    set_suspended(s, ctx, a, org, true).await
}

async fn reactivate_org(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Path(org): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    set_suspended(s, ctx, a, org, false).await
}

async fn set_suspended(
    s: AppState,
    mut ctx: Ctx,
    a: orgbase_service::SystemAdmin,
    org: String,
    suspended: bool,
) -> Response {
    let status = match s
        .svc
        .admin()
        .set_suspended(&a, &OrgRef::parse(&org), suspended)
        .await
    {
        Ok(o) if suspended => {
            ctx.done("org", format!("{} is suspended.", o.name));
            StatusCode::OK
        }
        Ok(o) => {
            ctx.done("org", format!("{} is active again.", o.name));
            StatusCode::OK
        }
        Err(e) => ctx.fail("org", e),
    };
    render_orgs(&s, &ctx, &a, &OrgsQuery::default(), status).await
}

#[derive(Deserialize, Default)]
struct UsersQuery {
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    q: &'a str,
    users: Vec<User>,
    paged: bool,
    first: String,
    next: Option<String>,
}

async fn render_users(
    s: &AppState,
    ctx: &Ctx,
    a: &orgbase_service::SystemAdmin,
    q: &UsersQuery,
    status: StatusCode,
) -> Response {
    let search = q.q.as_deref().unwrap_or("");
    let p = match s
        .svc
        .admin()
        .users(a, Some(search), page_of(q.cursor.as_deref()))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let filters = [("q", search)];
    let page = UsersPage {
        ctx,
        section: "users",
        q: search,
        users: p.items,
        paged: q.cursor.is_some(),
        first: next_link("/admin/users", &filters, None).unwrap_or_else(|| "/admin/users".into()),
        next: next_link("/admin/users", &filters, p.next_cursor),
    };
    respond(ctx, status, &page)
}

async fn users(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Query(q): Query<UsersQuery>,
) -> Response {
    render_users(&s, &ctx, &a, &q, StatusCode::OK).await
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    email: String,
    password: String,
    org: Option<String>,
    role: Option<String>,
    is_system_admin: Option<String>,
}

async fn create_user(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Form(f): Form<NewUser>,
) -> Response {
    let org = f.org.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let input = NewUserInput {
        email: f.email,
        password: f.password,
        name: f.name,
        is_system_admin: f.is_system_admin.is_some(),
        org: org.map(OrgRef::parse),
        role: org.and(f.role),
    };
    let status = match s.svc.admin().create_user(&a, input).await {
        Ok(u) => {
            ctx.done("create", format!("{} is created.", u.email));
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("create", e),
    };
    let q = UsersQuery::default();
    render_users(&s, &ctx, &a, &q, status).await
}

#[derive(Deserialize)]
struct UserChange {
    enabled: Option<bool>,
    is_system_admin: Option<bool>,
    password: Option<String>,
}

async fn update_user(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Path(id): Path<String>,
    Form(f): Form<UserChange>,
) -> Response {
    let id = id_of::<UserId>(&id);
    let resetting = f.password.is_some();
    let patch = UserPatch {
        enabled: f.enabled,
        password: f.password,
        name: None,
        is_system_admin: f.is_system_admin,
    };
    let status = match s.svc.admin().update_user(&a, UserRef::Id(id), patch).await {
        Ok(u) => {
            let what = if resetting {
                "has a new password; their sessions have ended"
            } else if !u.enabled {
                "is disabled; their sessions have ended"
            } else {
                "is updated"
            };
            ctx.done("user", format!("{} {what}.", u.email));
            StatusCode::OK
        }
        Err(e) => ctx.fail("user", e),
    };
    render_users(&s, &ctx, &a, &UsersQuery::default(), status).await
}

#[derive(Template)]
#[template(path = "admin_domains.html")]
struct DomainsPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    claims: Vec<(OrgDomain, String)>,
}

async fn render_domains(
    s: &AppState,
    ctx: &Ctx,
    a: &orgbase_service::SystemAdmin,
    status: StatusCode,
) -> Response {
    match s.svc.admin().pending_domains(a).await {
        Ok(claims) => respond(
            ctx,
            status,
            &DomainsPage {
                ctx,
                section: "domains",
                claims,
            },
        ),
        Err(e) => Refusal::error(e).into_response(),
    }
}

async fn domains(State(s): State<AppState>, AdminPage(ctx, a): AdminPage) -> Response {
    render_domains(&s, &ctx, &a, StatusCode::OK).await
}

#[derive(Deserialize)]
struct Approve {
    org: String,
    domain: String,
}

async fn approve_domain(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Form(f): Form<Approve>,
) -> Response {
    let status = match s
        .svc
        .access()
        .approve_domain(&a, &OrgRef::parse(&f.org), &f.domain)
        .await
    {
        Ok(d) => {
            ctx.done("domain", format!("{} is approved for {}.", d.domain, f.org));
            StatusCode::OK
        }
        Err(e) => ctx.fail("domain", e),
    };
    render_domains(&s, &ctx, &a, status).await
}

#[derive(Template)]
#[template(path = "admin_system.html")]
struct SystemPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    changed: Option<Vec<String>>,
}

async fn system(AdminPage(ctx, _): AdminPage) -> Response {
    respond(
        &ctx,
        StatusCode::OK,
        &SystemPage {
            ctx: &ctx,
            section: "system",
            changed: None,
        },
    )
}

async fn sync(
    State(s): State<AppState>,
    AdminPage(mut ctx, a): AdminPage,
    Form(_): Form<Nothing>,
) -> Response {
    let (status, changed) = match s.svc.system().sync(&a).await {
        Ok(r) => {
            let text = if r.changed.is_empty() {
                "Synced: nothing changed.".to_string()
            } else {
                format!("Synced: {} setting(s) changed.", r.changed.len())
            };
            ctx.done("sync", text);
            (StatusCode::OK, Some(r.changed))
        }
        Err(e) => (ctx.fail("sync", e), None),
    };
    respond(
        &ctx,
        status,
        &SystemPage {
            ctx: &ctx,
            section: "system",
            changed,
        },
    )
}

#[derive(Deserialize, Default)]
struct MailQuery {
    status: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage<'a> {
    ctx: &'a Ctx,
    section: &'a str,
    configured: bool,
    status: &'a str,
    options: Vec<(&'static str, bool)>,
    mails: Vec<OutboxMail>,
    paged: bool,
    first: String,
    next: Option<String>,
}

async fn mail(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Query(q): Query<MailQuery>,
) -> Response {
    let status = q.status.as_deref().unwrap_or("");
    let p = match s
        .svc
        .admin()
        .outbox(&a, Some(status), page_of(q.cursor.as_deref()))
        .await
    {
        Ok(p) => p,
        Err(e) => return Refusal::error(e).into_response(),
    };
    let filters = [("status", status)];
    let page = MailPage {
        ctx: &ctx,
        section: "mail",
        configured: s.svc.mail().configured(),
        status,
        options: ["queued", "sending", "sent", "failed"]
            .into_iter()
            .map(|o| (o, o == status))
            .collect(),
        mails: p.items,
        paged: q.cursor.is_some(),
        first: next_link("/admin/mail", &filters, None).unwrap_or_else(|| "/admin/mail".into()),
        next: next_link("/admin/mail", &filters, p.next_cursor),
    };
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub org: Option<String>,
    pub action: Option<String>,
    pub cursor: Option<String>,
}

/// The audit log page, of every org (`/admin/audit`) or of one (`/org-admin/{org}/audit`).
#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage<'a> {
    pub ctx: &'a Ctx,
    pub section: &'a str,
    pub org: Option<&'a Org>,
    pub base: String,
    pub org_filter: &'a str,
    pub action: &'a str,
    pub actions: Vec<&'static str>,
    pub events: Vec<AuditEvent>,
    pub error: Option<String>,
    pub paged: bool,
    pub first: String,
    pub next: Option<String>,
}

impl<'a> AuditPage<'a> {
    /// The page around a result: the events, or the refusal of the filters.
    pub fn new(
        ctx: &'a Ctx,
        org: Option<&'a Org>,
        base: String,
        q: &'a AuditQuery,
        found: Result<orgbase_domain::Page<AuditEvent>, Error>,
    ) -> (StatusCode, Self) {
        let org_filter = q.org.as_deref().unwrap_or("");
        let action = q.action.as_deref().unwrap_or("");
        let filters = [("org", org_filter), ("action", action)];
        let (status, events, next, error) = match found {
            Ok(p) => (StatusCode::OK, p.items, p.next_cursor, None),
            Err(e) => {
                let p = orgbase_http::problem::Problem::from(e);
                (p.status, Vec::new(), None, Some(p.detail))
            }
        };
        let page = AuditPage {
            ctx,
            section: "audit",
            org,
            org_filter,
            action,
            actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
            events,
            error,
            paged: q.cursor.is_some(),
            first: next_link(&base, &filters, None).unwrap_or_else(|| base.clone()),
            next: next_link(&base, &filters, next),
            base,
        };
        (status, page)
    }
}

async fn audit(
    State(s): State<AppState>,
    AdminPage(ctx, a): AdminPage,
    Query(q): Query<AuditQuery>,
) -> Response {
    let org = match q.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None => Ok(None),
        Some(o) => Uuid::parse_str(o)
            .map(|u| Some(OrgId::from(u)))
            .map_err(|_| {
                Error::bad_request("invalid_org", "the organization filter must be an org id")
            }),
    };
    let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let found = match org {
        Ok(org) => {
            s.svc
                .admin()
                .audit(&a, org, action, page_of(q.cursor.as_deref()))
                .await
        }
        Err(e) => Err(e),
    };
    let (status, page) = AuditPage::new(&ctx, None, "/admin/audit".into(), &q, found);
    respond(&ctx, status, &page)
}
