//! The signed-in user's own account: profile, organizations, password, API keys.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use orgbase_domain::{ApiKey, ApiKeyId, PageRequest, Role, Scope, User};
use orgbase_http::AppState;
use orgbase_service::{Actor, Error};
use serde::Deserialize;

use super::Nothing;
use crate::render::{Refusal, respond, see_other};
use crate::session::{Ctx, Form, SignedIn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/name", post(rename))
        .route("/account/password", post(password))
        .route("/account/verify-email", post(resend))
        .route("/account/api-keys", post(create_key))
        .route("/account/api-keys/{id}/delete", post(delete_key))
}

/// One of the user's memberships, as the page lists it.
struct MyOrg {
    slug: String,
    scope: &'static str,
    role: Role,
    /// Org admins (and owners) get a link to the org's panel.
    admin: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    ctx: &'a Ctx,
    user: User,
    orgs: Vec<MyOrg>,
    keys: Vec<ApiKey>,
}

async fn render(s: &AppState, ctx: &Ctx, actor: &Actor, status: StatusCode) -> Response {
    let loaded = async {
        let me = s.svc.me().show(actor).await?;
        let keys = s
            .svc
            .me()
            .api_keys(
                actor,
                PageRequest {
                    after: None,
                    limit: 200,
                },
            )
            .await?;
        Ok::<_, Error>((me, keys))
    };
    let (me, keys) = match loaded.await {
        Ok(v) => v,
        Err(e) => return axum::response::IntoResponse::into_response(Refusal::error(e)),
    };
    let orgs = me
        .memberships
        .into_iter()
        .map(|(m, slug)| MyOrg {
            slug: slug.as_str().to_string(),
            scope: match m.scope {
                Scope::Org(_) => "organization",
                Scope::Workspace(_) => "workspace",
                Scope::Project(_) => "project",
            },
            role: m.role,
            admin: matches!(m.scope, Scope::Org(_)) && m.role >= Role::Admin,
        })
        .collect();
    let page = AccountPage {
        ctx,
        user: me.user,
        orgs,
        keys: keys.items,
    };
    respond(ctx, status, &page)
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    welcome: Option<String>,
}

async fn show(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Query(q): Query<ShowQuery>,
) -> Response {
    if q.welcome.is_some() {
        ctx.done("welcome", "Welcome to Orgbase: your account is ready.");
    }
    render(&s, &ctx, &actor, StatusCode::OK).await
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn rename(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Form(f): Form<NameForm>,
) -> Response {
    match s.svc.me().rename(&actor, &f.name).await {
        Ok(_) => see_other(&ctx, "/account"),
        Err(e) => {
            let status = ctx.fail("name", e);
            render(&s, &ctx, &actor, status).await
        }
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn password(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Form(f): Form<PasswordForm>,
) -> Response {
    let status = match s
        .svc
        .me()
        .change_password(&actor, &f.current_password, &f.new_password)
        .await
    {
        Ok(()) => {
            ctx.done(
                "password",
                "Your password is changed; your other sessions have ended.",
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("password", e),
    };
    render(&s, &ctx, &actor, status).await
}

async fn resend(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Form(_): Form<Nothing>,
) -> Response {
    let status = match s.svc.me().resend_verification(&actor).await {
        Ok(()) => {
            ctx.done(
                "verify",
                "A confirmation link is on its way to your address.",
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("verify", e),
    };
    render(&s, &ctx, &actor, status).await
}

#[derive(Deserialize)]
struct KeyForm {
    name: String,
    expires_in_days: Option<String>,
}

/// An optional whole number from a form field ("" is none); a bad one is a 400.
pub fn number(field: &'static str, raw: Option<&str>) -> Result<Option<i64>, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            Error::bad_request("invalid_number", format!("{field} must be a whole number"))
        }),
    }
}

async fn create_key(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Form(f): Form<KeyForm>,
) -> Response {
    let made = match number("expires_in_days", f.expires_in_days.as_deref()) {
        Ok(days) => s.svc.me().create_api_key(&actor, &f.name, days).await,
        Err(e) => Err(e),
    };
    let status = match made {
        Ok(k) => {
            ctx.secret("key", format!("The key {} is made.", k.key.name), k.token);
            StatusCode::CREATED
        }
        Err(e) => ctx.fail("key", e),
    };
    render(&s, &ctx, &actor, status).await
}

async fn delete_key(
    State(s): State<AppState>,
    SignedIn(mut ctx, actor): SignedIn,
    Path(id): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let id = super::id_of::<ApiKeyId>(&id);
    match s.svc.me().delete_api_key(&actor, id).await {
        Ok(()) => see_other(&ctx, "/account"),
        Err(e) => {
            let status = ctx.fail("key", e);
            render(&s, &ctx, &actor, status).await
        }
    }
}
