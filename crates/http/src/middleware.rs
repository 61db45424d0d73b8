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
pub struct RequestId(pub HeaderValue);

impl RequestId {
    pub fn as_str(&self) -> &str {
        // Only sane ids (ASCII letters, digits, `-_.`) are ever made into one.
        self.0.to_str().unwrap_or("")
    }
}

/// Makes request ids: a random prefix per process and a counter, 32 hex digits like a
/// UUID's simple form. Unique without asking the OS for randomness on every request.
pub struct RequestIds {
    prefix: u64,
    next: std::sync::atomic::AtomicU64,
}

impl RequestIds {
    pub fn new() -> Self {
        let random = uuid::Uuid::now_v7().as_u128();
        Self {
            prefix: (random as u64) ^ ((random >> 64) as u64),
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn make(&self) -> HeaderValue {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = (u128::from(self.prefix) << 64) | u128::from(n);
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = HEX[((id >> (124 - 4 * i)) & 0xf) as usize];
        }
        HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("0"))
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

const HEADER: &str = "x-request-id";

fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Every request: its id, the client's address, the request timeout (a problem
/// document when the request, reading its body included, takes longer; the handler's
/// future is dropped), metrics and a log line. One middleware, not several: each
/// layer costs a boxed future and a state clone per request.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(HEADER)
        .filter(|v| v.to_str().is_ok_and(sane))
        .cloned()
        .unwrap_or_else(|| state.request_ids.make());
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
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);

    let mut res = match state.request_timeout {
        Some(limit) => match tokio::time::timeout(limit, next.run(req)).await {
            Ok(res) => res,
            Err(_) => crate::problem::Problem::request_timeout().into_response(),
        },
        None => next.run(req).await,
    };

    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .record(method.as_str(), route, status, elapsed);
    tracing::info!(
        request_id = id.to_str().unwrap_or(""),
        method = crate::metrics::method_label(method.as_str()),
        route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    res.headers_mut().insert(HEADER, id);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_sane_distinct_and_uuid_sized() {
        let ids = RequestIds::new();
        let a = ids.make();
        let b = ids.make();
        assert_ne!(a, b);
        for v in [&a, &b] {
            let s = v.to_str().unwrap();
            assert_eq!(s.len(), 32);
            assert!(sane(s) && s.bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(RequestId(a.clone()).as_str(), a.to_str().unwrap());
    }
}
