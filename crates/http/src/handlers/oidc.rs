//! The OpenID Connect provider's public documents (ADR 0025): discovery and the key set.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;
use crate::problem::Problem;
use crate::views::{DiscoveryView, JwksView};

/// Clients cache both documents; a rotation publishes the new key beside the old one, and
/// clients fetch the set again when a token names a key they do not know.
const CACHE: &str = "public, max-age=300";

/// The provider's discovery document (OpenID Connect Discovery 1.0).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oidc", security(()),
    responses((status = 200, body = DiscoveryView)))]
pub async fn discovery(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, CACHE)],
        Json(DiscoveryView::from(s.svc.oidc().discovery())),
    )
}

/// The provider's public signing keys: the current and the previous key of each
/// algorithm (RS256, EdDSA).
#[utoipa::path(get, path = "/oidc/jwks", tag = "oidc", security(()),
    responses((status = 200, content_type = "application/jwk-set+json", body = JwksView)))]
pub async fn jwks(State(s): State<AppState>) -> Result<impl IntoResponse, Problem> {
    let keys = s.svc.oidc().jwks().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, CACHE),
        ],
        Json(JwksView { keys }),
    ))
}
