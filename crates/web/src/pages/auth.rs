//! Sign-in, sign-out, sign-up, and the pages that links in mails open: verify an
//! address, set a password, answer an invitation.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use orgbase_http::AppState;
use orgbase_service::SignupInput;
use serde::Deserialize;

use super::{Nothing, encode, safe_next};
use crate::render::{respond, see_other};
use crate::session::{Ctx, Form, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-up", get(sign_up_page).post(sign_up))
        .route("/verify-email", get(verify_page).post(verify))
        .route("/password-reset", get(reset_page).post(reset))
        .route("/set-password", get(set_password_page).post(set_password))
        .route("/invitations/accept", get(invitation_page).post(accept))
        .route("/invitations/decline", post(decline))
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    ctx: &'a Ctx,
    next: &'a str,
    email: &'a str,
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
    /// Ask even when signed in (an OpenID Connect client asked for a fresh sign-in).
    again: Option<String>,
}

async fn sign_in_page(
    State(s): State<AppState>,
    Page(ctx): Page,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if ctx.actor.is_some() && q.again.is_none() {
        return see_other(&ctx, next);
    }
    let page = SignInPage {
        ctx: &ctx,
        next,
        email: "",
    };
    super::oidc::toward_client(&s, next, respond(&ctx, StatusCode::OK, &page)).await
}

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<SignIn>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_string();
    match s
        .svc
        .accounts()
        .login(&f.email, &f.password, ctx.origin.clone())
        .await
    {
        Ok(login) => {
            // The session this browser had (another account, say) ends with the new one.
            if let Some(old) = &ctx.actor
                && let Err(e) = s.svc.accounts().logout(old).await
            {
                tracing::warn!(error = %e, "ending the replaced session");
            }
            ctx.start_session(&login.token);
            see_other(&ctx, &next)
        }
        Err(e) => {
            let status = ctx.fail("sign-in", e);
            let page = SignInPage {
                ctx: &ctx,
                next: &next,
                email: &f.email,
            };
            super::oidc::toward_client(&s, &next, respond(&ctx, status, &page)).await
        }
    }
}

async fn sign_out(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(_): Form<Nothing>,
) -> Response {
    if let Some(actor) = &ctx.actor
        && let Err(e) = s.svc.accounts().logout(actor).await
    {
        tracing::warn!(error = %e, "ending a session");
    }
    ctx.end_session();
    see_other(&ctx, "/sign-in")
}

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage<'a> {
    ctx: &'a Ctx,
    name: &'a str,
    email: &'a str,
    signup_key: &'a str,
    invitation: &'a str,
}

#[derive(Deserialize, Default)]
struct SignUpQuery {
    invitation: Option<String>,
    key: Option<String>,
}

