//! One middleware for every request: a request id, a structured log line, metrics.

use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The client's address, after believing trusted proxies (see `proxy`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The request's id: the client's `X-Request-Id` when it is sane, else a new one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const HEADER: &str = "x-request-id";

fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Answers with a problem document when the request (reading its body included) takes
/// longer than the configured timeout; the handler's future is dropped.
pub async fn timeout(
    State(limit): State<Option<std::time::Duration>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limit) = limit else {
        return next.run(req).await;
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => crate::problem::Problem::request_timeout().into_response(),
    }
}

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let xff = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let client = state.proxies.client(peer, xff);
        req.extensions_mut().insert(ClientAddr(client));
    }
    let method = req.method().clone();
    // The route template, not the raw path: ids must not explode metric cardinality.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();

    let mut res = next.run(req).await;

    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .record(method.as_str(), &route, status, elapsed);
    tracing::info!(
        request_id = %id,
        method = crate::metrics::method_label(method.as_str()),
        route = %route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}
