//! From a page's template to a response, and the refusals pages answer with.

use askama::Template;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use orgbase_http::problem::Problem;
use orgbase_service::Error;

use crate::session::Ctx;

/// A message next to the form it is about: why it was refused, or what it did.
pub struct Notice {
    pub form: &'static str,
    pub ok: bool,
    pub text: String,
    /// Shown once and never again (a new key, an invitation link): the page shows it
    /// in a field to copy.
    pub secret: Option<String>,
}

impl Ctx {
    /// Records that the form `form` was refused, and returns the status of the refusal
    /// (the API's status for the same error).
    pub fn fail(&mut self, form: &'static str, e: Error) -> StatusCode {
        let p = Problem::from(e);
        self.notices.push(Notice {
            form,
            ok: false,
            text: sentence(&p.detail),
            secret: None,
        });
        p.status
    }

    /// Records that the form `form` did what it was asked.
    pub fn done(&mut self, form: &'static str, text: impl Into<String>) {
        self.notices.push(Notice {
            form,
            ok: true,
            text: text.into(),
            secret: None,
        });
    }

    /// Records a one-time secret to show next to the form `form`.
    pub fn secret(&mut self, form: &'static str, text: impl Into<String>, secret: String) {
        self.notices.push(Notice {
            form,
            ok: true,
            text: text.into(),
            secret: Some(secret),
        });
    }
}

/// The service's messages are lower-case phrases; pages show sentences.
fn sentence(detail: &str) -> String {
    let mut c = detail.chars();
    let mut s = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
        None => String::new(),
    };
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// A rendered page with its status, the cookies the request set, and no caching.
pub fn respond(ctx: &Ctx, status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            return Refusal::error(Error::Internal(e.to_string())).into_response();
        }
    };
    let mut res = (status, body).into_response();
    set_html(&mut res);
    for c in &ctx.set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A redirect after a successful form (Post/Redirect/Get), with the request's cookies.
pub fn see_other(ctx: &Ctx, to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    for c in &ctx.set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn set_html(res: &mut Response) {
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
}

/// A page that cannot be shown: the browser is sent to sign in, or gets an error page.
#[derive(Debug)]
pub enum Refusal {
    SignIn { next: String },
    Page { status: StatusCode, message: String },
}

impl Refusal {
    pub fn sign_in(parts: &Parts) -> Self {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        Refusal::SignIn { next }
    }

    pub fn not_found() -> Self {
        Refusal::Page {
            status: StatusCode::NOT_FOUND,
            message: "There is no such page, or it is not yours to see.".into(),
        }
    }

    pub fn csrf() -> Self {
        Refusal::Page {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired or was sent from another site. Go back, reload \
                      the page and try again."
                .into(),
        }
    }

    pub fn status(status: StatusCode, message: &str) -> Self {
        Refusal::Page {
            status,
            message: message.to_string(),
        }
    }

    pub fn error(e: Error) -> Self {
        let p = Problem::from(e);
        let message = if p.status == StatusCode::NOT_FOUND {
            "There is no such page, or it is not yours to see.".to_string()
        } else {
            sentence(&p.detail)
        };
        Refusal::Page {
            status: p.status,
            message,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn { next } => {
                let to = format!("/sign-in?next={}", crate::pages::encode(&next));
                Redirect::to(&to).into_response()
            }
            Refusal::Page { status, message } => {
                let page = ErrorPage {
                    status: status.as_u16(),
                    title: status.canonical_reason().unwrap_or("Error"),
                    message: &message,
                };
                let body = page.render().unwrap_or_else(|_| message.clone());
                let mut res = (status, body).into_response();
                set_html(&mut res);
                res
            }
        }
    }
}
