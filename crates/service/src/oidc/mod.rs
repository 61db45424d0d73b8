//! Orgbase as an OpenID Connect provider for the platforms (issue 11, ADR 0025).
//!
//! This first part holds the provider's identity: its discovery document and its
//! signing keys (RS256 and EdDSA, the private halves sealed with the master key,
//! published as a JSON Web Key Set with the previous key of each algorithm beside the
//! current one, so tokens signed before a rotation still verify).

mod claims;
mod clients;
mod flow;
mod keys;

use serde::Serialize;

use crate::Core;

pub use clients::{ClientAuthority, ClientInput, ClientWithSecret};
pub use flow::{
    Authorization, AuthorizeRequest, LogoutRequest, OAuthError, TokenRequest, TokenResponse,
    urlencode,
};
pub use keys::{KeyRotation, SIGNING_KEY_CONTEXT_PREFIX, key_context};

/// The provider's capability.
pub struct Oidc<'a>(pub(crate) &'a Core);

/// Where each part of the provider lives, relative to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/oidc/jwks";
    pub const AUTHORIZE: &str = "/oidc/authorize";
    pub const TOKEN: &str = "/oidc/token";
    pub const USERINFO: &str = "/oidc/userinfo";
    pub const END_SESSION: &str = "/oidc/logout";
    pub const REVOCATION: &str = "/oidc/revoke";
}

/// The discovery document (OpenID Connect Discovery 1.0, section 3).
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
    pub revocation_endpoint: String,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
}

impl Oidc<'_> {
    /// The issuer: the public URL, exactly as clients compare it (no trailing slash).
    pub fn issuer(&self) -> String {
        self.0.cfg.public_url.trim_end_matches('/').to_string()
    }

    pub fn discovery(&self) -> Discovery {
        let issuer = self.issuer();
        let at = |path: &str| format!("{issuer}{path}");
        let auth_methods = vec!["client_secret_basic", "client_secret_post", "none"];
        Discovery {
            authorization_endpoint: at(paths::AUTHORIZE),
            token_endpoint: at(paths::TOKEN),
            userinfo_endpoint: at(paths::USERINFO),
            jwks_uri: at(paths::JWKS),
            end_session_endpoint: at(paths::END_SESSION),
            revocation_endpoint: at(paths::REVOCATION),
            issuer,
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: vec!["authorization_code", "refresh_token"],
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: orgbase_domain::SigningAlg::ALL
                .iter()
                .map(|a| a.as_str())
                .collect(),
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            code_challenge_methods_supported: vec!["S256"],
            scopes_supported: vec![
                "openid",
                "email",
                "profile",
                "groups",
                "roles",
                "organization",
                "offline_access",
            ],
            claims_supported: vec![
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "email",
                "email_verified",
                "name",
                "groups",
                "roles",
                "organization",
            ],
            prompt_values_supported: vec!["none", "login", "consent"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
        }
    }
}
