//! `/oidc/authorize`: where a platform sends the browser to sign in through Orgbase
//! (ADR 0025). The decision is the service's; this page signs the user in (the panels'
//! own sign-in), asks for consent and shows refusals.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orgbase_http::AppState;
use orgbase_service::oidc::{Authorization, AuthorizeRequest};
use serde::Deserialize;

use crate::render::{Refusal, respond};
use crate::session::{Ctx, Form, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oidc/authorize", get(authorize).post(decide))
        .route("/oidc/logout", get(logout).post(confirm_logout))
}

#[derive(Deserialize, Default, Clone)]
struct Params {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    max_age: Option<String>,
}

impl Params {
    fn request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            response_type: self.response_type.clone(),
            scope: self.scope.clone(),
            state: self.state.clone(),
            nonce: self.nonce.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
            prompt: self.prompt.clone(),
            max_age: self.max_age.clone(),
        }
    }

    /// The parameters as (name, value) pairs; `prompt` without `login` and `consent`,
    /// and without `max_age`, which the sign-in and the consent page have just
    /// satisfied (`max_age=0` would otherwise ask for a sign-in forever).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let prompt = self.prompt.as_deref().map(|p| {
            p.split_whitespace()
                .filter(|x| *x != "login" && *x != "consent")
                .collect::<Vec<_>>()
                .join(" ")
        });
        [
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("response_type", &self.response_type),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("prompt", &prompt),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
        .collect()
    }

    /// This request again, at `/oidc/authorize`, for after signing in.
    fn again(&self) -> String {
        let q = serde_urlencoded::to_string(self.pairs()).unwrap_or_default();
        format!("/oidc/authorize?{q}")
    }
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentPage<'a> {
    ctx: &'a Ctx,
    client: &'a str,
    scopes: Vec<&'static str>,
    fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "oidc_refused.html")]
struct RefusedPage<'a> {
    ctx: &'a Ctx,
    client: &'a str,
    reason: &'a str,
    back: &'a str,
}

/// What each scope shares, for people.
fn describe(scope: &str) -> Option<&'static str> {
    match scope {
        "email" => Some("your e-mail address"),
        "profile" => Some("your name"),
        "organization" | "groups" | "roles" => Some("your organizations and your roles in them"),
        "offline_access" => Some("access while you are away (until you sign out there)"),
        _ => None,
    }
}

