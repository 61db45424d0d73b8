//! The browser's side of a session: the session cookie (the same sessions as the API's
//! bearer tokens), CSRF tokens, and the extractors that turn a request into a page
//! context with its authorization proof.
//!
//! CSRF: every state-changing form carries a `csrf` field. With a session it is a hash
//! of the session token (which the page's scripts cannot read: the cookie is HttpOnly);
//! without one (sign-in, sign-up, reset) it is a random value also held in a cookie
//! (double submit). On top of that a POST whose `Origin` or `Sec-Fetch-Site` says it
//! came from another site is refused before anything else is read.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use cookie::{Cookie, SameSite};
use orgbase_domain::{ProjectId, WorkspaceId};
use orgbase_http::AppState;
use orgbase_http::extract::origin;
use orgbase_service::authz::Perm;
use orgbase_service::crypto::{TokenKind, random_hex};
use orgbase_service::{
    Actor, Error, OrgAccess, OrgRef, Origin, ScopeAccess, ScopePath, SystemAdmin,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::WebConfig;
use crate::render::{Notice, Refusal};

pub const SESSION_COOKIE: &str = "orgbase_session";
pub const CSRF_COOKIE: &str = "orgbase_csrf";

/// The cookies the panels read, from the request's `Cookie` headers.
#[derive(Default)]
struct Jar {
    session: Option<String>,
    csrf: Option<String>,
}

fn jar(headers: &HeaderMap) -> Jar {
    let mut jar = Jar::default();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for c in Cookie::split_parse(value).flatten() {
            let v = c.value();
            if v.is_empty() || v.len() > 256 {
                continue;
            }
            match c.name() {
                SESSION_COOKIE => jar.session = Some(v.to_string()),
                CSRF_COOKIE if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    jar.csrf = Some(v.to_string())
                }
                _ => {}
            }
        }
    }
    jar
}

/// The CSRF token that goes with a session.
fn session_csrf(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"orgbase-csrf-v1\0");
    h.update(token.as_bytes());
    hex_string(&h.finalize())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token a form from this browser must carry, and whether a fresh anonymous one
/// must be set as a cookie.
fn expected_csrf(jar: &Jar) -> (String, bool) {
    if let Some(s) = &jar.session {
        return (session_csrf(s), false);
    }
    if let Some(c) = &jar.csrf {
        return (c.clone(), false);
    }
    // 32 random bytes; random_hex only fails when the OS has no randomness, and then
    // the form simply fails its check.
    (random_hex(32).unwrap_or_default(), true)
}

/// Whether cookies must be `Secure`: the server is reached over HTTPS (its public URL
/// says so), or a trusted proxy says this request came over HTTPS.
fn is_secure(parts: &Parts, state: &AppState, cfg: &WebConfig) -> bool {
    if cfg.https {
        return true;
    }
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let proto = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok());
    matches!((peer, proto), (Some(p), Some(proto))
        if state.proxies.trusts(p) && proto.trim().eq_ignore_ascii_case("https"))
}

/// What every page knows about its request: who is signed in (if anyone), the CSRF
/// token for its forms, and the notices to show next to the forms.
pub struct Ctx {
    pub actor: Option<Actor>,
    pub csrf: String,
    pub secure: bool,
    pub origin: Origin,
    /// The path and query, to come back to after signing in.
    pub here: String,
    pub notices: Vec<Notice>,
    pub(crate) set_cookies: Vec<String>,
    session: Option<String>,
    session_ttl_secs: i64,
}

