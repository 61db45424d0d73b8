//! The authorization code flow (OpenID Connect Core 1.0 §3.1, RFC 6749, RFC 7636):
//! the decision at `/oidc/authorize`, the exchanges at `/oidc/token` and the answers of
//! `/oidc/userinfo`. Refusals a client must understand are [`OAuthError`]s; the HTTP
//! edge renders them in OAuth's shape, never as problem documents.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orgbase_domain::{
    AuditAction, OidcClient, OidcClientId, OidcCode, OidcToken, OidcTokenKind, OrgClaims,
    Timestamp, User,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Oidc;
use crate::error::Result;
use crate::shared::audit::{AuditCtx, Change, Event};
use crate::shared::authz::{Actor, Credential};
use crate::shared::crypto::{hashes_equal, random_hex, token_hash};

/// An authorization code lives this long (RFC 6749 recommends at most 10 minutes).
const CODE_SECS: i64 = 60;
/// Access tokens and ID tokens.
const ACCESS_SECS: i64 = 3600;
/// Refresh tokens (rotated at each use).
const REFRESH_SECS: i64 = 30 * 24 * 3600;

/// A refusal in OAuth's terms (RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    /// `invalid_client` is answered with 401 and a `WWW-Authenticate` challenge.
    pub fn is_client_auth(&self) -> bool {
        self.error == "invalid_client"
    }
}

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// What `/oidc/authorize` does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Not for the client (unknown client, unregistered redirect URI): show the reason,
    /// never redirect (RFC 6749 §4.1.2.1).
    Invalid(String),
    /// Send the browser to this URL: the client's redirect URI with a code, or with an
    /// OAuth error.
    Redirect(String),
    /// The user must sign in (again, for `prompt=login` or an old `max_age`) first.
    SignIn,
    /// The user must agree to share these scopes with this client.
    Consent { client: String, scopes: Vec<String> },
    /// The user may not sign in to this client: say why, and offer `back`, the
    /// client's redirect URI with `access_denied`.
    Refused {
        client: String,
        reason: String,
        back: String,
    },
}

/// A token request, as sent (form fields).
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// What an RP-initiated logout request names (see [`Oidc::logout_request`]).
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    /// The user (`sub`) of a valid `id_token_hint`.
    pub user: Option<String>,
    /// The client's name, when a valid hint proves the request came from it.
    pub client: Option<String>,
    /// Where to send the browser after signing out (registered, with `state`).
    pub redirect: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct IdTokenHint {
    sub: String,
    aud: String,
}

/// Scopes this provider knows; others are ignored (RFC 6749 §3.3 lets it narrow).
const SCOPES: [&str; 7] = [
    "openid",
    "email",
    "profile",
    "groups",
    "roles",
    "organization",
    "offline_access",
];

fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        sep = '&';
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// When the session behind `actor` was made: its id is a UUIDv7 of the clock at login.
fn auth_time(actor: &Actor) -> Option<Timestamp> {
    match actor.credential() {
        Credential::Session(id) => id.0.get_timestamp().map(|t| {
            let (secs, nanos) = t.to_unix();
            Timestamp::from_millis(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
        }),
        Credential::ApiKey(_) => None,
    }
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The family of the tokens a code yields: from the code's hash, so a reused code can
/// revoke what its first use gave.
fn family_of(code_hash: &str) -> uuid::Uuid {
    let d = Sha256::digest(code_hash.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Uuid::from_bytes(b)
}

impl Oidc<'_> {
    /// Whether `uri` is a redirect URI registered for the client `client_id` (pages on
    /// the way to it let their forms lead there).
    pub async fn is_redirect_uri(&self, client_id: &str, uri: &str) -> Result<bool> {
        Ok(self
            .0
            .store
            .oidc_client_by_client_id(client_id)
            .await?
            .is_some_and(|c| c.redirect_uris.iter().any(|u| u.as_str() == uri)))
    }

    /// Decides an authorization request for `actor` (the signed-in user, if any);
    /// `decision` is the user's answer on the consent page (`None`: not asked yet).
    pub async fn authorize(
        &self,
        actor: Option<&Actor>,
        req: &AuthorizeRequest,
        decision: Option<bool>,
    ) -> Result<Authorization> {
        let consent = decision == Some(true);
        let core = self.0;
        let Some(client_id) = req.client_id.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(Authorization::Invalid(
                "the request names no client (client_id)".into(),
            ));
        };
        let Some(client) = core.store.oidc_client_by_client_id(client_id).await? else {
            return Ok(Authorization::Invalid(format!(
                "no client '{client_id}' is registered"
            )));
        };
        let Some(redirect) = req.redirect_uri.as_deref() else {
            return Ok(Authorization::Invalid(
                "the request has no redirect_uri".into(),
            ));
        };
        if !client.redirect_uris.iter().any(|u| u.as_str() == redirect) {
            return Ok(Authorization::Invalid(format!(
                "'{redirect}' is not a redirect URI of {}",
                client.name
            )));
        }
        let state = req.state.as_deref();
        let issuer = self.issuer();
        // A malformed request is shown, not sent back: anyone may register a client, and
        // an automatic redirect to its URI for any request would make this server an
        // open redirector (RFC 9700 §4.11.2). Answers of a well-formed request (the
        // user declined, `prompt=none` could not be honoured) go back to the client.
        let malformed = |error: &str, description: &str| {
            Authorization::Invalid(format!("{description} ({error})"))
        };
        let fail = |error: &str, description: &str| {
            let mut p = vec![("error", error), ("error_description", description)];
            if let Some(s) = state {
                p.push(("state", s));
            }
            p.push(("iss", issuer.as_str()));
            Authorization::Redirect(with_query(redirect, &p))
        };
        if req.response_type.as_deref() != Some("code") {
            return Ok(malformed(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        let asked: Vec<&str> = req
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if !asked.contains(&"openid") {
            return Ok(malformed("invalid_scope", "the scope must include openid"));
        }
        let scopes: Vec<String> = SCOPES
            .iter()
            .filter(|s| asked.contains(s))
            .map(|s| s.to_string())
            .collect();
        match (
            req.code_challenge.as_deref(),
            req.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => {}
            (Some(_), Some("S256")) => {
                return Ok(malformed(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters",
                ));
            }
            (Some(_), _) => {
                return Ok(malformed(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ));
            }
            (None, _) if client.secret_hash.is_none() => {
                return Ok(malformed(
                    "invalid_request",
                    "a public client must use PKCE (S256)",
                ));
            }
            (None, _) => {}
        }
        let prompts: Vec<&str> = req
            .prompt
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if prompts
            .iter()
            .any(|p| !["none", "login", "consent"].contains(p))
            || (prompts.contains(&"none") && prompts.len() > 1)
        {
            return Ok(malformed(
                "invalid_request",
                "prompt must be none, or login and/or consent",
            ));
        }
        let max_age = match req.max_age.as_deref() {
            None => None,
            Some(m) => match m.parse::<i64>() {
                Ok(v) if v >= 0 => Some(v),
                _ => {
                    return Ok(malformed(
                        "invalid_request",
                        "max_age must be a number of seconds",
                    ));
                }
            },
        };
        let silent = prompts.contains(&"none");
        if decision == Some(false) {
            return Ok(fail("access_denied", "the user declined"));
        }

        let now = core.clock.now();
        let Some(actor) = actor else {
            return Ok(if silent {
                fail("login_required", "nobody is signed in")
            } else {
                Authorization::SignIn
            });
        };
        let signed_in_at = auth_time(actor).unwrap_or(now);
        let too_old =
            max_age.is_some_and(|m| now.as_millis() - signed_in_at.as_millis() > m * 1000);
        if too_old || prompts.contains(&"login") {
            // After signing in again the web page asks without `prompt=login`.
            return Ok(if silent {
                fail("login_required", "the sign-in is too old")
            } else {
                Authorization::SignIn
            });
        }
        let user = actor.user();
        if self.claims_for(user, &client).await?.is_none() {
            let back = with_query(
                redirect,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        "this account may not sign in to this application",
                    ),
                    ("state", state.unwrap_or("")),
                    ("iss", issuer.as_str()),
                ],
            );
            if silent {
                return Ok(Authorization::Redirect(back));
            }
            return Ok(Authorization::Refused {
                client: client.name.clone(),
                reason: "Your account is not a member of an organization that may use this \
                         application, or it is disabled."
                    .into(),
                back,
            });
        }
        let scope = scopes.join(" ");
        let agreed = core.store.oidc_consent(user.id, client.id).await?;
        let covered = agreed
            .as_deref()
            .is_some_and(|a| scopes.iter().all(|s| a.split(' ').any(|x| x == s)));
        let must_ask = !client.first_party && (!covered || prompts.contains(&"consent"));
        if must_ask && !consent {
            return Ok(if silent {
                fail("consent_required", "the user has not agreed yet")
            } else {
                Authorization::Consent {
                    client: client.name.clone(),
                    scopes,
                }
            });
        }
        let code = random_hex(32)?;
        let record = OidcCode {
            code_hash: token_hash(&code),
            client: client.id,
            user_id: user.id,
            redirect_uri: redirect.to_string(),
            scope: scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: signed_in_at,
            created_at: now,
            expires_at: now.plus_seconds(CODE_SECS),
            used_at: None,
        };
        let mut change = core.change(AuditCtx::from(actor)).await?;
        if must_ask {
            change
                .upsert_oidc_consent(user.id, client.id, &scope, now)
                .await?;
        }
        change.insert_oidc_code(&record).await?;
        change
            .record(
                Event::new(AuditAction::OidcAuthorize, "oidc_client", client.id)
                    .details(json!({"client_id": client.client_id, "scope": scope,
                                    "consented": must_ask})),
            )
            .await?;
        change.commit().await?;
        let mut p = vec![("code", code.as_str())];
        if let Some(s) = state {
            p.push(("state", s));
        }
        p.push(("iss", issuer.as_str()));
        Ok(Authorization::Redirect(with_query(redirect, &p)))
    }

    /// The client a token request authenticates as: HTTP Basic (`basic`) or the form's
    /// `client_id` and `client_secret`; a public client by its `client_id` alone.
    async fn token_client(
        &self,
        req: &TokenRequest,
        basic: Option<(String, String)>,
    ) -> Result<std::result::Result<OidcClient, OAuthError>> {
        let bad = || OAuthError::new("invalid_client", "client authentication failed");
        let (id, secret) = match (basic, req.client_id.as_deref()) {
            (Some((id, secret)), form) => {
                if form.is_some_and(|f| f != id) || req.client_secret.is_some() {
                    return Ok(Err(OAuthError::new(
                        "invalid_request",
                        "authenticate the client one way only",
                    )));
                }
                (id, Some(secret))
            }
            (None, Some(id)) => (id.to_string(), req.client_secret.clone()),
            (None, None) => return Ok(Err(bad())),
        };
        let Some(client) = self.0.store.oidc_client_by_client_id(&id).await? else {
            return Ok(Err(bad()));
        };
        let ok = match (&client.secret_hash, &secret) {
            (Some(hash), Some(s)) => hashes_equal(hash, &token_hash(s)),
            (None, None) => true,
            _ => false,
        };
        Ok(if ok { Ok(client) } else { Err(bad()) })
    }

    /// The token endpoint: `authorization_code` (with PKCE when the code was made with
    /// a challenge) and `refresh_token` (rotated; a rotated one presented again revokes
    /// its family). The outer error is an internal failure; the inner one a refusal.
    pub async fn token(
        &self,
        req: TokenRequest,
        basic: Option<(String, String)>,
    ) -> Result<std::result::Result<TokenResponse, OAuthError>> {
        let client = match self.token_client(&req, basic).await? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        // The signing keys exist before a change opens: making them takes a change of
        // its own, and SQLite has one writer.
        self.keys().await?;
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&client, &req).await,
            Some("refresh_token") => self.refresh(&client, &req).await,
            Some(_) => Ok(Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            ))),
            None => Ok(Err(OAuthError::new(
                "invalid_request",
                "grant_type is missing",
            ))),
        }
    }

    async fn exchange_code(
        &self,
        client: &OidcClient,
        req: &TokenRequest,
    ) -> Result<std::result::Result<TokenResponse, OAuthError>> {
        let core = self.0;
        let grant = |d: &str| Ok(Err(OAuthError::new("invalid_grant", d)));
        let Some(code) = req.code.as_deref() else {
            return Ok(Err(OAuthError::new("invalid_request", "code is missing")));
        };
        let now = core.clock.now();
        let hash = token_hash(code);
        let mut change = core.change(AuditCtx::system()).await?;
        let Some((c, first)) = change.take_oidc_code(&hash, now).await? else {
            return grant("unknown code");
        };
        if !first {
            // A code used twice: what its first use gave is revoked (RFC 6749 §4.1.2).
            let n = change.revoke_oidc_family(family_of(&hash), now).await?;
            revoked(
                change,
                c.client,
                json!({"reason": "code reused", "tokens": n}),
            )
            .await?;
            return grant("the code was used already");
        }
        if c.client != client.id {
            return grant("the code was issued to another client");
        }
        if c.expires_at <= now {
            return grant("the code has expired");
        }
        if req.redirect_uri.as_deref() != Some(c.redirect_uri.as_str()) {
            return grant("redirect_uri differs from the authorization request's");
        }
        match (&c.code_challenge, req.code_verifier.as_deref()) {
            (Some(challenge), Some(v)) if hashes_equal(challenge, &s256(v)) => {}
            (Some(_), _) => return grant("the code_verifier does not match the challenge"),
            (None, Some(_)) => return grant("no code_challenge was sent for this code"),
            (None, None) => {}
        }
        let Some(user) = change.user_by_id(c.user_id).await? else {
            return grant("the user is gone");
        };
        let Some(claims) = self.claims_for(&user, client).await? else {
            return grant("the user may not sign in to this client");
        };
        let grant = Grant {
            kind: "authorization_code",
            scope: &c.scope,
            auth_time: c.auth_time,
            nonce: c.nonce.as_deref(),
            family: family_of(&hash),
        };
        let response = self
            .issue(&mut change, client, &user, &claims, grant, now)
            .await?;
        change.commit().await?;
        Ok(Ok(response))
    }

    async fn refresh(
        &self,
        client: &OidcClient,
        req: &TokenRequest,
    ) -> Result<std::result::Result<TokenResponse, OAuthError>> {
        let core = self.0;
        let grant = |d: &str| Ok(Err(OAuthError::new("invalid_grant", d)));
        let Some(raw) = req.refresh_token.as_deref() else {
            return Ok(Err(OAuthError::new(
                "invalid_request",
                "refresh_token is missing",
            )));
        };
        let now = core.clock.now();
        let mut change = core.change(AuditCtx::system()).await?;
        let Some(t) = change.oidc_token(&token_hash(raw)).await? else {
            return grant("unknown refresh token");
        };
        if t.kind != OidcTokenKind::Refresh || t.client != client.id {
            return grant("unknown refresh token");
        }
        let user = change.user_by_id(t.user_id).await?;
        let claims = match &user {
            Some(u) => self.claims_for(u, client).await?,
            None => None,
        };
        let reused = t.used_at.is_some() && t.revoked_at.is_none();
        let rotated =
            !reused && t.live_at(now) && change.use_oidc_token(&t.token_hash, now).await?;
        let (Some(user), Some(claims), true) = (user, claims, rotated) else {
            // Reuse of a rotated token (or a race for one), a disabled or removed user:
            // the whole family stops now.
            let n = change.revoke_oidc_family(t.family, now).await?;
            let reason = if reused {
                "refresh token reused"
            } else {
                "refresh refused"
            };
            let details = json!({"reason": reason, "tokens": n, "user_id": t.user_id});
            revoked(change, client.id, details).await?;
            return grant(if reused {
                "the refresh token was used already"
            } else {
                "the refresh token is no longer valid"
            });
        };
        let grant = Grant {
            kind: "refresh_token",
            scope: &t.scope,
            auth_time: t.auth_time,
            nonce: None,
            family: t.family,
        };
        let response = self
            .issue(&mut change, client, &user, &claims, grant, now)
            .await?;
        change.commit().await?;
        Ok(Ok(response))
    }

    /// Makes and stores the tokens of one grant, signs the ID token and records the
    /// issuance (`oidc.token.issue`) in `change`.
    async fn issue(
        &self,
        change: &mut Change<'_>,
        client: &OidcClient,
        user: &User,
        claims: &OrgClaims,
        grant: Grant<'_>,
        now: Timestamp,
    ) -> Result<TokenResponse> {
        let Grant {
            kind: grant_kind,
            scope,
            auth_time,
            nonce,
            family,
        } = grant;
        let token = |kind: OidcTokenKind, secs: i64| -> Result<(String, OidcToken)> {
            let raw = random_hex(32)?;
            Ok((
                raw.clone(),
                OidcToken {
                    token_hash: token_hash(&raw),
                    kind,
                    family,
                    client: client.id,
                    user_id: user.id,
                    scope: scope.to_string(),
                    auth_time,
                    created_at: now,
                    expires_at: now.plus_seconds(secs),
                    used_at: None,
                    revoked_at: None,
                },
            ))
        };
        let (access, access_row) = token(OidcTokenKind::Access, ACCESS_SECS)?;
        change.insert_oidc_token(&access_row).await?;
        let refresh = if scope.split(' ').any(|s| s == "offline_access") {
            let (raw, row) = token(OidcTokenKind::Refresh, REFRESH_SECS)?;
            change.insert_oidc_token(&row).await?;
            Some(raw)
        } else {
            None
        };
        let mut body = user_claims(user, claims, scope);
        let secs = |t: Timestamp| t.as_millis() / 1000;
        body["iss"] = json!(self.issuer());
        body["aud"] = json!(client.client_id);
        body["iat"] = json!(secs(now));
        body["exp"] = json!(secs(now) + ACCESS_SECS);
        body["auth_time"] = json!(secs(auth_time));
        if let Some(n) = nonce {
            body["nonce"] = json!(n);
        }
        let id_token = self.sign(client.id_token_alg, &body).await?;
        change
            .record(
                Event::new(AuditAction::OidcTokenIssue, "oidc_client", client.id).details(json!({
                    "client_id": client.client_id, "user_id": user.id,
                    "grant": grant_kind, "scope": scope})),
            )
            .await?;
        Ok(TokenResponse {
            access_token: access,
            expires_in: ACCESS_SECS,
            id_token,
            refresh_token: refresh,
            scope: scope.to_string(),
        })
    }

    /// What RP-initiated logout may do for this request (OpenID Connect RP-Initiated
    /// Logout 1.0): the client and user an `id_token_hint` names (its signature checked
    /// with this provider's keys; an expired hint is fine), and where to send the
    /// browser afterwards: `post_logout_redirect_uri` only when it is registered for
    /// that client, exactly, with `state` appended.
    pub async fn logout_request(
        &self,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<LogoutRequest> {
        let mut out = LogoutRequest::default();
        let hint = match id_token_hint.filter(|h| !h.is_empty()) {
            Some(h) => self.verify_id_token(h).await?,
            None => None,
        };
        let client_id = match (&hint, client_id) {
            (Some(h), Some(c)) if h.aud != c => return Ok(out),
            (Some(h), _) => Some(h.aud.clone()),
            (None, c) => c.map(str::to_string),
        };
        let Some(client_id) = client_id else {
            return Ok(out);
        };
        // A hint of a client that is gone counts for nothing (no sign-out without asking).
        let Some(client) = self.0.store.oidc_client_by_client_id(&client_id).await? else {
            return Ok(out);
        };
        // Named on the page only when the hint proves the request came from it.
        if let Some(h) = &hint {
            out.user = Some(h.sub.clone());
            out.client = Some(client.name.clone());
        }
        if let Some(uri) = post_logout_redirect_uri
            && client
                .post_logout_redirect_uris
                .iter()
                .any(|u| u.as_str() == uri)
        {
            out.redirect = Some(match state {
                Some(s) => with_query(uri, &[("state", s)]),
                None => uri.to_string(),
            });
        }
        Ok(out)
    }

    /// The subject and audience of an ID token this provider signed (expired or not);
    /// `None` when the signature or issuer does not check out.
    async fn verify_id_token(&self, token: &str) -> Result<Option<IdTokenHint>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(None);
        };
        let keys = self.keys().await?;
        let Some(key) = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()) else {
            return Ok(None);
        };
        let Ok(jwk) = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(key.public_jwk.clone())
        else {
            return Ok(None);
        };
        let Ok(decoding) = jsonwebtoken::DecodingKey::from_jwk(&jwk) else {
            return Ok(None);
        };
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        v.set_issuer(&[self.issuer()]);
        let allowed = match key.alg {
            orgbase_domain::SigningAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
            orgbase_domain::SigningAlg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        };
        if header.alg != allowed {
            return Ok(None);
        }
        Ok(jsonwebtoken::decode::<IdTokenHint>(token, &decoding, &v)
            .ok()
            .map(|d| d.claims))
    }

    /// Token revocation (RFC 7009): a refresh token takes its whole family with it, an
    /// access token only itself. Unknown tokens, and tokens of other clients, change
    /// nothing and are not told apart (the answer is the same).
    pub async fn revoke(
        &self,
        req: TokenRequest,
        token: Option<&str>,
        basic: Option<(String, String)>,
    ) -> Result<std::result::Result<(), OAuthError>> {
        let client = match self.token_client(&req, basic).await? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let Some(raw) = token.filter(|t| !t.is_empty()) else {
            return Ok(Err(OAuthError::new("invalid_request", "token is missing")));
        };
        let core = self.0;
        let now = core.clock.now();
        let Some(t) = core.store.oidc_token(&token_hash(raw)).await? else {
            return Ok(Ok(()));
        };
        if t.client != client.id || t.revoked_at.is_some() {
            return Ok(Ok(()));
        }
        let mut change = core.change(AuditCtx::system()).await?;
        let n = match t.kind {
            OidcTokenKind::Refresh => change.revoke_oidc_family(t.family, now).await?,
            OidcTokenKind::Access => u64::from(change.revoke_oidc_token(&t.token_hash, now).await?),
        };
        let details = json!({"reason": "revoked by the client", "kind": t.kind.as_str(),
                             "tokens": n, "user_id": t.user_id});
        revoked(change, client.id, details).await?;
        Ok(Ok(()))
    }

    /// The userinfo answer for an access token, or why not (`invalid_token`). Claims are
    /// read afresh: a disabled user or a removed membership shows at once.
    pub async fn userinfo(
        &self,
        access_token: &str,
    ) -> Result<std::result::Result<Value, OAuthError>> {
        let core = self.0;
        let bad = |d: &str| Ok(Err(OAuthError::new("invalid_token", d)));
        let now = core.clock.now();
        let Some(t) = core.store.oidc_token(&token_hash(access_token)).await? else {
            return bad("unknown access token");
        };
        if t.kind != OidcTokenKind::Access || !t.live_at(now) {
            return bad("the access token is expired or revoked");
        }
        let (Some(client), Some(user)) = (
            core.store.oidc_client(t.client).await?,
            core.store.user_by_id(t.user_id).await?,
        ) else {
            return bad("the access token is no longer valid");
        };
        let Some(claims) = self.claims_for(&user, &client).await? else {
            return bad("the user may no longer sign in to this client");
        };
        Ok(Ok(user_claims(&user, &claims, &t.scope)))
    }
}

