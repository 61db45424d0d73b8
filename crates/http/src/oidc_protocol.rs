//! The OpenID Connect provider's protocol endpoints that clients call from their
//! servers: `/oidc/token` and `/oidc/userinfo` (ADR 0025). They speak OAuth's shapes
//! (form bodies, HTTP Basic client authentication, `{"error": …}` answers,
//! `WWW-Authenticate` challenges), not the API's bearer and problem-document
//! conventions, so they are not in the OpenAPI document; the discovery document
//! describes them. The browser-facing ones (`/oidc/authorize`, `/oidc/logout`) are
//! pages of the panels.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use orgbase_service::oidc::{OAuthError, TokenRequest};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::problem::Problem;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oidc/token", post(token))
        .route("/oidc/userinfo", get(userinfo).post(userinfo))
        .route("/oidc/revoke", post(revoke))
}

/// Answers must not be cached anywhere (RFC 6749 §5.1).
fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn oauth_error(e: &OAuthError) -> Response {
    let status = if e.is_client_auth() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut res = (
        status,
        axum::Json(json!({"error": e.error, "error_description": e.description})),
    )
        .into_response();
    if e.is_client_auth() {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"orgbase\""),
        );
    }
    no_store(res)
}

#[derive(Deserialize, Default)]
struct TokenForm {
    /// Revocation: the token, and an optional hint of its kind (ignored: both are
    /// looked up).
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// One form-encoded value (RFC 6749 §2.3.1: client id and secret are form-encoded
/// before they are put in the Basic header).
fn form_decode(raw: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={raw}"))
        .ok()?
        .pop()
        .map(|(_, v)| v)
}

/// `Authorization: Basic …` as (client id, secret); `Err` when present but malformed.
fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::new("invalid_client", "malformed Basic credentials");
    let v = v.to_str().map_err(|_| bad())?;
    let Some(b64) = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))
    else {
        return Err(bad());
    };
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((
        form_decode(id).ok_or_else(bad)?,
        form_decode(secret).ok_or_else(bad)?,
    )))
}

/// The form of a token or revocation request, and the Basic client credentials.
#[allow(clippy::result_large_err)]
fn read_form(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(TokenForm, Option<(String, String)>), Response> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(oauth_error(&OAuthError::new(
            "invalid_request",
            "send the parameters as application/x-www-form-urlencoded",
        )));
    }
    let Ok(f) = serde_urlencoded::from_bytes::<TokenForm>(body) else {
        return Err(oauth_error(&OAuthError::new(
            "invalid_request",
            "the form could not be read",
        )));
    };
    let basic = basic(headers).map_err(|e| oauth_error(&e))?;
    Ok((f, basic))
}

fn token_request(f: TokenForm) -> TokenRequest {
    TokenRequest {
        grant_type: f.grant_type,
        code: f.code,
        redirect_uri: f.redirect_uri,
        code_verifier: f.code_verifier,
        refresh_token: f.refresh_token,
        client_id: f.client_id,
        client_secret: f.client_secret,
    }
}

/// Token revocation (RFC 7009): 200 with no body whenever the client authenticates.
async fn revoke(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (mut f, basic) = match read_form(&headers, &body) {
        Ok(x) => x,
        Err(res) => return res,
    };
    let token = f.token.take();
    match s
        .svc
        .oidc()
        .revoke(token_request(f), token.as_deref(), basic)
        .await
    {
        Ok(Ok(())) => no_store(StatusCode::OK.into_response()),
        Ok(Err(e)) => oauth_error(&e),
        Err(e) => no_store(Problem::from(e).into_response()),
    }
}

async fn token(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, basic) = match read_form(&headers, &body) {
        Ok(x) => x,
        Err(res) => return res,
    };
    let req = token_request(f);
    match s.svc.oidc().token(req, basic).await {
        Ok(Ok(t)) => {
            let mut body = json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "id_token": t.id_token,
                "scope": t.scope,
            });
            if let Some(r) = t.refresh_token {
                body["refresh_token"] = json!(r);
            }
            no_store(axum::Json(body).into_response())
        }
        Ok(Err(e)) => oauth_error(&e),
        Err(e) => no_store(Problem::from(e).into_response()),
    }
}

async fn userinfo(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let challenge = |e: &OAuthError| {
        let value = format!(
            "Bearer error=\"{}\", error_description=\"{}\"",
            e.error,
            e.description.replace('"', "'")
        );
        let mut res = (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": e.error, "error_description": e.description})),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        no_store(res)
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return challenge(&OAuthError::new(
            "invalid_token",
            "send the access token as a Bearer token",
        ));
    };
    match s.svc.oidc().userinfo(token).await {
        Ok(Ok(claims)) => no_store(axum::Json(claims).into_response()),
        Ok(Err(e)) => challenge(&e),
        Err(e) => no_store(Problem::from(e).into_response()),
    }
}