impl Ctx {
    fn build(parts: &Parts, state: &AppState, actor: Option<Actor>) -> Ctx {
        let cfg = config(parts);
        let jar = jar(&parts.headers);
        let (csrf, fresh) = expected_csrf(&jar);
        let secure = is_secure(parts, state, &cfg);
        let mut ctx = Ctx {
            actor,
            csrf: csrf.clone(),
            secure,
            origin: origin(parts),
            here: parts
                .uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string()),
            notices: Vec::new(),
            set_cookies: Vec::new(),
            session: jar.session,
            session_ttl_secs: cfg.session_ttl_secs,
        };
        if fresh {
            ctx.set_cookies.push(
                cookie(CSRF_COOKIE, csrf, secure)
                    .same_site(SameSite::Strict)
                    .build()
                    .to_string(),
            );
        }
        ctx
    }

    /// The signed-in user's session token (for use cases that take one).
    pub fn session_token(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Starts a session in this browser (after sign-in or sign-up): the session
    /// cookie, and the CSRF token that goes with it for the page rendered next.
    pub fn start_session(&mut self, token: &str) {
        self.csrf = session_csrf(token);
        self.session = Some(token.to_string());
        self.set_cookies.push(
            cookie(SESSION_COOKIE, token.to_string(), self.secure)
                .max_age(cookie::time::Duration::seconds(self.session_ttl_secs))
                .build()
                .to_string(),
        );
    }

    /// Forgets the session in this browser.
    pub fn end_session(&mut self) {
        self.session = None;
        self.set_cookies.push(
            cookie(SESSION_COOKIE, String::new(), self.secure)
                .max_age(cookie::time::Duration::ZERO)
                .build()
                .to_string(),
        );
    }

    /// A notice next to the form named `form`.
    pub fn note(&self, form: &str) -> Option<&Notice> {
        self.notices.iter().find(|n| n.form == form)
    }

    pub fn user_name(&self) -> &str {
        self.actor.as_ref().map_or("", |a| a.user().name.as_str())
    }

    pub fn is_system_admin(&self) -> bool {
        self.actor.as_ref().is_some_and(Actor::is_system_admin)
    }
}

fn cookie(name: &'static str, value: String, secure: bool) -> cookie::CookieBuilder<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
}

fn config(parts: &Parts) -> WebConfig {
    parts
        .extensions
        .get::<WebConfig>()
        .cloned()
        .unwrap_or_default()
}

/// Any page: the signed-in user if there is one. A stale session cookie counts as
/// signed out (and is not an error: the sign-in page must still show).
pub struct Page(pub Ctx);

impl FromRequestParts<AppState> for Page {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let jar = jar(&parts.headers);
        let actor = match &jar.session {
            Some(t) if TokenKind::of(t) == Some(TokenKind::Session) => {
                state.svc.authz().authenticate(t, origin(parts)).await.ok()
            }
            _ => None,
        };
        Ok(Page(Ctx::build(parts, state, actor)))
    }
}

/// A page for signed-in users; others are sent to sign in and brought back.
pub struct SignedIn(pub Ctx, pub Actor);

fn session_of(parts: &Parts) -> Result<String, Refusal> {
    match jar(&parts.headers).session {
        Some(t) if TokenKind::of(&t) == Some(TokenKind::Session) => Ok(t),
        _ => Err(Refusal::sign_in(parts)),
    }
}

/// An error of the use case behind a page's extractor: not signed in (or the session
/// ended) sends the browser to sign in; anything else is an error page.
fn refuse(parts: &Parts, e: Error) -> Refusal {
    match e {
        Error::Unauthenticated => Refusal::sign_in(parts),
        other => Refusal::error(other),
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let token = session_of(parts)?;
        let actor = state
            .svc
            .authz()
            .authenticate(&token, origin(parts))
            .await
            .map_err(|e| refuse(parts, e))?;
        Ok(SignedIn(
            Ctx::build(parts, state, Some(actor.clone())),
            actor,
        ))
    }
}

/// A page of `/admin`: the system-admin proof. Anyone else gets a 404 page, as for a
/// page that does not exist.
pub struct AdminPage(pub Ctx, pub SystemAdmin);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let token = session_of(parts)?;
        let admin = state
            .svc
            .authz()
            .system_admin(&token, origin(parts))
            .await
            .map_err(|e| match e {
                Error::Forbidden { .. } => Refusal::not_found(),
                other => refuse(parts, other),
            })?;
        let ctx = Ctx::build(parts, state, Some(admin.actor().clone()));
        Ok(AdminPage(ctx, admin))
    }
}

