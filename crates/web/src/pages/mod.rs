//! The pages, one module per area: `auth` (sign-in, sign-up, links from mails),
//! `account` (the user's own account), `admin` (system admins), `org_admin` (org
//! admins). Every route is listed here.

mod account;
mod admin;
mod auth;
mod oidc;
mod oidc_clients;
mod org_admin;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orgbase_domain::{Role, Scope, Timestamp};
use orgbase_http::AppState;

use crate::render::see_other;
use crate::session::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .merge(auth::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(org_admin::routes())
        .merge(oidc::routes())
        .merge(oidc_clients::routes())
}

/// `/`: signed-in users go to the panel they can use, others to sign in.
async fn home(
    axum::extract::State(s): axum::extract::State<AppState>,
    Page(ctx): Page,
) -> Response {
    let Some(actor) = &ctx.actor else {
        return see_other(&ctx, "/sign-in");
    };
    if actor.is_system_admin() {
        return see_other(&ctx, "/admin");
    }
    let administers = match s.svc.me().show(actor).await {
        Ok(me) => me
            .memberships
            .iter()
            .any(|(m, _)| matches!(m.scope, Scope::Org(_)) && m.role >= Role::Admin),
        Err(_) => false,
    };
    see_other(
        &ctx,
        if administers {
            "/org-admin"
        } else {
            "/account"
        },
    )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

async fn style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/style.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    )
}

/// A form with no fields of its own (a button): only its CSRF token is checked.
#[derive(serde::Deserialize)]
pub struct Nothing {}

/// `?cursor=` of a list page (50 a page); a bad one starts over at the first page.
pub fn page_of(cursor: Option<&str>) -> orgbase_domain::PageRequest {
    orgbase_domain::PageRequest {
        after: cursor.and_then(|c| uuid::Uuid::parse_str(c).ok()),
        limit: 50,
    }
}

/// An id from the path; one that does not parse names nothing (the nil id, which no
/// row has), so the use case answers "not found" as for any unknown id.
pub fn id_of<T: From<uuid::Uuid>>(raw: &str) -> T {
    T::from(uuid::Uuid::parse_str(raw).unwrap_or(uuid::Uuid::nil()))
}

/// The roles someone whose ceiling is `ceiling` may grant, for a select.
pub fn grantable(ceiling: Role) -> Vec<&'static str> {
    [Role::Viewer, Role::Editor, Role::Admin]
        .into_iter()
        .filter(|r| *r <= ceiling)
        .map(Role::as_str)
        .collect()
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Where to go after signing in: only a path on this server. Browsers drop tabs and
/// line breaks from URLs and read a backslash as `/`, so `/<tab>/evil` or `/\evil` would leave
/// the site: any byte that is not a visible ASCII character, and any backslash, sends
/// the user to `/` instead; so does a second leading slash.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

/// A time for people: `2026-12-01 20:31 UTC`.
pub fn when(t: &Timestamp) -> String {
    let s = t.to_rfc3339();
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => s,
    }
}

/// An optional time; "never" when absent.
pub fn when_opt(t: &Option<Timestamp>) -> String {
    t.as_ref().map_or_else(|| "never".to_string(), when)
}

/// The link to the next page of a list, keeping the list's filters.
pub fn next_link(
    base: &str,
    filters: &[(&str, &str)],
    cursor: Option<uuid::Uuid>,
) -> Option<String> {
    let cursor = cursor?;
    let mut q: Vec<(&str, String)> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    q.push(("cursor", cursor.to_string()));
    Some(format!(
        "{base}?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_server_are_followed() {
        for ok in ["/", "/account", "/org-admin/acme/members?q=a%20b", "/a//b"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "/\t/evil.test",
            "/\n/x",
            "/\r\n/x",
            "/ /x",
            "https://evil.test",
            "javascript:alert(1)",
            "evil",
            "",
            "/\u{a0}/x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