/// The origin (`scheme://host[:port]`) of a redirect URI, for the consent page's
/// `form-action`: browsers apply it to the redirect that follows the form.
fn origin_of(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

/// A page whose form leads on to `/oidc/authorize` (the sign-in page with such a
/// `next`): its CSP lets the redirects that follow the form reach the client's
/// registered redirect URI (browsers apply `form-action` to them).
pub async fn toward_client(s: &AppState, next: &str, res: Response) -> Response {
    let Some(query) = next.strip_prefix("/oidc/authorize?") else {
        return res;
    };
    let p: Params = serde_urlencoded::from_str(query).unwrap_or_default();
    let (Some(client), Some(uri)) = (p.client_id.as_deref(), p.redirect_uri.as_deref()) else {
        return res;
    };
    match s.svc.oidc().is_redirect_uri(client, uri).await {
        Ok(true) => allow_form_to(res, Some(uri)),
        _ => res,
    }
}

/// The same page's CSP with the client's origin allowed as a form target.
fn allow_form_to(mut res: Response, redirect_uri: Option<&str>) -> Response {
    if let Some(o) = redirect_uri.and_then(origin_of)
        && o.bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        && let Ok(v) = HeaderValue::from_str(
            &crate::CSP.replace("form-action 'self'", &format!("form-action 'self' {o}")),
        )
    {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

fn external(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn answer(s: &AppState, ctx: &Ctx, p: &Params, decision: Option<bool>) -> Response {
    let outcome = match s
        .svc
        .oidc()
        .authorize(ctx.actor.as_ref(), &p.request(), decision)
        .await
    {
        Ok(o) => o,
        Err(e) => return Refusal::error(e).into_response(),
    };
    match outcome {
        Authorization::Invalid(why) => {
            Refusal::status(StatusCode::BAD_REQUEST, &why).into_response()
        }
        Authorization::Redirect(to) => external(&to),
        Authorization::SignIn => {
            let next = crate::pages::encode(&p.again());
            // Signed in already (`prompt=login`, an old `max_age`): ask again anyway.
            let again = if ctx.actor.is_some() { "&again=1" } else { "" };
            let mut res = external(&format!("/sign-in?next={next}{again}"));
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Authorization::Consent { client, scopes } => {
            let mut shown: Vec<&'static str> = scopes.iter().filter_map(|s| describe(s)).collect();
            shown.dedup();
            let page = ConsentPage {
                ctx,
                client: &client,
                scopes: shown,
                fields: p.pairs(),
            };
            allow_form_to(
                respond(ctx, StatusCode::OK, &page),
                p.redirect_uri.as_deref(),
            )
        }
        Authorization::Refused {
            client,
            reason,
            back,
        } => {
            let page = RefusedPage {
                ctx,
                client: &client,
                reason: &reason,
                back: &back,
            };
            respond(ctx, StatusCode::FORBIDDEN, &page)
        }
    }
}

async fn authorize(
    State(s): State<AppState>,
    Page(ctx): Page,
    Query(p): Query<Params>,
) -> Response {
    answer(&s, &ctx, &p, None).await
}

#[derive(Deserialize)]
struct Decision {
    decision: String,
    #[serde(flatten)]
    params: Params,
}

async fn decide(State(s): State<AppState>, Page(ctx): Page, Form(d): Form<Decision>) -> Response {
    if ctx.actor.is_none() {
        let next = crate::pages::encode(&d.params.again());
        return external(&format!("/sign-in?next={next}"));
    }
    answer(&s, &ctx, &d.params, Some(d.decision == "allow")).await
}

#[derive(Deserialize, Default)]
struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

impl LogoutParams {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("id_token_hint", &self.id_token_hint),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
            ("client_id", &self.client_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
        .collect()
    }
}

#[derive(Template)]
#[template(path = "oidc_logout.html")]
struct LogoutPage<'a> {
    ctx: &'a Ctx,
    ask: bool,
    client: &'a str,
    fields: Vec<(&'static str, String)>,
}

async fn logout_request(
    s: &AppState,
    p: &LogoutParams,
) -> Result<orgbase_service::oidc::LogoutRequest, Response> {
    s.svc
        .oidc()
        .logout_request(
            p.id_token_hint.as_deref(),
            p.client_id.as_deref(),
            p.post_logout_redirect_uri.as_deref(),
            p.state.as_deref(),
        )
        .await
        .map_err(|e| Refusal::error(e).into_response())
}

/// Ends this browser's session, then goes where the client asked (if registered) or
/// says so.
async fn sign_out_and_leave(
    s: &AppState,
    mut ctx: Ctx,
    req: orgbase_service::oidc::LogoutRequest,
) -> Response {
    if let Some(actor) = &ctx.actor
        && let Err(e) = s.svc.accounts().logout(actor).await
    {
        tracing::warn!(error = %e, "ending a session");
    }
    ctx.end_session();
    ctx.actor = None;
    match &req.redirect {
        // `see_other` carries the cookie that ends the session.
        Some(to) => crate::render::see_other(&ctx, to),
        None => {
            let page = LogoutPage {
                ctx: &ctx,
                ask: false,
                client: req.client.as_deref().unwrap_or(""),
                fields: Vec::new(),
            };
            respond(&ctx, StatusCode::OK, &page)
        }
    }
}

/// RP-initiated logout: a hint naming the signed-in user signs out at once; anything
/// else asks first (a link on another site must not sign people out).
async fn logout(
    State(s): State<AppState>,
    Page(ctx): Page,
    Query(p): Query<LogoutParams>,
) -> Response {
    let req = match logout_request(&s, &p).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let named = match (&ctx.actor, &req.user) {
        (Some(a), Some(u)) => a.id().to_string() == *u,
        (None, _) => true,
        _ => false,
    };
    if named {
        return sign_out_and_leave(&s, ctx, req).await;
    }
    let page = LogoutPage {
        ctx: &ctx,
        ask: true,
        client: req.client.as_deref().unwrap_or(""),
        fields: p.pairs(),
    };
    allow_form_to(
        respond(&ctx, StatusCode::OK, &page),
        req.redirect.as_deref(),
    )
}

async fn confirm_logout(
    State(s): State<AppState>,
    Page(ctx): Page,
    Form(p): Form<LogoutParams>,
) -> Response {
    match logout_request(&s, &p).await {
        Ok(req) => sign_out_and_leave(&s, ctx, req).await,
        Err(res) => res,
    }
}
