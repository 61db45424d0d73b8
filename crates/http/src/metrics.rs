//! Request metrics in the Prometheus text format, without a metrics framework: a few
//! atomics per (method, route, status) series and a latency histogram per route.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    requests: RwLock<HashMap<(String, String, u16), AtomicU64>>,
    latency: RwLock<HashMap<String, Histogram>>,
}

/// The label of a request method. Anyone can send any method name; each distinct label
/// would be a series kept forever (and a log field of any size). Only the methods
/// routes use get their own label.
pub fn method_label(method: &str) -> &str {
    match method {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => method,
        _ => "OTHER",
    }
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let key = (method.to_string(), route.to_string(), status);
        let counted = self
            .requests
            .read()
            .ok()
            .and_then(|m| m.get(&key).map(|c| c.fetch_add(1, Ordering::Relaxed)));
        if counted.is_none()
            && let Ok(mut m) = self.requests.write()
        {
            m.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let observe = |h: &Histogram| {
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.buckets[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            h.count.fetch_add(1, Ordering::Relaxed);
            h.sum_micros.fetch_add(micros, Ordering::Relaxed);
        };
        let seen = self
            .latency
            .read()
            .ok()
            .map(|m| m.get(route).map(observe).is_some())
            .unwrap_or(false);
        if !seen && let Ok(mut m) = self.latency.write() {
            observe(m.entry(route.to_string()).or_default());
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP orgbase_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE orgbase_http_requests_total counter\n");
        if let Ok(m) = self.requests.read() {
            let mut rows: Vec<_> = m
                .iter()
                .map(|((me, r, s), c)| (me.clone(), r.clone(), *s, c.load(Ordering::Relaxed)))
                .collect();
            rows.sort();
            for (method, route, status, n) in rows {
                let _ = writeln!(
                    out,
                    "orgbase_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(&route)
                );
            }
        }
        out.push_str(
            "# HELP orgbase_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE orgbase_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.read() {
            let mut routes: Vec<_> = m.keys().cloned().collect();
            routes.sort();
            for route in routes {
                let Some(h) = m.get(&route) else { continue };
                let r = escape(&route);
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "orgbase_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{bound}\"}} {}",
                        h.buckets[i].load(Ordering::Relaxed)
                    );
                }
                let count = h.count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "orgbase_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {count}"
                );
                #[allow(clippy::cast_precision_loss)]
                let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
                let _ = writeln!(
                    out,
                    "orgbase_http_request_duration_seconds_sum{{route=\"{r}\"}} {sum}"
                );
                let _ = writeln!(
                    out,
                    "orgbase_http_request_duration_seconds_count{{route=\"{r}\"}} {count}"
                );
            }
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, Duration::from_micros(300));
        m.record("GET", "/healthz", 200, Duration::from_millis(3));
        let text = m.render();
        assert!(text.contains(
            "orgbase_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "orgbase_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains("orgbase_http_request_duration_seconds_count{route=\"/healthz\"} 2"));
    }

    #[test]
    fn unknown_methods_share_one_series() {
        let m = Metrics::default();
        for i in 0..100 {
            m.record(
                &format!("XM{i:05}"),
                "unmatched",
                405,
                Duration::from_micros(10),
            );
        }
        let text = m.render();
        assert!(text.contains(
            "orgbase_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 100"
        ));
        assert!(!text.contains("XM0"));
    }
}
