//! Orgbase's web panels, served by the same binary as the API: sign-in and account
//! pages, `/admin` for system admins and `/org-admin` for organization admins.
//!
//! Pages are thin like the API's handlers: each takes the same authorization proof
//! (built from the session cookie instead of a bearer token) and calls the same use
//! cases; what differs is only how answers and refusals are shown. Templates are
//! compiled (askama, under `templates/`), and the only script is a small progressive
//! enhancement served from the binary (`assets/app.js`).

mod pages;
pub mod render;
pub mod session;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use orgbase_http::AppState;

/// Settings of the panels.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The server is reached over HTTPS (its public URL is `https://`): cookies are
    /// `Secure`. Behind a trusted proxy that says `X-Forwarded-Proto: https`, they
    /// are too.
    pub https: bool,
    /// How long the session cookie lives (the session's own lifetime).
    pub session_ttl_secs: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            https: false,
            session_ttl_secs: 14 * 24 * 3600,
        }
    }
}

impl WebConfig {
    pub fn from_services(cfg: &orgbase_service::Config) -> Self {
        Self {
            https: cfg.public_url.starts_with("https://"),
            session_ttl_secs: cfg.session_ttl_secs,
        }
    }
}

/// The panels' routes, to merge into the API's router.
pub fn router(cfg: WebConfig) -> Router<AppState> {
    pages::routes()
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::Extension(cfg))
}

/// The content security policy: nothing inline, nothing from elsewhere, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Headers every page and asset carries.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A page may widen `form-action` for its own form (the consent page's target).
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Links carry one-time tokens (invitations, resets): never hand them on.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
