//! Orgbase's HTTP surface. Every route is declared once, by its handler's
//! `#[utoipa::path]` attribute, and registered in [`openapi::routes`], which builds both
//! the router and the OpenAPI document, so the two cannot drift apart.

pub mod extract;
mod handlers;
pub mod metrics;
pub mod middleware;
mod oidc_protocol;
pub mod openapi;
pub mod paths;
pub mod problem;
pub mod proxy;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use orgbase_service::Services;

pub use crate::openapi::routes;
use crate::problem::Problem;

/// Largest accepted request body. Org documents are small; imports get their own limit.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler and middleware shares: one `Arc`, so the clones axum makes for
/// each request (state extractors, middleware) cost one atomic increment, not one per
/// field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub svc: Services,
    pub proxies: proxy::ProxyTrust,
    pub metrics: metrics::Metrics,
    pub openapi: Arc<str>,
    pub request_ids: middleware::RequestIds,
    pub request_timeout: Option<std::time::Duration>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The complete application: routes, limits, fallbacks and the observing middleware.
/// Settings of the HTTP layer itself.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    pub trusted_proxies: proxy::ProxyTrust,
    /// Longest a request may take, from its head to its answer (body included); over
    /// it the answer is 503 `request_timeout`. `None`: no limit.
    pub request_timeout: Option<std::time::Duration>,
}

pub fn app(svc: Services, options: HttpOptions) -> Router {
    app_with(svc, options, Router::new())
}

/// The application with more routes beside the API's (the web panels), sharing its
/// state, limits and observing middleware.
pub fn app_with(svc: Services, options: HttpOptions, pages: Router<AppState>) -> Router {
    let (router, mut doc) = routes().split_for_parts();
    let router = router.merge(oidc_protocol::router()).merge(pages);
    openapi::finish(&mut doc);
    let openapi: Arc<str> = doc.to_json().unwrap_or_default().into();
    let state = AppState(Arc::new(Shared {
        svc,
        proxies: options.trusted_proxies,
        metrics: metrics::Metrics::default(),
        openapi,
        request_ids: middleware::RequestIds::new(),
        request_timeout: options.request_timeout,
    }));
    router
        .fallback(|| async { Problem::route_not_found() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}
