//! Request metrics in the Prometheus text format, without a metrics framework: a few
//! atomics per (method, route, status) series and a latency histogram per route
//! (ADR 0024 says why not the `metrics` crates: recording must stay allocation-free and
//! cheap next to a 10 µs request).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
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

/// Per route: its latency histogram and its request counts by (method, status).
#[derive(Default)]
struct RouteSeries {
    latency: Histogram,
    counts: RwLock<Vec<(&'static str, u16, AtomicU64)>>,
}

/// Looked up by the route's `&str` and a short scan, so recording a request allocates
/// nothing once its series exists.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
}

/// The label of a request method. Anyone can send any method name; each distinct label
/// would be a series kept forever (and a log field of any size). Only the methods
/// routes use get their own label.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let found = self.routes.read().ok().and_then(|m| m.get(route).cloned());
        let series = match found {
            Some(s) => s,
            None => match self.routes.write() {
                Ok(mut m) => m.entry(route.to_string()).or_default().clone(),
                Err(_) => return,
            },
        };
        let counted = series.counts.read().ok().is_some_and(|c| {
            c.iter()
                .find(|(m, s, _)| *m == method && *s == status)
                .map(|(_, _, n)| n.fetch_add(1, Ordering::Relaxed))
                .is_some()
        });
        if !counted && let Ok(mut c) = series.counts.write() {
            match c.iter().find(|(m, s, _)| *m == method && *s == status) {
                Some((_, _, n)) => {
                    n.fetch_add(1, Ordering::Relaxed);
                }
                None => c.push((method, status, AtomicU64::new(1))),
            }
        }
        let secs = elapsed.as_secs_f64();
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let h = &series.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let routes: Vec<(String, Arc<RouteSeries>)> = self
            .routes
            .read()
            .map(|m| m.iter().map(|(r, s)| (r.clone(), s.clone())).collect())
            .unwrap_or_default();
        let mut out = String::new();
        out.push_str(
            "# HELP orgbase_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE orgbase_http_requests_total counter\n");
        let mut rows: Vec<(&str, String, u16, u64)> = Vec::new();
        for (route, s) in &routes {
            if let Ok(c) = s.counts.read() {
                for (m, st, n) in c.iter() {
                    rows.push((m, route.clone(), *st, n.load(Ordering::Relaxed)));
                }
            }
        }
        rows.sort();
        for (method, route, status, n) in rows {
            let _ = writeln!(
                out,
                "orgbase_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(&route)
            );
        }
        out.push_str(
            "# HELP orgbase_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE orgbase_http_request_duration_seconds histogram\n");
        let mut routes = routes;
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        for (route, s) in &routes {
            let h = &s.latency;
            let r = escape(route);
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
