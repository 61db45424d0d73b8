//! `--soak`: a fixed mixed rate for a long time, reporting the server's memory and the
//! latency interval by interval, and whether either grew.
//!
//! Open loop: every connection sends on its own schedule (connection `i` at
//! `start + (i + k × connections) / rate`), so a slow server meets the same offered
//! load and its latency shows it, rather than the load slowing down with it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{BenchArgs, Endpoint, Rng, ServerProcess, Shared, percentile_ms, send};

/// The mix, per thousand requests: mostly reads, some org creations, a login a second
/// at the default rate.
const MIX: [(Endpoint, u32); 8] = [
    (Endpoint::GetOrg, 330),
    (Endpoint::MyOrgs, 150),
    (Endpoint::Members, 150),
    (Endpoint::Check, 150),
    (Endpoint::ResolvedConfig, 100),
    (Endpoint::Assistants, 99),
    (Endpoint::CreateOrg, 20),
    (Endpoint::Login, 1),
];

/// Over the last third of the run RSS may rise at most this much (2 % and 1 MB): the
/// bounded caches (the read cache, SQLite's page caches) fill during the first minutes,
/// so growth is judged once they had time to; a leak keeps growing.
const GROWTH_SHARE: f64 = 0.02;
const GROWTH_SLACK_MB: f64 = 1.0;

#[derive(Default, Clone)]
struct Interval {
    latencies_us: Vec<u32>,
    errors: usize,
    rss_mb: Option<f64>,
}

fn pick(rng: &mut Rng) -> Endpoint {
    let mut x = rng.below(1000) as u32;
    for (ep, w) in MIX {
        if x < w {
            return ep;
        }
        x -= w;
    }
    Endpoint::GetOrg
}

pub(super) async fn run(
    shared: &Arc<Shared>,
    server: Option<&ServerProcess>,
    args: &BenchArgs,
    seconds: f64,
) -> anyhow::Result<Value> {
    let interval = (seconds / 20.0).clamp(1.0, 30.0);
    let slots = (seconds / interval).ceil() as usize;
    println!(
        "Soak: {:.0} requests/s for {seconds:.0} s over {} connections, reported every {interval:.0} s",
        args.rate, args.connections
    );
    println!(
        "{:>7} {:>9} {:>8} {:>8} {:>7} {:>9}",
        "t s", "req/s", "p50 ms", "p99 ms", "errors", "RSS MB"
    );
    let stats = Arc::new(Mutex::new(vec![Interval::default(); slots]));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let conns = args.connections;
    let period = Duration::from_secs_f64(conns as f64 / args.rate);
    let clients = super::clients(conns)?;
    let mut workers = Vec::with_capacity(conns);
    for (i, client) in clients.into_iter().enumerate() {
        let shared = shared.clone();
        let stats = stats.clone();
        let first = started + Duration::from_secs_f64(i as f64 / args.rate);
        workers.push(tokio::spawn(async move {
            let mut rng = Rng::from_clock(1000 + i as u64);
            let mut next = first;
            while next < deadline {
                tokio::time::sleep_until(next.into()).await;
                next += period;
                let ep = pick(&mut rng);
                let n = shared
                    .next_org
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let req = shared.spec(ep, &mut rng, &format!("{n:09}"));
                let t0 = Instant::now();
                let failed = send(req.send(&client, &shared.base)).await.is_some();
                let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                let slot = ((t0 - started).as_secs_f64() / interval) as usize;
                if let Ok(mut s) = stats.lock()
                    && let Some(iv) = s.get_mut(slot)
                {
                    iv.latencies_us.push(us);
                    iv.errors += usize::from(failed);
                }
            }
        }));
    }

    // Report each interval once it is over.
    for slot in 0..slots {
        let end = started + Duration::from_secs_f64(interval * (slot + 1) as f64);
        tokio::time::sleep_until(end.into()).await;
        let rss = server.and_then(|s| s.memory().ok()).map(|m| m.rss_mb);
        // Requests still in flight land in this interval's slot after the line is
        // printed; the JSON and the verdict use the final figures.
        let line = stats.lock().ok().and_then(|mut s| {
            let iv = s.get_mut(slot)?;
            iv.rss_mb = rss;
            Some(summary(iv, interval))
        });
        if let Some((rps, p50, p99, errors)) = line {
            println!(
                "{:>7.0} {:>9.0} {:>8.2} {:>8.2} {:>7} {:>9}",
                interval * (slot + 1) as f64,
                rps,
                p50,
                p99,
                errors,
                rss.map_or_else(|| "-".to_string(), |m| format!("{m:.1}"))
            );
        }
    }
    for w in workers {
        w.await?;
    }

    let intervals = stats.lock().map(|s| s.clone()).unwrap_or_default();
    let rows: Vec<Value> = intervals
        .iter()
        .enumerate()
        .map(|(i, iv)| {
            let (rps, p50, p99, errors) = summary(&mut iv.clone(), interval);
            json!({"t_seconds": interval * (i + 1) as f64, "requests_per_second": rps,
                   "p50_ms": p50, "p99_ms": p99, "errors": errors, "rss_mb": iv.rss_mb})
        })
        .collect();
    let rss: Vec<f64> = intervals.iter().filter_map(|iv| iv.rss_mb).collect();
    let errors: usize = intervals.iter().map(|iv| iv.errors).sum();
    // (first interval, start of the last third, end)
    let growth = match (rss.first(), rss.get(rss.len() * 2 / 3), rss.last()) {
        (Some(first), Some(third), Some(last)) => Some((*first, *third, *last)),
        _ => None,
    };
    let grew = growth.map(|(_, third, last)| last > third * (1.0 + GROWTH_SHARE) + GROWTH_SLACK_MB);
    println!();
    if let Some((first, third, last)) = growth {
        let verdict = if grew == Some(true) {
            "STILL GROWING"
        } else {
            "levelled off"
        };
        println!(
            "Soak: RSS {first:.1} MB after the first interval, {third:.1} MB at the start of \
             the last third, {last:.1} MB at the end: {verdict}; {errors} errors"
        );
    } else {
        println!("Soak: no memory figures (external server); {errors} errors");
    }
    Ok(json!({
        "seconds": seconds,
        "rate": args.rate,
        "interval_seconds": interval,
        "intervals": rows,
        "errors": errors,
        "rss_first_mb": growth.map(|g| g.0),
        "rss_last_third_mb": growth.map(|g| g.1),
        "rss_last_mb": growth.map(|g| g.2),
        "still_growing": grew,
    }))
}

/// (req/s, p50 ms, p99 ms, errors) of an interval.
fn summary(iv: &mut Interval, seconds: f64) -> (f64, f64, f64, usize) {
    iv.latencies_us.sort_unstable();
    (
        iv.latencies_us.len() as f64 / seconds,
        percentile_ms(&iv.latencies_us, 0.50),
        percentile_ms(&iv.latencies_us, 0.99),
        iv.errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_adds_up_to_a_thousand() {
        assert_eq!(MIX.iter().map(|(_, w)| w).sum::<u32>(), 1000);
        let mut rng = Rng::from_clock(3);
        for _ in 0..1000 {
            let _ = pick(&mut rng);
        }
    }
}
