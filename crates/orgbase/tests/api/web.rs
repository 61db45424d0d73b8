//! The web panels through the real router, as a browser would use them (no script):
//! cookies, forms, redirects. The browser suite (`scripts/browser`) drives the same
//! pages in Chromium; these stories pin down what must hold on every request: the
//! security headers, the cookie's attributes, CSRF refusals, and every page's
//! permission check.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Test, TestApp, s, spawn, spawn_with};
use crate::story;

pub const TESTS: &[Test] = &[
    story!(pages_carry_the_security_headers),
    story!(the_session_cookie_is_secure_when_served_over_https),
    story!(forms_without_their_csrf_token_are_refused),
    story!(every_page_checks_who_asks),
    story!(another_orgs_admin_changes_nothing),
    story!(sign_in_and_out_and_the_account_page),
    story!(an_invitation_from_the_panel_is_accepted_in_the_browser),
];

/// A browser without scripts: a cookie jar, no automatic redirects.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers on every request (`Origin`, `X-Forwarded-Proto`).
    extra: HeaderMap,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in the page: {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// The value of the input with this id (a one-time secret shown to copy).
    pub fn input_value(&self, id: &str) -> String {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in the page: {}", self.body));
        let rest = &self.body[at..];
        let v = rest.find("value=\"").unwrap() + "value=\"".len();
        let rest = &rest[v..];
        html_unescape(&rest[..rest.find('"').unwrap()])
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            extra: HeaderMap::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.extra
            .insert(name, HeaderValue::from_str(value).unwrap());
        self
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self.client.request(method, url).headers(self.extra.clone());
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", jar.join("; "));
        }
        if let Some(f) = form {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded_pairs(f));
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let body = res.text().await.unwrap_or_default();
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from {path}: {body}"
        );
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    /// Submits a form as the page would: with the page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.get(page).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, action, Some(&all)).await
    }

    /// Posts exactly these fields (no CSRF token unless given).
    pub async fn post_raw(&mut self, action: &str, fields: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, action, Some(fields)).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let a = self
            .submit(
                "/sign-in",
                "/sign-in",
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email}: {}",
            a.body
        );
        a
    }

    pub fn session(&self) -> Option<&String> {
        self.cookies.get("orgbase_session")
    }
}

fn serde_urlencoded_pairs(f: &[(&str, &str)]) -> String {
    f.iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every page and asset carries the headers; the CSP allows no inline script.
async fn pages_carry_the_security_headers(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let mut web = Browser::new(&app);
    for path in [
        "/sign-in",
        "/sign-up",
        "/password-reset",
        "/assets/style.css",
        "/",
        "/admin/orgs",
    ] {
        let a = web.get(path).await;
        let h = |n: &str| {
            a.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let csp = h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
    }
    // Pages are never cached; the page's HTML has no inline script or style.
    let a = web.get("/sign-in").await;
    assert_eq!(a.headers["cache-control"], "no-store");
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        !a.body.contains("<script>") && !a.body.contains("style="),
        "{}",
        a.body
    );
    // The session cookie: HttpOnly, SameSite=Lax, not Secure over plain HTTP.
    let signed = web.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = signed
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("orgbase_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The API is not a page: no cookie works there (it takes bearer tokens only).
    let (st, _) = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

/// Over HTTPS (the public URL says so, or a trusted proxy does) cookies are `Secure`;
/// an untrusted client saying `X-Forwarded-Proto: https` changes nothing.
async fn the_session_cookie_is_secure_when_served_over_https(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.public_url = Some("https://orgbase.example".into())).await
    else {
        return;
    };
    let mut web = Browser::new(&app);
    let a = web.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        a.set_cookies().iter().all(|c| c.contains("Secure")),
        "{:?}",
        a.set_cookies()
    );

    let Some(app) = spawn_with(b, |s| s.trusted_proxies = Some("127.0.0.1".into())).await else {
        return;
    };
    let mut web = Browser::new(&app).with_header("x-forwarded-proto", "https");
    let a = web.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        a.set_cookies().iter().all(|c| c.contains("Secure")),
        "{:?}",
        a.set_cookies()
    );

    let Some(app) = spawn(b).await else { return };
    let mut web = Browser::new(&app).with_header("x-forwarded-proto", "https");
    let a = web.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        a.set_cookies().iter().all(|c| !c.contains("Secure")),
        "{:?}",
        a.set_cookies()
    );
}