async fn sign_up_page(Page(ctx): Page, Query(q): Query<SignUpQuery>) -> Response {
    let page = SignUpPage {
        ctx: &ctx,
        name: "",
        email: "",
        signup_key: q.key.as_deref().unwrap_or(""),
        invitation: q.invitation.as_deref().unwrap_or(""),
    };
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct SignUp {
    name: String,
    email: String,
    password: String,
    signup_key: Option<String>,
    invitation_token: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn sign_up(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<SignUp>,
) -> Response {
    let input = SignupInput {
        email: f.email.clone(),
        password: f.password.clone(),
        name: f.name.clone(),
        signup_key: non_empty(&f.signup_key),
        invitation_token: non_empty(&f.invitation_token),
    };
    match s.svc.accounts().signup(input, ctx.origin.clone()).await {
        Ok(done) => {
            ctx.start_session(&done.token);
            see_other(&ctx, "/account?welcome=1")
        }
        Err(e) => {
            let status = ctx.fail("sign-up", e);
            let page = SignUpPage {
                ctx: &ctx,
                name: &f.name,
                email: &f.email,
                signup_key: f.signup_key.as_deref().unwrap_or(""),
                invitation: f.invitation_token.as_deref().unwrap_or(""),
            };
            respond(&ctx, status, &page)
        }
    }
}

/// One page for every link-with-a-token and the reset request: a heading, a line of
/// text, and a form with the fields it needs.
#[derive(Template)]
#[template(path = "token_form.html")]
struct TokenPage<'a> {
    ctx: &'a Ctx,
    heading: &'a str,
    intro: &'a str,
    action: &'a str,
    button: &'a str,
    token: &'a str,
    ask_email: bool,
    ask_password: bool,
    done: bool,
}

impl<'a> TokenPage<'a> {
    fn new(ctx: &'a Ctx, heading: &'a str, action: &'a str, button: &'a str) -> Self {
        TokenPage {
            ctx,
            heading,
            intro: "",
            action,
            button,
            token: "",
            ask_email: false,
            ask_password: false,
            done: false,
        }
    }
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
struct TokenForm {
    token: String,
}

async fn verify_page(Page(ctx): Page, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    let mut page = TokenPage::new(
        &ctx,
        "Confirm your e-mail address",
        "/verify-email",
        "Confirm my address",
    );
    page.token = &token;
    page.intro = "This proves that the address is yours.";
    respond(&ctx, StatusCode::OK, &page)
}

async fn verify(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<TokenForm>,
) -> Response {
    let status = match s
        .svc
        .accounts()
        .verify_email(&f.token, ctx.origin.clone())
        .await
    {
        Ok((user, _)) => {
            ctx.done("token", format!("Thank you: {} is confirmed.", user.email));
            StatusCode::OK
        }
        Err(e) => ctx.fail("token", e),
    };
    let mut page = TokenPage::new(
        &ctx,
        "Confirm your e-mail address",
        "/verify-email",
        "Confirm my address",
    );
    page.token = &f.token;
    page.done = status.is_success();
    respond(&ctx, status, &page)
}

async fn reset_page(Page(ctx): Page) -> Response {
    let mut page = TokenPage::new(
        &ctx,
        "Reset your password",
        "/password-reset",
        "Mail me a link",
    );
    page.ask_email = true;
    page.intro = "We mail a link to set a new password to the address, if it has an account.";
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct ResetForm {
    email: String,
}

async fn reset(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<ResetForm>,
) -> Response {
    let status = match s
        .svc
        .accounts()
        .request_password_reset(&f.email, ctx.origin.clone())
        .await
    {
        Ok(()) => {
            ctx.done(
                "token",
                "If the address has an account, a link to set a new password is on its way.",
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("token", e),
    };
    let mut page = TokenPage::new(
        &ctx,
        "Reset your password",
        "/password-reset",
        "Mail me a link",
    );
    page.ask_email = !status.is_success();
    page.done = status.is_success();
    respond(&ctx, status, &page)
}

async fn set_password_page(Page(ctx): Page, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    let mut page = TokenPage::new(
        &ctx,
        "Set your password",
        "/set-password",
        "Set my password",
    );
    page.token = &token;
    page.ask_password = true;
    respond(&ctx, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct SetPassword {
    token: String,
    password: String,
}

async fn set_password(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<SetPassword>,
) -> Response {
    let status = match s
        .svc
        .accounts()
        .set_password_with_token(&f.token, &f.password, ctx.origin.clone())
        .await
    {
        Ok(()) => {
            ctx.done(
                "token",
                "Your password is set. You can sign in with it now.",
            );
            StatusCode::OK
        }
        Err(e) => ctx.fail("token", e),
    };
    let mut page = TokenPage::new(
        &ctx,
        "Set your password",
        "/set-password",
        "Set my password",
    );
    page.done = status.is_success();
    respond(&ctx, status, &page)
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage<'a> {
    ctx: &'a Ctx,
    token: &'a str,
    /// The token, encoded for a query string.
    token_q: String,
    /// This page's address, encoded for `?next=`.
    here: String,
    done: bool,
}

async fn invitation_page(Page(ctx): Page, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    let page = InvitationPage {
        ctx: &ctx,
        token: &token,
        token_q: encode(&token),
        here: encode(&ctx.here),
        done: false,
    };
    respond(&ctx, StatusCode::OK, &page)
}

async fn accept(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<TokenForm>,
) -> Response {
    let Some(actor) = ctx.actor.clone() else {
        let next = format!("/invitations/accept?token={}", encode(&f.token));
        return see_other(&ctx, &format!("/sign-in?next={}", encode(&next)));
    };
    let status = match s.svc.invitations().accept(&actor, &f.token).await {
        Ok(org) => {
            ctx.done("invitation", format!("Welcome to {}.", org.name));
            StatusCode::OK
        }
        Err(e) => ctx.fail("invitation", e),
    };
    let page = InvitationPage {
        ctx: &ctx,
        token: &f.token,
        token_q: encode(&f.token),
        here: encode(&ctx.here),
        done: status.is_success(),
    };
    respond(&ctx, status, &page)
}

async fn decline(
    State(s): State<AppState>,
    Page(mut ctx): Page,
    Form(f): Form<TokenForm>,
) -> Response {
    let status = match s
        .svc
        .invitations()
        .decline(&f.token, ctx.origin.clone())
        .await
    {
        Ok(()) => {
            ctx.done("invitation", "The invitation is declined.");
            StatusCode::OK
        }
        Err(e) => ctx.fail("invitation", e),
    };
    let page = InvitationPage {
        ctx: &ctx,
        token: &f.token,
        token_q: encode(&f.token),
        here: encode(&ctx.here),
        done: status.is_success(),
    };
    respond(&ctx, status, &page)
}