/// A page of `/org-admin/{org}`: the proof that the signed-in user holds `P` in the
/// org the path names (an org they cannot see is a 404 page, as in the API).
pub struct OrgPage<P>(pub Ctx, pub OrgAccess<P>);

impl<P: Perm + Send + Sync + 'static> FromRequestParts<AppState> for OrgPage<P> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let token = session_of(parts)?;
        let org = org_of(parts, state).await?;
        let access = state
            .svc
            .authz()
            .org::<P>(&token, &org, origin(parts))
            .await
            .map_err(|e| refuse(parts, e))?;
        let actor = person(access.caller());
        Ok(OrgPage(Ctx::build(parts, state, actor), access))
    }
}

/// A page about members at a scope of the org: `/org-admin/{org}/...` with
/// `?workspace=<id>` and optionally `&project=<id>`; the proof that the signed-in user
/// holds `P` there (a workspace or project of another org is a 404).
pub struct ScopePage<P>(pub Ctx, pub ScopeAccess<P>);

impl<P: Perm + Send + Sync + 'static> FromRequestParts<AppState> for ScopePage<P> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let token = session_of(parts)?;
        let org = org_of(parts, state).await?;
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        let id = |name: &str| {
            query
                .iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| Uuid::parse_str(v).unwrap_or(Uuid::nil()))
        };
        let path = ScopePath {
            workspace: id("workspace").map(WorkspaceId::from),
            project: id("project").map(ProjectId::from),
        };
        let access = state
            .svc
            .authz()
            .scope::<P>(&token, &org, path, origin(parts))
            .await
            .map_err(|e| refuse(parts, e))?;
        let actor = person(access.caller());
        Ok(ScopePage(Ctx::build(parts, state, actor), access))
    }
}

async fn org_of(parts: &mut Parts, state: &AppState) -> Result<OrgRef, Refusal> {
    let params = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| Refusal::not_found())?;
    Ok(params
        .iter()
        .find(|(k, _)| *k == "org")
        .map_or(OrgRef::Invalid, |(_, v)| OrgRef::parse(v)))
}

/// The person behind a proof (the panels take session cookies only, so always one).
fn person(caller: &orgbase_service::Caller) -> Option<Actor> {
    match caller {
        orgbase_service::Caller::User(a) => Some(a.clone()),
        orgbase_service::Caller::Service(_) => None,
    }
}

/// A submitted form, after its CSRF check. Fields are the form's own; `csrf` is read
/// and removed here.
pub struct Form<T>(pub T);

/// Whether a state-changing request says it came from another site. Browsers that
/// send `Sec-Fetch-Site` are believed (anything but `cross-site` is this site, or
/// typed by the user); otherwise an `Origin` naming another host is. `Origin: null`
/// names nothing (Chromium sends it for forms of pages with `no-referrer`): the CSRF
/// token decides.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "cross-site" || site == "same-site";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return false;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let bare = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    bare != Some(host)
}

/// Largest form the panels accept (a CSV import is the biggest).
pub const FORM_LIMIT: usize = 2 * 1024 * 1024;

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, Refusal> {
        let (parts, body) = req.into_parts();
        if cross_site(&parts.headers) {
            return Err(Refusal::csrf());
        }
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Refusal::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This page takes a form submitted from the page itself.",
            ));
        }
        let bytes = orgbase_http::extract::body_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| {
                Refusal::status(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.")
            })?;
        let mut sent = None;
        let mut rest = Vec::new();
        for (k, v) in form_pairs(&bytes) {
            if k == "csrf" {
                sent = Some(v);
            } else {
                rest.push((k, v));
            }
        }
        let jar = jar(&parts.headers);
        let (expected, fresh) = expected_csrf(&jar);
        let ok =
            !fresh && sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
        if !ok {
            return Err(Refusal::csrf());
        }
        let encoded = serde_urlencoded::to_string(&rest).unwrap_or_default();
        serde_urlencoded::from_str::<T>(&encoded)
            .map(Form)
            .map_err(|e| {
                Refusal::status(
                    StatusCode::BAD_REQUEST,
                    &format!("The form was not filled in as expected: {e}."),
                )
            })
    }
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).unwrap_or_default()
}
