//! Load from `wrk` (Debian's package), when it is on PATH.
//!
//! The built-in generator (reqwest, one client per connection) needs more CPU per
//! request than the cheapest routes of the server do, so on one core it, not the
//! server, would set the pace of the floor and of `/healthz`. wrk, written in C, is
//! several times cheaper per request. The requests are made here, as raw HTTP/1.1
//! text, and handed to wrk in a Lua script that sends them round-robin; requests that
//! must differ (new org names) carry a fixed-width counter wrk fills in, so every
//! request's length stays what its `Content-Length` says.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, bail};

/// What wrk measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub requests: usize,
    /// Socket errors, timeouts and answers with status ≥ 400.
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Where a unique counter goes in a request (nine digits, zero-padded).
pub const COUNTER: &str = "#########";

/// One raw HTTP/1.1 request.
pub fn raw(
    method: &str,
    host: &str,
    path: &str,
    bearer: Option<&str>,
    json_body: Option<&str>,
) -> String {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(t) = bearer {
        r.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    match json_body {
        Some(b) => r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )),
        None => r.push_str("\r\n"),
    }
    r
}

/// The Lua script: the requests, sent round-robin, and a last line with the figures.
pub fn script(requests: &[String]) -> String {
    let mut s = String::from("local reqs = {\n");
    for r in requests {
        // A long bracket string: no escaping; requests never contain `]==]`.
        s.push_str("[==[");
        s.push_str(r);
        s.push_str("]==],\n");
    }
    s.push_str(&format!(
        r#"}}
local n = 0
request = function()
  n = n + 1
  local r = reqs[(n % #reqs) + 1]
  if string.find(r, "{COUNTER}", 1, true) then
    r = (string.gsub(r, "{COUNTER}", string.format("%09d", n)))
  end
  return r
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("orgbase-wrk %d %d %d %.1f %.1f\n",
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
"#
    ));
    s
}

/// Runs wrk (one thread, on `cpu` when given) against `base` for `seconds`.
pub async fn run(
    wrk: &Path,
    cpu: Option<usize>,
    base: &str,
    requests: Vec<String>,
    connections: usize,
    seconds: f64,
    dir: &Path,
) -> anyhow::Result<Measured> {
    if requests.is_empty() {
        bail!("no requests for wrk");
    }
    let path = dir.join(format!(
        "wrk-{}.lua",
        crate::bench::clock_nanos() % 1_000_000_000
    ));
    std::fs::write(&path, script(&requests))
        .with_context(|| format!("writing {}", path.display()))?;
    let mut cmd = crate::pin::command(cpu, wrk);
    cmd.args(["-t", "1", "-c", &connections.to_string()])
        .arg(format!("-d{}s", seconds.ceil().max(1.0)))
        .args(["--timeout", "30s", "-s"])
        .arg(&path)
        .arg(base)
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .context("waiting for wrk")?
        .context("running wrk")?;
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&stdout).with_context(|| format!("no figures in wrk's output: {stdout}"))
}

fn parse(stdout: &str) -> Option<Measured> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("orgbase-wrk "))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let [requests, micros, errors, p50, p99] = f[..] else {
        return None;
    };
    Some(Measured {
        requests: requests.parse().ok()?,
        seconds: micros.parse::<f64>().ok()? / 1e6,
        errors: errors.parse().ok()?,
        p50_ms: p50.parse::<f64>().ok()? / 1000.0,
        p99_ms: p99.parse::<f64>().ok()? / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_requests_carry_their_length() {
        let r = raw("POST", "h:1", "/x", Some("t"), Some("{\"a\":1}"));
        assert_eq!(
            r,
            "POST /x HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer t\r\n\
             Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        );
        assert_eq!(
            raw("GET", "h:1", "/", None, None),
            "GET / HTTP/1.1\r\nHost: h:1\r\n\r\n"
        );
    }

    #[test]
    fn figures_are_read_from_the_last_line() {
        let m = parse("Running 5s test\norgbase-wrk 1000 5000000 3 1500.0 9000.0\n").unwrap();
        assert_eq!((m.requests, m.errors), (1000, 3));
        assert!((m.seconds - 5.0).abs() < 1e-9);
        assert!((m.p50_ms - 1.5).abs() < 1e-9 && (m.p99_ms - 9.0).abs() < 1e-9);
        assert!(parse("nothing").is_none());
    }

    #[test]
    fn the_counter_keeps_its_width() {
        assert_eq!(format!("{:09}", 42).len(), COUNTER.len());
        assert!(script(&["GET / HTTP/1.1\r\n\r\n".to_string()]).contains("[==[GET /"));
    }
}