/// A form without the page's token, with a wrong one, with another session's, or sent
/// from another site is refused (403) and changes nothing; sign-in too (login CSRF).
async fn forms_without_their_csrf_token_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let user = app.signup("csrf@example.com", "Before").await;
    let mut web = Browser::new(&app);
    // Sign-in without the anonymous token cookie and field.
    let a = web
        .post_raw(
            "/sign-in",
            &[("email", "csrf@example.com"), ("password", "password-123")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(web.session().is_none());
    web.sign_in("csrf@example.com", "password-123").await;
    let mut other = Browser::new(&app);
    other.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let others_token = other.get("/account").await.csrf();

    let rename = |csrf: &str| vec![("csrf", csrf.to_string()), ("name", "After".to_string())];
    for bad in [None, Some("0".repeat(64)), Some(others_token)] {
        let fields: Vec<(&str, String)> = match &bad {
            None => vec![("name", "After".to_string())],
            Some(t) => rename(t),
        };
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = web.post_raw("/account/name", &fields).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{bad:?}: {}", a.body);
    }
    // The right token, but sent from another site.
    let good = web.get("/account").await.csrf();
    let mut cross = Browser::new(&app).with_header("origin", "https://evil.example");
    cross.cookies = web.cookies.clone();
    let a = cross
        .post_raw("/account/name", &[("csrf", &good), ("name", "After")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let mut cross = Browser::new(&app).with_header("sec-fetch-site", "cross-site");
    cross.cookies = web.cookies.clone();
    let a = cross
        .post_raw("/account/name", &[("csrf", &good), ("name", "After")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let mut sibling = Browser::new(&app).with_header("sec-fetch-site", "same-site");
    sibling.cookies = web.cookies.clone();
    let a = sibling
        .post_raw("/account/name", &[("csrf", &good), ("name", "After")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let (_, me) = app.get("/api/v1/me", &user.token).await;
    assert_eq!(me["user"]["name"], "Before");
    // What Chromium sends for a form of a `no-referrer` page: `Origin: null` and
    // `Sec-Fetch-Site: same-origin`. With the page's token it goes through.
    let mut chromium = Browser::new(&app)
        .with_header("origin", "null")
        .with_header("sec-fetch-site", "same-origin");
    chromium.cookies = web.cookies.clone();
    let a = chromium
        .post_raw("/account/name", &[("csrf", &good), ("name", "Middle")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // The page's own token works.
    let a = web
        .post_raw("/account/name", &[("csrf", &good), ("name", "After")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let (_, me) = app.get("/api/v1/me", &user.token).await;
    assert_eq!(me["user"]["name"], "After");
}

/// Who may see which page: every page of the panels, for five kinds of visitors.
/// Signed out: sent to sign in. `/admin`: system admins only (others: 404). An org's
/// pages: its members by role (404 to everyone else, 403 to a member whose role does
/// not allow the page).
async fn every_page_checks_who_asks(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin_a = app.signup("pa-admin@example.com", "Admin A").await;
    app.signup("pb-admin@example.com", "Admin B").await;
    let viewer = app.signup("pa-viewer@example.com", "Viewer").await;
    app.add_to_org(&admin_a.org_slug, &viewer.id, "viewer")
        .await;
    let org = admin_a.org_slug.clone();

    let mut anon = Browser::new(&app);
    let mut root = Browser::new(&app);
    root.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut own = Browser::new(&app);
    own.sign_in("pa-admin@example.com", "password-123").await;
    let mut stranger = Browser::new(&app);
    stranger
        .sign_in("pb-admin@example.com", "password-123")
        .await;
    let mut member = Browser::new(&app);
    member
        .sign_in("pa-viewer@example.com", "password-123")
        .await;

    let admin_pages = [
        "/admin",
        "/admin/orgs",
        "/admin/orgs?q=pa&deleted=1",
        "/admin/users",
        "/admin/users?q=example",
        "/admin/domains",
        "/admin/system",
        "/admin/mail",
        "/admin/audit",
    ];
    for p in admin_pages {
        let a = anon.get(p).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{p}");
        assert!(
            a.location().starts_with("/sign-in?next="),
            "{p}: {}",
            a.location()
        );
        let ok = if p == "/admin" {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::OK
        };
        assert_eq!(root.get(p).await.status, ok, "system admin: {p}");
        for (who, web) in [("org admin", &mut own), ("member", &mut member)] {
            assert_eq!(web.get(p).await.status, StatusCode::NOT_FOUND, "{who}: {p}");
        }
    }

    // (page, may a viewer member see it?)
    let org_pages = [
        ("", false),
        ("/members", true),
        ("/invitations", false),
        ("/signup", false),
        ("/domains", false),
        ("/settings", false),
        ("/keys", false),
        ("/assistants", true),
        ("/import", false),
        ("/audit", false),
        ("/export", false),
        ("/export.json", false),
    ];
    for (page, viewer_may) in org_pages {
        let p = format!("/org-admin/{org}{page}");
        let a = anon.get(&p).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{p}");
        assert_eq!(own.get(&p).await.status, StatusCode::OK, "own admin: {p}");
        assert_eq!(
            root.get(&p).await.status,
            StatusCode::OK,
            "system admin: {p}"
        );
        let a = stranger.get(&p).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "another org's admin: {p}");
        assert!(
            !a.body.contains("Admin A"),
            "{p} leaks the org to a stranger"
        );
        let want = if viewer_may {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(member.get(&p).await.status, want, "viewer: {p}");
        // A made-up org is as absent as another's.
        let p = format!("/org-admin/no-such-org{page}");
        assert_eq!(own.get(&p).await.status, StatusCode::NOT_FOUND, "{p}");
    }
    // The picker and the account page: any signed-in user. (The picker goes straight
    // to the one org a user administers: here their personal org.)
    for p in ["/org-admin", "/account"] {
        assert_eq!(anon.get(p).await.status, StatusCode::SEE_OTHER, "{p}");
        let st = member.get(p).await.status;
        assert!(
            st == StatusCode::OK || st == StatusCode::SEE_OTHER,
            "{p}: {st}"
        );
    }
    let a = member.get("/org-admin").await;
    assert_eq!(a.location(), format!("/org-admin/{}", viewer.org_slug));
    // `/` sends each to their panel.
    assert_eq!(anon.get("/").await.location(), "/sign-in");
    assert_eq!(root.get("/").await.location(), "/admin");
    assert_eq!(own.get("/").await.location(), "/org-admin");
    assert_eq!(member.get("/").await.location(), "/org-admin");
}

/// An admin of another org, with a valid session and CSRF token, gets 404 for every
/// form of the org's panel, and the org is unchanged.
async fn another_orgs_admin_changes_nothing(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let victim = app.signup("victim@example.com", "Victim").await;
    let attacker = app.signup("attacker@example.com", "Attacker").await;
    let org = victim.org_slug.clone();
    let mut web = Browser::new(&app);
    web.sign_in("attacker@example.com", "password-123").await;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/org-admin/{org}/invitations"),
            vec![("email", "x@example.com"), ("role", "admin")],
        ),
        (
            format!("/org-admin/{org}/signup"),
            vec![("enabled", "true"), ("rotate", "true")],
        ),
        (
            format!("/org-admin/{org}/domains"),
            vec![("domain", "victim.example")],
        ),
        (
            format!("/org-admin/{org}/settings/provider"),
            vec![("name", "openai"), ("api_key", "sk-stolen-0000000000")],
        ),
        (
            format!("/org-admin/{org}/settings/limits"),
            vec![("max_members", "1")],
        ),
        (
            format!("/org-admin/{org}/settings/document"),
            vec![("document", "{}")],
        ),
        (
            format!("/org-admin/{org}/keys"),
            vec![("name", "mine"), ("role", "admin")],
        ),
        (
            format!("/org-admin/{org}/import"),
            vec![
                ("csv", "email,name,role\nx@victim.example,X,admin\n"),
                ("execute", "1"),
            ],
        ),
        (
            format!("/org-admin/{org}/members/{}/remove", victim.id),
            vec![],
        ),
        (
            format!("/org-admin/{org}/members/{}/role", victim.id),
            vec![("role", "viewer")],
        ),
        (
            format!("/org-admin/{org}/assistants/rederive"),
            vec![("confirm", "1")],
        ),
        (
            "/admin/orgs".to_string(),
            vec![("name", "Mine"), ("owner_email", "attacker@example.com")],
        ),
        (format!("/admin/orgs/{org}/delete"), vec![]),
        (
            format!("/admin/users/{}", victim.id),
            vec![("enabled", "false")],
        ),
    ];
    let csrf = web.get("/account").await.csrf();
    for (action, fields) in forms {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let a = web.post_raw(&action, &all).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{action}: {}", a.body);
    }
    let admin = app.admin_token().await;
    let (_, audit) = app
        .get(&format!("/api/v1/orgs/{org}/audit?limit=200"), &admin)
        .await;
    let by_attacker = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_user_id"] == json!(attacker.id))
        .count();
    assert_eq!(by_attacker, 0, "{audit}");
    let (st, me) = app.get("/api/v1/me", &victim.token).await;
    assert_eq!(st, StatusCode::OK, "{me}");
}

/// Sign-in with a wrong password shows why and keeps the address; sign-in brings the
/// user back where they were going; sign-out ends the session for the API too.
async fn sign_in_and_out_and_the_account_page(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.signup("web-user@example.com", "Web User").await;
    let mut web = Browser::new(&app);
    let a = web.get("/account").await;
    assert_eq!(a.location(), "/sign-in?next=%2Faccount");
    let a = web
        .submit(
            "/sign-in",
            "/sign-in",
            &[
                ("email", "web-user@example.com"),
                ("password", "wrong-password-1"),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.body.contains("role=\"alert\"") && a.body.contains("E-mail or password is wrong"),
        "{}",
        a.body
    );
    assert!(a.body.contains("value=\"web-user@example.com\""));
    // Only paths on this server are followed after sign-in.
    let a = web
        .submit(
            "/sign-in",
            "/sign-in",
            &[
                ("email", "web-user@example.com"),
                ("password", "password-123"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(a.location(), "/");
    let token = web.session().cloned().unwrap();
    // Browsers drop tabs and line breaks from URLs: `/<tab>/evil` would be `//evil`.
    for next in ["/\t/evil.example/", "/\\evil.example", "/\r\n/x"] {
        let a = web.get(&format!("/sign-in?next={}", urlencode(next))).await;
        assert_eq!(a.location(), "/", "{next:?}");
    }
    // Signing in again (as someone else, say) ends the session it replaces.
    let mut again = Browser::new(&app);
    again.sign_in("web-user@example.com", "password-123").await;
    let first = again.session().cloned().unwrap();
    let csrf = again.get("/account").await.csrf();
    let a = again
        .post_raw(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_ne!(again.session(), Some(&first));
    assert_eq!(
        app.get("/api/v1/me", &first).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(st, StatusCode::OK, "the cookie holds an API session");

    // The account page: a personal key shown once, then listed by its prefix only.
    let a = web
        .submit(
            "/account",
            "/account/api-keys",
            &[("name", "laptop"), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let key = a.input_value("key-secret");
    assert!(key.starts_with("obk_"), "{key}");
    let (st, _) = app.get("/api/v1/me", &key).await;
    assert_eq!(st, StatusCode::OK);
    let page = web.get("/account").await;
    assert!(!page.body.contains(&key), "the key is shown again");
    // A refused form says why, next to the form.
    let a = web
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "not-it-at-all"),
                ("new_password", "new-password-123"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.body.contains("id=\"password-note\"")
            && a.body.contains("The current password is wrong."),
        "{}",
        a.body
    );

    let a = web.submit("/account", "/sign-out", &[]).await;
    assert_eq!(a.location(), "/sign-in");
    assert!(web.session().is_none());
    let (st, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "sign-out ends the session");
}

/// An org admin invites from the panel; the invitee opens the mailed link, signs up
/// with it in the browser and is a member; the admin sees it accepted.
async fn an_invitation_from_the_panel_is_accepted_in_the_browser(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("inv-owner@example.com", "Owner").await;
    let org = owner.org_slug.clone();
    let mut admin = Browser::new(&app);
    admin.sign_in("inv-owner@example.com", "password-123").await;
    let page = format!("/org-admin/{org}/invitations");
    let a = admin
        .submit(
            &page,
            &page,
            &[("email", "guest@example.com"), ("role", "editor")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // No SMTP in this test: the panel shows the link to pass on.
    let link = a.input_value("invite-secret");
    assert!(link.contains("/invitations/accept?token="), "{link}");
    let path = &link[link.find("/invitations").unwrap()..];
    let token = &path[path.find("token=").unwrap() + 6..];

    let mut guest = Browser::new(&app);
    let a = guest.get(path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body.contains(&format!("/sign-up?invitation={token}")),
        "{}",
        a.body
    );
    let a = guest
        .submit(
            &format!("/sign-up?invitation={token}"),
            "/sign-up",
            &[
                ("name", "Guest"),
                ("email", "guest@example.com"),
                ("password", "password-123"),
                ("invitation_token", token),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let session = guest.session().cloned().unwrap();
    let (_, me) = app.get("/api/v1/me", &session).await;
    let roles: Vec<String> = me["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["org_slug"] == json!(org))
        .map(|m| s(&m["role"]))
        .collect();
    assert_eq!(roles, ["editor"], "{me}");
    let a = admin.get(&format!("{page}?status=accepted")).await;
    assert!(a.body.contains("guest@example.com"), "{}", a.body);
    // Members page lists the guest with a role form; its search finds only them.
    let a = admin.get(&format!("/org-admin/{org}/members")).await;
    assert!(a.body.contains("guest@example.com") && a.body.contains("inv-owner@example.com"));
    let a = admin
        .get(&format!("/org-admin/{org}/members?q=GUEST"))
        .await;
    assert!(a.body.contains("guest@example.com") && !a.body.contains("inv-owner@example.com"));
}