/// How one grant's tokens came about, and what they carry.
struct Grant<'a> {
    /// `authorization_code` or `refresh_token`, for the audit trail.
    kind: &'static str,
    scope: &'a str,
    auth_time: Timestamp,
    nonce: Option<&'a str>,
    family: uuid::Uuid,
}

/// Records a revocation (`oidc.token.revoke`) and commits it.
async fn revoked(mut change: Change<'_>, client: OidcClientId, details: Value) -> Result<()> {
    change
        .record(Event::new(AuditAction::OidcTokenRevoke, "oidc_client", client).details(details))
        .await?;
    change.commit().await
}

/// The user's claims for a scope: `sub` always; `email` and `email_verified` for
/// `email`; `name` for `profile`; `groups` and `roles` always (platforms read them
/// without asking for a scope); `organization` for `organization`.
fn user_claims(user: &User, claims: &OrgClaims, scope: &str) -> Value {
    let has = |s: &str| scope.split(' ').any(|x| x == s);
    let mut v = json!({"sub": user.id, "groups": claims.groups, "roles": claims.roles});
    if has("email") {
        v["email"] = json!(user.email.as_str());
        v["email_verified"] = json!(user.email_verified());
    }
    if has("profile") {
        v["name"] = json!(user.name);
    }
    if has("organization") {
        v["organization"] = claims.organization.clone();
    }
    v
}
