//! `orgbase bench`: see `bench/README.md`.
//!
//! Seeds a database directly through the store, starts the server as a child process
//! (or targets a running one), drives HTTP load at one endpoint after another and
//! reports throughput, latency, errors and the server's memory against the goals.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use orgbase_domain::{
    AuditEvent, AuditId, Clock, Email, Membership, Org, OrgId, OrgStatus, Role, Scope, Session,
    SessionId, Slug, SystemClock, Timestamp, User, UserId,
};
use orgbase_service::crypto::{Hasher, TokenKind, new_token};
use orgbase_store::{ConnectOptions, Store, Tx};
use serde_json::{Value, json};

use crate::settings::Settings;
use crate::{pgdb, pin, wrk};

mod soak;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Data sizes: `small` (100 orgs, 1,000 users, 10,000 memberships: the large profile scaled down a thousand times), `default`
    /// (10,000 / 100,000 / 300,000) or `large` (100,000 / 1,000,000 / 10,000,000).
    /// --orgs, --users and --memberships override single figures.
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,

    /// Organizations to seed.
    #[arg(long)]
    pub orgs: Option<usize>,

    /// Users to seed.
    #[arg(long)]
    pub users: Option<usize>,

    /// Org memberships to seed in total: one owner per org, the rest random members.
    #[arg(long)]
    pub memberships: Option<usize>,

    /// Members who get a session token for the load (sampled at random).
    #[arg(long, default_value_t = 256)]
    pub sessions: usize,

    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,

    /// Concurrent connections of the login profile (each login hashes a password).
    #[arg(long, default_value_t = 8)]
    pub login_connections: usize,

    /// Seconds of load per endpoint.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,

    /// Seconds of unmeasured load before each read is measured (fills the server's read
    /// cache and the database's page cache, as in steady operation). 0: none.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,

    /// Load generator: `wrk` (needs wrk on PATH), `builtin` (reqwest), or `auto` (wrk
    /// when on PATH).
    #[arg(long, value_enum, default_value_t = DriverChoice::Auto)]
    pub driver: DriverChoice,

    /// Do not pin the server to one CPU and the load to another.
    #[arg(long)]
    pub no_pin: bool,

    /// After the run on SQLite (or --database-url), run the same profile again on a
    /// fresh database made on this PostgreSQL server (and dropped at the end), and
    /// print the two side by side. E.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,

    /// Endurance instead of the endpoint runs: a fixed mixed rate for this many
    /// seconds (600 when given without a value), reporting memory and latency over time.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "600")]
    pub soak: Option<f64>,

    /// Requests per second of the soak.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,

    /// Target an already running server (http://host:port) instead of starting one; it
    /// must use the database given with --database-url. No memory figures then.
    #[arg(long)]
    pub url: Option<String>,

    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Keep the temporary database instead of deleting it at the end.
    #[arg(long)]
    pub keep_db: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    Small,
    Default,
    Large,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriverChoice {
    Auto,
    Wrk,
    Builtin,
}

/// The data sizes of a run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub orgs: usize,
    pub users: usize,
    pub memberships: usize,
}

impl BenchArgs {
    fn sizes(&self) -> Sizes {
        let (orgs, users, memberships) = match self.profile {
            Profile::Small => (100, 1_000, 10_000),
            Profile::Default => (10_000, 100_000, 300_000),
            Profile::Large => (100_000, 1_000_000, 10_000_000),
        };
        Sizes {
            orgs: self.orgs.unwrap_or(orgs),
            users: self.users.unwrap_or(users),
            memberships: self.memberships.unwrap_or(memberships),
        }
    }
}

/// How load is made.
enum Driver {
    Wrk(PathBuf),
    Builtin,
}

impl Driver {
    fn choose(c: DriverChoice) -> anyhow::Result<Self> {
        let wrk = crate::exe_on_path("wrk");
        match (c, wrk) {
            (DriverChoice::Builtin, _) | (DriverChoice::Auto, None) => Ok(Driver::Builtin),
            (_, Some(p)) => Ok(Driver::Wrk(p)),
            (DriverChoice::Wrk, None) => {
                bail!("--driver wrk: no wrk on PATH (Debian: apt-get install wrk)")
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Driver::Wrk(_) => "wrk (one thread)",
            Driver::Builtin => "built-in (reqwest, one client per connection)",
        }
    }
}

/// Rows per seeding transaction.
const ROWS_PER_TX: usize = 1000;
/// Goals (issue 10), as shares of the floor measured in the same run...
const GOAL_HEALTHZ_RATIO: f64 = 0.8;
const GOAL_POINT_READ_RATIO: f64 = 0.5;
const GOAL_LIST_READ_RATIO: f64 = 0.3;
/// ...a member page of 50 in requests per second...
const GOAL_MEMBERS_RPS: f64 = 20_000.0;
/// ...with a p99 latency below this (ms) for every read.
const GOAL_READ_P99_MS: f64 = 10.0;
/// Goal: org creations per second (on SQLite).
const GOAL_CREATE_RPS: f64 = 2000.0;
/// Goal: password logins per second on the server's core.
const GOAL_LOGIN_RPS: f64 = 40.0;
/// Goal: resident memory idle and at peak (MB).
const GOAL_RSS_IDLE_MB: f64 = 30.0;
const GOAL_RSS_PEAK_MB: f64 = 150.0;
/// The password every seeded user has.
const BENCH_PASSWORD: &str = "bench-password-not-secret";

pub async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<()> {
    // Dropping the bench future on Ctrl-C drops the child-process guard, which kills
    // the server, and the temp-dir guard, which removes the database.
    tokio::select! {
        r = bench(settings, args) => r,
        Ok(()) = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

/// What one run (one database) measured.
struct Run {
    backend: &'static str,
    counts: SeedCounts,
    base: String,
    results: Vec<EndpointResult>,
    rss_idle: Option<f64>,
    rss_peak: Option<f64>,
    goals: Vec<Goal>,
    soak: Option<Value>,
}

/// What every run of one invocation shares.
struct Env<'a> {
    settings: &'a Settings,
    args: &'a BenchArgs,
    sizes: Sizes,
    cores: Option<pin::Cores>,
    driver: Driver,
    /// Scratch space (wrk scripts, the SQLite database).
    dir: &'a Path,
}

async fn bench(settings: &Settings, args: BenchArgs) -> anyhow::Result<()> {
    let sizes = args.sizes();
    validate(&args, sizes)?;
    let given_url = database_url_flag_given();
    if args.url.is_some() && !given_url {
        bail!("--url needs --database-url naming the database that server uses");
    }
    let cores = match pin::choose(!args.no_pin) {
        Ok(c) => {
            pin::pin_self(c.load)?;
            println!(
                "Pinned: the server (and the floor) on CPU {}, this benchmark and its load on CPU {}",
                c.server, c.load
            );
            Some(c)
        }
        Err(why) => {
            println!("Not pinned ({why}): the server and the load share the CPUs");
            None
        }
    };
    let driver = Driver::choose(args.driver)?;
    println!("Load generator: {}", driver.name());

    // Declared before the server guard, so it is dropped (deleted) after the server
    // is killed.
    let temp = TempDir::create(args.keep_db)?;
    let database_url = if given_url {
        settings.database_url.clone()
    } else {
        format!("sqlite://{}", temp.path.join("bench.db").display())
    };
    let env = Env {
        settings,
        args: &args,
        sizes,
        cores,
        driver,
        dir: &temp.path,
    };
    let first = run_once(&env, &database_url).await?;
    let second = match &args.postgres {
        Some(server) => {
            println!();
            let db = pgdb::Fresh::create(server).await?;
            let r = run_once(&env, &db.url).await;
            db.drop_database().await;
            Some(r?)
        }
        None => None,
    };
    if let Some(pg) = &second {
        side_by_side(&first, pg);
    }

    if let Some(path) = &args.json {
        let mut doc = report_json(&args, &first);
        if let Some(pg) = &second {
            doc["postgres"] = report_json(&args, pg);
        }
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!();
        println!("Figures written to {}", path.display());
    }
    if temp.keep {
        println!("Database kept at {}", temp.path.display());
    }
    drop(temp);
    Ok(())
}

/// Seeds `database_url`, measures the floor, starts the server (unless --url) and
/// drives every endpoint (or the soak).
async fn run_once(env: &Env<'_>, database_url: &str) -> anyhow::Result<Run> {
    let args = env.args;
    let seeded = seed(database_url, env.sizes, args.sessions).await?;
    let server_cpu = env.cores.map(|c| c.server);

    let floor = if args.url.is_none() && args.soak.is_none() {
        Some(measure_floor(env).await?)
    } else {
        None
    };

    let mut server: Option<ServerProcess> = None;
    let base = match &args.url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let s = ServerProcess::start(env.settings, database_url, server_cpu)?;
            let base = s.base.clone();
            server = Some(s);
            base
        }
    };
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let ready_in = wait_healthy(&probe, &base, server.as_mut()).await?;
    let rss_idle = match &server {
        Some(s) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some(s.memory()?.rss_mb)
        }
        None => None,
    };
    match &server {
        Some(s) => println!(
            "Server: pid {} at {base}, ready in {:.2} s",
            s.child.id(),
            ready_in.as_secs_f64()
        ),
        None => println!("Server: {base} (already running; no memory figures)"),
    }

    let mut shared = Shared::new(base.clone(), seeded)?;
    preflight(&probe, &shared).await?;
    shared.assistants = prepare_assistants(&probe, &shared).await?;
    let shared = Arc::new(shared);

    if let Some(secs) = args.soak {
        let soak = soak::run(&shared, server.as_ref(), args, secs).await?;
        let rss_peak = match &server {
            Some(s) => Some(s.memory()?.hwm_mb),
            None => None,
        };
        return Ok(Run {
            backend: shared.backend,
            counts: shared.counts,
            base,
            results: Vec::new(),
            rss_idle,
            rss_peak,
            goals: Vec::new(),
            soak: Some(soak),
        });
    }

    let clients = clients(args.connections.max(args.login_connections))?;
    println!(
        "Load: {} connections ({} for logins), {} s per endpoint",
        args.connections, args.login_connections, args.seconds
    );
    println!();
    println!(
        "{:<44} {:>9} {:>8} {:>8} {:>7} {:>8} {:>7} {:>7}",
        "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "vs floor", "srv cpu", "gen cpu"
    );
    let mut results: Vec<EndpointResult> = Vec::new();
    if let Some(f) = floor {
        print_row(&f);
        results.push(f);
    }
    let floor_rps = results.first().map(|f| f.rps);
    let server_stat = server
        .as_ref()
        .map(|s| format!("/proc/{}/stat", s.child.id()));
    for ep in Endpoint::LOAD {
        // Unmeasured first: the read cache and the page cache filled, as in steady
        // operation. Writes need no warming.
        if (ep.is_read() || ep == Endpoint::Healthz) && args.warmup > 0.0 {
            drive_endpoint(env, &clients, &shared, ep, args.warmup).await?;
        }
        let server_before = server_stat.as_deref().and_then(cpu_seconds);
        let bench_before = own_cpu_seconds();
        let mut r = drive_endpoint(env, &clients, &shared, ep, args.seconds).await?;
        r.server_cores = server_stat
            .as_deref()
            .and_then(cpu_seconds)
            .zip(server_before)
            .map(|(a, b)| (a - b) / r.seconds.max(1e-9));
        r.bench_cores = own_cpu_seconds()
            .zip(bench_before)
            .map(|(a, b)| (a - b) / r.seconds.max(1e-9));
        r.ratio = floor_rps.filter(|f| *f > 0.0).map(|f| r.rps / f);
        print_row(&r);
        results.push(r);
    }
    for r in &results {
        if let Some(sample) = &r.error_sample {
            println!("  {} errors, e.g.: {sample}", r.endpoint.label());
        }
    }

    let rss_peak = match &server {
        Some(s) => Some(s.memory()?.hwm_mb),
        None => None,
    };
    drop(server);
    println!();
    match (rss_idle, rss_peak) {
        (Some(idle), Some(peak)) => {
            println!("Server memory: RSS idle {idle:.1} MB, peak RSS (VmHWM) {peak:.1} MB");
        }
        _ => println!("Server memory: not measured (external server)"),
    }

    let goals = goals(&results, shared.backend, rss_idle, rss_peak);
    println!();
    println!("Goals ({}):", shared.backend);
    for g in &goals {
        let mark = match g.met {
            Some(true) => "met   ",
            Some(false) => "MISSED",
            None => "n/a   ",
        };
        println!("  [{mark}] {}: {}", g.goal, g.actual);
    }
    Ok(Run {
        backend: shared.backend,
        counts: shared.counts,
        base,
        results,
        rss_idle,
        rss_peak,
        goals,
        soak: None,
    })
}

fn clients(n: usize) -> anyhow::Result<Vec<reqwest::Client>> {
    Ok((0..n)
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?)
}

fn print_row(r: &EndpointResult) {
    let fmt2 = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.2}"));
    println!(
        "{:<44} {:>9.0} {:>8.2} {:>8.2} {:>7} {:>8} {:>7} {:>7}",
        r.endpoint.label(),
        r.rps,
        r.p50_ms,
        r.p99_ms,
        r.errors,
        fmt2(r.ratio),
        fmt2(r.server_cores),
        fmt2(r.bench_cores),
    );
}

/// The floor: `orgbase bench-floor` (one bare axum route, no middleware) on the
/// server's CPU, loaded like every endpoint.
async fn measure_floor(env: &Env<'_>) -> anyhow::Result<EndpointResult> {
    let port = free_port()?;
    let exe = crate::server_exe()?;
    let mut cmd = pin::command(env.cores.map(|c| c.server), &exe);
    cmd.arg("bench-floor")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut floor = ServerProcess {
        child: cmd.spawn().context("starting the floor server")?,
        base: format!("http://127.0.0.1:{port}"),
    };
    let probe = reqwest::Client::new();
    let url = format!("{}/", floor.base);
    let started = Instant::now();
    loop {
        if let Some(status) = floor.child.try_wait()? {
            bail!("the floor server exited ({status}); is the orgbase binary this version?");
        }
        if probe
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            bail!("the floor server did not answer {url}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stat = format!("/proc/{}/stat", floor.child.id());
    let server_before = cpu_seconds(&stat);
    let bench_before = own_cpu_seconds();
    let host = floor.base.trim_start_matches("http://").to_string();
    let mut r = match &env.driver {
        Driver::Wrk(wrk) => {
            let m = wrk::run(
                wrk,
                None,
                &floor.base,
                vec![wrk::raw("GET", &host, "/", None, None)],
                env.args.connections,
                env.args.seconds,
                env.dir,
            )
            .await?;
            EndpointResult::from_wrk(Endpoint::Floor, m)
        }
        Driver::Builtin => {
            let clients = clients(env.args.connections)?;
            let target = Arc::new(floor.base.clone());
            drive(&clients, env.args.seconds, move |c, _| {
                c.get(format!("{target}/"))
            })
            .await?
        }
    };
    r.server_cores = cpu_seconds(&stat)
        .zip(server_before)
        .map(|(a, b)| (a - b) / r.seconds.max(1e-9));
    r.bench_cores = own_cpu_seconds()
        .zip(bench_before)
        .map(|(a, b)| (a - b) / r.seconds.max(1e-9));
    r.endpoint = Endpoint::Floor;
    drop(floor.child.kill());
    Ok(r)
}

/// Drives one endpoint with the chosen generator for `seconds`.
async fn drive_endpoint(
    env: &Env<'_>,
    clients: &[reqwest::Client],
    shared: &Arc<Shared>,
    ep: Endpoint,
    seconds: f64,
) -> anyhow::Result<EndpointResult> {
    let connections = if ep == Endpoint::Login {
        env.args.login_connections
    } else {
        env.args.connections
    };
    let mut r = match &env.driver {
        Driver::Wrk(wrk) => {
            let mut rng = Rng::from_clock(ep as u64 + 100);
            let host = shared.base.trim_start_matches("http://").to_string();
            let requests: Vec<String> = (0..4096)
                .map(|_| shared.spec(ep, &mut rng, wrk::COUNTER).raw(&host))
                .collect();
            let m = wrk::run(
                wrk,
                None,
                &shared.base,
                requests,
                connections,
                seconds,
                env.dir,
            )
            .await?;
            let mut r = EndpointResult::from_wrk(ep, m);
            if r.errors > 0 {
                r.error_sample = sample_error(shared, ep).await;
            }
            r
        }
        Driver::Builtin => {
            let shared = shared.clone();
            let make = move |c: &reqwest::Client, rng: &mut Rng| {
                let n = shared.next_org.fetch_add(1, Ordering::Relaxed);
                shared
                    .spec(ep, rng, &format!("{n:09}"))
                    .send(c, &shared.base)
            };
            drive(&clients[..connections], seconds, make).await?
        }
    };
    r.endpoint = ep;
    Ok(r)
}

/// One request with reqwest, for the body of an error wrk only counted.
async fn sample_error(shared: &Shared, ep: Endpoint) -> Option<String> {
    let client = reqwest::Client::new();
    let mut rng = Rng::from_clock(1);
    for _ in 0..20 {
        let unique = format!("{:09}", rng.below(1_000_000_000));
        let res = shared
            .spec(ep, &mut rng, &unique)
            .send(&client, &shared.base)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                return Some(format!("{status}: {}", &body[..body.len().min(300)]));
            }
            Err(e) => return Some(format!("request failed: {e}")),
        }
    }
    None
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port())
}

/// The two runs' figures side by side.
fn side_by_side(a: &Run, b: &Run) {
    println!();
    println!("Side by side ({} | {}):", a.backend, b.backend);
    println!(
        "{:<44} {:>9} {:>8} {:>8} | {:>9} {:>8} {:>8}",
        "endpoint", "req/s", "p99 ms", "vs floor", "req/s", "p99 ms", "vs floor"
    );
    let fmt2 = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.2}"));
    for ra in &a.results {
        let Some(rb) = b.results.iter().find(|r| r.endpoint == ra.endpoint) else {
            continue;
        };
        println!(
            "{:<44} {:>9.0} {:>8.2} {:>8} | {:>9.0} {:>8.2} {:>8}",
            ra.endpoint.label(),
            ra.rps,
            ra.p99_ms,
            fmt2(ra.ratio),
            rb.rps,
            rb.p99_ms,
            fmt2(rb.ratio)
        );
    }
    let mb = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.1} MB"));
    println!(
        "{:<44} {:>27} | {:>27}",
        "RSS idle / peak",
        format!("{} / {}", mb(a.rss_idle), mb(a.rss_peak)),
        format!("{} / {}", mb(b.rss_idle), mb(b.rss_peak))
    );
}

fn validate(a: &BenchArgs, s: Sizes) -> anyhow::Result<()> {
    if s.orgs == 0 || s.users == 0 {
        bail!("--orgs and --users must be at least 1");
    }
    if s.memberships < s.orgs {
        bail!("--memberships must be at least --orgs (every org has an owner)");
    }
    let room = (s.orgs as u128) * (s.users as u128) - (s.orgs as u128);
    if ((s.memberships - s.orgs) as u128) * 2 > room {
        bail!("--memberships is too dense for --orgs × --users; seed more users or orgs");
    }
    if a.connections == 0 || a.sessions == 0 || a.login_connections == 0 {
        bail!("--connections, --login-connections and --sessions must be at least 1");
    }
    if !(a.seconds > 0.0 && a.seconds.is_finite()) {
        bail!("--seconds must be positive");
    }
    if a.soak.is_some_and(|s| !(s > 0.0 && s.is_finite())) || !(a.rate > 0.0 && a.rate.is_finite())
    {
        bail!("--soak and --rate must be positive");
    }
    if !(a.warmup >= 0.0 && a.warmup.is_finite()) {
        bail!("--warmup must be 0 or more");
    }
    if a.postgres.is_some() && a.url.is_some() {
        bail!("--postgres starts its own server; it does not go with --url");
    }
    Ok(())
}

/// Whether `--database-url` was given on the command line. DATABASE_URL from the
/// environment does not count: a shell's everyday database is not for seeding.
fn database_url_flag_given() -> bool {
    std::env::args_os().any(|a| {
        let a = a.to_string_lossy();
        a == "--database-url" || a.starts_with("--database-url=")
    })
}

// ---------------------------------------------------------------------------------
// Seeding

/// What the load generator needs from the seeded data.
struct Seeded {
    backend: &'static str,
    org_ids: Vec<String>,
    user_ids: Vec<String>,
    admin_token: String,
    /// Session tokens of sampled members, with the indexes of their orgs.
    members: Vec<(String, Vec<u32>)>,
    counts: SeedCounts,
}

#[derive(Debug, Clone, Copy, Default)]
struct SeedCounts {
    orgs: usize,
    users: usize,
    memberships: usize,
    sessions: usize,
    rows: usize,
    seconds: f64,
}

/// Writes rows through one transaction at a time, committing every `ROWS_PER_TX`.
struct Batch {
    store: Arc<dyn Store>,
    tx: Option<Box<dyn Tx>>,
    rows: usize,
}

impl Batch {
    fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            tx: None,
            rows: 0,
        }
    }

    async fn tx(&mut self) -> anyhow::Result<&mut Box<dyn Tx>> {
        if self.tx.is_none() {
            self.tx = Some(self.store.begin().await?);
        }
        self.tx.as_mut().context("no open transaction")
    }

    /// Counts `n` written rows and commits when the batch is full.
    async fn wrote(&mut self, n: usize) -> anyhow::Result<()> {
        let before = self.rows / ROWS_PER_TX;
        self.rows += n;
        if self.rows / ROWS_PER_TX != before {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }
}

fn bench_org_slug(n: usize) -> Slug {
    Slug::from_trusted(format!("bench-org-{n}"))
}

async fn seed(url: &str, sizes: Sizes, sessions: usize) -> anyhow::Result<Seeded> {
    let args = sizes;
    let started = Instant::now();
    println!(
        "Seeding {}: {} orgs, {} users, {} org memberships, {} sessions",
        crate::server::redact(url),
        args.orgs,
        args.users,
        args.memberships,
        sessions + 1
    );
    let store = orgbase_store::connect(url, &ConnectOptions::default())
        .await
        .with_context(|| format!("opening {}", crate::server::redact(url)))?;
    store.migrate().await.context("running migrations")?;
    if store.org_by_slug(&bench_org_slug(1)).await?.is_some() {
        bail!("the database already holds bench data; give a fresh database");
    }
    let backend = store.backend();

    // One real argon2id hash (default cost) shared by every user.
    let hasher = Hasher::new(Default::default(), 1)?;
    let password_hash = hasher.hash(BENCH_PASSWORD).await?;

    let clock = SystemClock;
    let now = clock.now();
    let mut rng = Rng::from_clock(0);
    let mut batch = Batch::new(store.clone());
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let mut phase = Instant::now();

    // Users.
    let mut user_ids = Vec::with_capacity(args.users);
    for i in 1..=args.users {
        let u = bench_user(
            format!("bench-user-{i}@example.com"),
            format!("Bench User {i}"),
            false,
            now,
        );
        if !batch
            .tx()
            .await?
            .insert_user(&u, Some(&password_hash))
            .await?
        {
            bail!("the e-mail {} is taken; give a fresh database", u.email);
        }
        user_ids.push(u.id);
        batch.wrote(1).await?;
    }
    let admin = bench_user(
        format!("bench-admin-{}@example.com", rng.next() % 1_000_000),
        "Bench Admin".to_string(),
        true,
        now,
    );
    if !batch
        .tx()
        .await?
        .insert_user(&admin, Some(&password_hash))
        .await?
    {
        bail!("the e-mail {} is taken; give a fresh database", admin.email);
    }
    batch.wrote(1).await?;

    batch.flush().await?;
    phases.push(("users", phase.elapsed().as_secs_f64()));
    phase = Instant::now();

    // Orgs, as `create_org_in` makes them: org, default workspace and project, the
    // owner's membership, the audit event.
    let mut org_ids = Vec::with_capacity(args.orgs);
    let mut memberships: Vec<(u32, u32, Role)> = Vec::with_capacity(args.memberships);
    let mut taken: HashSet<u64> = HashSet::with_capacity(args.memberships);
    let key = |o: usize, u: usize| (o as u64) * (args.users as u64) + u as u64;
    for i in 0..args.orgs {
        let owner = rng.below(args.users);
        let owner_id = user_ids[owner];
        let org = Org {
            id: OrgId::new(now),
            slug: bench_org_slug(i + 1),
            name: format!("Bench Org {}", i + 1),
            description: String::new(),
            is_system: false,
            status: OrgStatus::Active,
            owner_id: Some(owner_id),
            default_framework: None,
            default_language_model: None,
            public: false,
            signup_enabled: false,
            signup_key: None,
            signup_role: Role::Viewer,
            config: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        // Made as the service makes them, so the bench reads a realistic layout.
        let (ws, project) = orgbase_domain::entities::default_tree(org.id, now);
        let event = AuditEvent {
            id: AuditId::new(now),
            at: now,
            actor_user_id: None,
            actor_api_key_id: None,
            org_id: Some(org.id),
            action: orgbase_domain::AuditAction::OrgCreate,
            target_type: "org".to_string(),
            target_id: org.id.to_string(),
            details: json!({"slug": org.slug, "name": org.name, "owner_id": owner_id}),
            client_addr: None,
            request_id: None,
        };
        let tx = batch.tx().await?;
        if !tx.insert_org(&org).await? {
            bail!("the slug {} is taken; give a fresh database", org.slug);
        }
        tx.insert_workspace(&ws).await?;
        tx.insert_project(&project).await?;
        tx.upsert_membership(&membership(org.id, owner_id, Role::Owner, now))
            .await?;
        tx.insert_audit(&event).await?;
        batch.wrote(5).await?;
        taken.insert(key(i, owner));
        memberships.push((i as u32, owner as u32, Role::Owner));
        org_ids.push(org.id);
    }

    batch.flush().await?;
    phases.push(("orgs", phase.elapsed().as_secs_f64()));
    phase = Instant::now();

    // Further members at random, no pair twice; written in key order, so the inserts
    // append to the membership table's primary key instead of scattering over it
    // (several times faster once the table outgrows SQLite's page cache).
    let owners = memberships.len();
    while memberships.len() < args.memberships {
        let o = rng.below(args.orgs);
        let u = rng.below(args.users);
        if !taken.insert(key(o, u)) {
            continue;
        }
        let role = match rng.below(10) {
            0 => Role::Admin,
            1 | 2 => Role::Editor,
            _ => Role::Viewer,
        };
        memberships.push((o as u32, u as u32, role));
    }
    memberships[owners..]
        .sort_unstable_by_key(|(o, u, _)| (org_ids[*o as usize].0, user_ids[*u as usize].0));
    // A few thousand rows per statement (`upsert_memberships`), not one round trip each.
    for chunk in memberships[owners..].chunks(ROWS_PER_TX) {
        let rows: Vec<Membership> = chunk
            .iter()
            .map(|(o, u, role)| membership(org_ids[*o as usize], user_ids[*u as usize], *role, now))
            .collect();
        batch.tx().await?.upsert_memberships(&rows).await?;
        batch.wrote(rows.len()).await?;
    }
    drop(taken);
    batch.flush().await?;
    phases.push(("memberships", phase.elapsed().as_secs_f64()));
    phase = Instant::now();

    // Sessions: the admin's, and a sample of members'.
    let expires = now.plus_seconds(24 * 3600);
    let admin_token = insert_session(&mut batch, admin.id, now, expires).await?;
    let mut sampled: Vec<u32> = Vec::with_capacity(sessions);
    let mut seen: HashSet<u32> = HashSet::new();
    let mut attempts = 0usize;
    while sampled.len() < sessions && attempts < sessions * 100 {
        attempts += 1;
        let (_, u, _) = memberships[rng.below(memberships.len())];
        if seen.insert(u) {
            sampled.push(u);
        }
    }
    let mut members = Vec::with_capacity(sampled.len());
    let mut slot = std::collections::HashMap::with_capacity(sampled.len());
    for (i, u) in sampled.iter().enumerate() {
        let token = insert_session(&mut batch, user_ids[*u as usize], now, expires).await?;
        slot.insert(*u, i);
        members.push((token, Vec::new()));
    }
    for (o, u, _) in &memberships {
        if let Some(i) = slot.get(u)
            && let Some(m) = members.get_mut(*i)
        {
            m.1.push(*o);
        }
    }
    batch.flush().await?;
    phases.push(("sessions", phase.elapsed().as_secs_f64()));
    drop(batch);
    drop(store);
    // PostgreSQL plans by its statistics, which autovacuum gathers some time after a
    // bulk load; a server in service has them. Without, it misjudges the seeded tables
    // (an org scan estimated at 32 rows for 10,000) and picks plans a hundred times
    // slower.
    if backend == "postgres" {
        phase = Instant::now();
        pgdb::analyze(url).await?;
        phases.push(("analyze", phase.elapsed().as_secs_f64()));
    }

    let counts = SeedCounts {
        orgs: org_ids.len(),
        users: user_ids.len() + 1,
        memberships: memberships.len(),
        sessions: members.len() + 1,
        rows: 0,
        seconds: started.elapsed().as_secs_f64(),
    };
    // users + admin + 5 per org + further memberships + sessions
    let rows =
        counts.users + counts.orgs * 5 + (counts.memberships - counts.orgs) + counts.sessions;
    println!(
        "  seeded {rows} rows in {:.1} s ({:.0} rows/s)",
        counts.seconds,
        rows as f64 / counts.seconds.max(1e-9)
    );
    let phases: Vec<String> = phases
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.1} s"))
        .collect();
    println!("  ({})", phases.join(", "));
    Ok(Seeded {
        backend,
        org_ids: org_ids.iter().map(ToString::to_string).collect(),
        user_ids: user_ids.iter().map(ToString::to_string).collect(),
        admin_token,
        members,
        counts: SeedCounts { rows, ..counts },
    })
}

fn bench_user(email: String, name: String, admin: bool, now: Timestamp) -> User {
    User {
        id: UserId::new(now),
        email: Email::from_trusted(email),
        name,
        is_system_admin: admin,
        enabled: true,
        home_org_id: None,
        email_verified_at: Some(now),
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

fn membership(org: OrgId, user: UserId, role: Role, now: Timestamp) -> Membership {
    Membership::active(Scope::Org(org), org, user, role, None, now)
}

/// Inserts a session for `user`; returns the plaintext bearer token.
async fn insert_session(
    batch: &mut Batch,
    user: UserId,
    now: Timestamp,
    expires: Timestamp,
) -> anyhow::Result<String> {
    let t = new_token(TokenKind::Session)?;
    let s = Session {
        id: SessionId::new(now),
        user_id: user,
        token_hash: t.hash,
        created_at: now,
        expires_at: expires,
    };
    batch.tx().await?.insert_session(&s).await?;
    batch.wrote(1).await?;
    Ok(t.plaintext)
}

// ---------------------------------------------------------------------------------
// The server

/// The server as a child process; killed when dropped (also on errors and Ctrl-C).
struct ServerProcess {
    child: Child,
    base: String,
}

struct Memory {
    rss_mb: f64,
    hwm_mb: f64,
}

impl ServerProcess {
    fn start(settings: &Settings, database_url: &str, cpu: Option<usize>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let exe = crate::server_exe()?;
        let mut cmd = pin::command(cpu, &exe);
        cmd.arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("ORGBASE_LOG", "warn")
            // The login profile logs in thousands of times from one address.
            .env("ORGBASE_RATE_LIMITS", "off")
            .env_remove("ORGBASE_ADMIN_EMAIL")
            .env_remove("ORGBASE_ADMIN_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(n) = settings.db_max_connections {
            cmd.env("ORGBASE_DB_MAX_CONNECTIONS", n.to_string());
        }
        let child = cmd.spawn().context("starting the server")?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    fn memory(&self) -> anyhow::Result<Memory> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| -> anyhow::Result<f64> {
            let kb: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("no {name} in {path}"))?;
            Ok(kb / 1024.0)
        };
        Ok(Memory {
            rss_mb: field("VmRSS:")?,
            hwm_mb: field("VmHWM:")?,
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `/healthz` until it answers 200; returns how long that took.
async fn wait_healthy(
    client: &reqwest::Client,
    base: &str,
    mut server: Option<&mut ServerProcess>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let url = format!("{base}/healthz");
    loop {
        if let Some(s) = server.as_deref_mut()
            && let Some(status) = s.child.try_wait()?
        {
            bail!("the server exited during start-up ({status})");
        }
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(started.elapsed()),
            Ok(r) if server.is_none() => bail!("{url} answered {}", r.status()),
            Err(e) if server.is_none() => bail!("{url} does not answer: {e}"),
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server did not answer {url} within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One request as a member before the load: catches a server that does not use the
/// seeded database (`--url` with the wrong `--database-url`).
async fn preflight(client: &reqwest::Client, shared: &Shared) -> anyhow::Result<()> {
    let (m, o) = shared
        .pairs
        .first()
        .copied()
        .context("no member sessions")?;
    let url = format!("{}/api/v1/orgs/{}", shared.base, shared.org_ids[o as usize]);
    let r = client
        .get(&url)
        .bearer_auth(&shared.member_tokens[m as usize])
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = r.status();
    if !status.is_success() {
        let body = r.text().await.unwrap_or_default();
        bail!(
            "GET {url} as a seeded member answered {status}: {body}\n\
             (does the server use the seeded database?)"
        );
    }
    Ok(())
}

/// What the assistant endpoints need: made through the API (the provider key must be
/// sealed by the server), as the seeded system admin, in the first bench org.
struct AssistantFixture {
    org: String,
    /// An admin service key of that org with `secrets:read`.
    service_token: String,
    ids: Vec<String>,
}

/// Assistants in the first org, enough for a full page of 50.
const BENCH_ASSISTANTS: usize = 60;

async fn prepare_assistants(
    client: &reqwest::Client,
    shared: &Shared,
) -> anyhow::Result<AssistantFixture> {
    let base = &shared.base;
    let org = shared.org_ids.first().context("no org")?.clone();
    let admin = &shared.admin_token;
    let send = |req: reqwest::RequestBuilder, what: &'static str| async move {
        let r = req.bearer_auth(admin).send().await.context(what)?;
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{what}: {status} {body}");
        }
        Ok::<_, anyhow::Error>(body)
    };
    send(
        client
            .patch(format!("{base}/api/v1/orgs/{org}/config"))
            .json(&json!({"providers": {"openai": {
                "api_key": "sk-bench-not-a-real-key-0123456789",
                "base_url": "https://api.openai.com/v1",
                "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini"}}})),
        "configuring a provider",
    )
    .await?;
    let key = send(
        client
            .post(format!("{base}/api/v1/orgs/{org}/api-keys"))
            .json(&json!({"name": "bench", "role": "admin", "scopes": ["secrets:read"]})),
        "making a service key",
    )
    .await?;
    let service_token = key["token"].as_str().context("no token")?.to_string();
    let mut ids = Vec::with_capacity(BENCH_ASSISTANTS);
    for i in 0..BENCH_ASSISTANTS {
        let a = send(
            client
                .post(format!("{base}/api/v1/orgs/{org}/assistants"))
                .json(&json!({"name": format!("Bench assistant {i}"),
                              "metadata": {"system_prompt": "You are a patient tutor.", "rag": {"top_k": 4}}})),
            "making an assistant",
        )
        .await?;
        ids.push(a["id"].as_str().context("no id")?.to_string());
    }
    Ok(AssistantFixture {
        org,
        service_token,
        ids,
    })
}

// ---------------------------------------------------------------------------------
// Load

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `orgbase bench-floor`: not Orgbase, the yardstick.
    Floor,
    Healthz,
    GetOrg,
    MyOrgs,
    Members,
    Check,
    ResolvedConfig,
    Assistants,
    CreateOrg,
    Login,
}

impl Endpoint {
    /// The endpoints loaded one after another, once the server runs.
    const LOAD: [Endpoint; 9] = [
        Endpoint::Healthz,
        Endpoint::GetOrg,
        Endpoint::MyOrgs,
        Endpoint::Members,
        Endpoint::Check,
        Endpoint::ResolvedConfig,
        Endpoint::Assistants,
        Endpoint::CreateOrg,
        Endpoint::Login,
    ];

    fn label(self) -> &'static str {
        match self {
            Endpoint::Floor => "floor: bare axum route, no middleware",
            Endpoint::Healthz => "GET /healthz",
            Endpoint::GetOrg => "GET /api/v1/orgs/{org}",
            Endpoint::MyOrgs => "GET /api/v1/orgs",
            Endpoint::Members => "GET /api/v1/orgs/{org}/members?limit=50",
            Endpoint::Check => "POST /api/v1/check",
            Endpoint::ResolvedConfig => "GET /api/v1/assistants/{id}/resolved-config",
            Endpoint::Assistants => "GET /api/v1/orgs/{org}/assistants?limit=50",
            Endpoint::CreateOrg => "POST /api/v1/orgs",
            Endpoint::Login => "POST /api/v1/auth/login (argon2id)",
        }
    }

    /// Authorized reads: held to the latency goal.
    fn is_read(self) -> bool {
        matches!(
            self,
            Endpoint::GetOrg
                | Endpoint::MyOrgs
                | Endpoint::Members
                | Endpoint::Check
                | Endpoint::ResolvedConfig
                | Endpoint::Assistants
        )
    }
}

/// Everything the workers read, prepared once.
struct Shared {
    base: String,
    backend: &'static str,
    counts: SeedCounts,
    org_ids: Vec<String>,
    user_ids: Vec<String>,
    admin_token: String,
    member_tokens: Vec<String>,
    /// (member, org) index pairs where the member belongs to the org.
    pairs: Vec<(u32, u32)>,
    /// Filled in once the server runs (see `prepare_assistants`).
    assistants: AssistantFixture,
    /// Makes created org names unique within the run...
    next_org: AtomicU64,
    /// ...and across runs against the same server.
    run_tag: u64,
}

/// One request, before it is given to a generator.
struct Req {
    method: &'static str,
    path: String,
    bearer: Option<String>,
    body: Option<Value>,
}

impl Req {
    fn get(path: String, bearer: &str) -> Self {
        Self {
            method: "GET",
            path,
            bearer: Some(bearer.to_string()),
            body: None,
        }
    }

    fn post(path: &str, bearer: Option<&str>, body: Value) -> Self {
        Self {
            method: "POST",
            path: path.to_string(),
            bearer: bearer.map(str::to_string),
            body: Some(body),
        }
    }

    /// As raw HTTP/1.1 for wrk.
    fn raw(&self, host: &str) -> String {
        let body = self.body.as_ref().map(Value::to_string);
        wrk::raw(
            self.method,
            host,
            &self.path,
            self.bearer.as_deref(),
            body.as_deref(),
        )
    }

    /// As a reqwest request.
    fn send(&self, client: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
        let url = format!("{base}{}", self.path);
        let mut r = match self.method {
            "POST" => client.post(url),
            _ => client.get(url),
        };
        if let Some(t) = &self.bearer {
            r = r.bearer_auth(t);
        }
        if let Some(b) = &self.body {
            r = r.json(b);
        }
        r
    }
}

impl Shared {
    fn new(base: String, s: Seeded) -> anyhow::Result<Self> {
        let mut pairs = Vec::new();
        let mut member_tokens = Vec::with_capacity(s.members.len());
        for (i, (token, orgs)) in s.members.into_iter().enumerate() {
            for o in orgs {
                pairs.push((i as u32, o));
            }
            member_tokens.push(token);
        }
        if pairs.is_empty() {
            bail!("no member has a session");
        }
        Ok(Self {
            base,
            backend: s.backend,
            counts: s.counts,
            org_ids: s.org_ids,
            user_ids: s.user_ids,
            admin_token: s.admin_token,
            member_tokens,
            pairs,
            assistants: AssistantFixture {
                org: String::new(),
                service_token: String::new(),
                ids: Vec::new(),
            },
            next_org: AtomicU64::new(1),
            run_tag: clock_nanos() % 1_000_000,
        })
    }

    /// A request to `ep` with randomly picked parameters; `unique` makes a new org's
    /// name unique (nine characters: wrk replaces its placeholder with a counter).
    fn spec(&self, ep: Endpoint, rng: &mut Rng, unique: &str) -> Req {
        let (m, o) = self.pairs[rng.below(self.pairs.len())];
        let token = &self.member_tokens[m as usize];
        let org = &self.org_ids[o as usize];
        match ep {
            Endpoint::Floor => Req {
                method: "GET",
                path: "/".to_string(),
                bearer: None,
                body: None,
            },
            Endpoint::Healthz => Req {
                method: "GET",
                path: "/healthz".to_string(),
                bearer: None,
                body: None,
            },
            Endpoint::GetOrg => Req::get(format!("/api/v1/orgs/{org}"), token),
            Endpoint::MyOrgs => Req::get("/api/v1/orgs".to_string(), token),
            Endpoint::Members => Req::get(format!("/api/v1/orgs/{org}/members?limit=50"), token),
            Endpoint::Check => {
                let user = &self.user_ids[rng.below(self.user_ids.len())];
                let org = &self.org_ids[rng.below(self.org_ids.len())];
                Req::post(
                    "/api/v1/check",
                    Some(&self.admin_token),
                    json!({"user_id": user, "permission": "org.read", "org": org}),
                )
            }
            // As a service key with `secrets:read`: the key is unsealed on every call.
            Endpoint::ResolvedConfig => {
                let a = &self.assistants;
                let id = &a.ids[rng.below(a.ids.len())];
                Req::get(
                    format!("/api/v1/assistants/{id}/resolved-config"),
                    &a.service_token,
                )
            }
            Endpoint::Assistants => {
                let a = &self.assistants;
                Req::get(
                    format!("/api/v1/orgs/{}/assistants?limit=50", a.org),
                    &a.service_token,
                )
            }
            Endpoint::CreateOrg => Req::post(
                "/api/v1/orgs",
                Some(token),
                json!({ "name": format!("bench new {} {unique}", self.run_tag) }),
            ),
            Endpoint::Login => {
                // Seeded users are bench-user-1 … bench-user-N (N = users - 1 + admin).
                let n = 1 + rng.below(self.counts.users.saturating_sub(1).max(1));
                Req::post(
                    "/api/v1/auth/login",
                    None,
                    json!({"email": format!("bench-user-{n}@example.com"), "password": BENCH_PASSWORD}),
                )
            }
        }
    }
}

struct EndpointResult {
    endpoint: Endpoint,
    requests: usize,
    errors: usize,
    seconds: f64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Throughput as a share of the floor's.
    ratio: Option<f64>,
    /// CPU cores the server and this load generator used on average.
    server_cores: Option<f64>,
    bench_cores: Option<f64>,
    error_sample: Option<String>,
}

impl EndpointResult {
    fn from_wrk(endpoint: Endpoint, m: wrk::Measured) -> Self {
        Self {
            endpoint,
            requests: m.requests,
            errors: m.errors,
            seconds: m.seconds,
            rps: m.requests as f64 / m.seconds.max(1e-9),
            p50_ms: m.p50_ms,
            p99_ms: m.p99_ms,
            ratio: None,
            server_cores: None,
            bench_cores: None,
            error_sample: None,
        }
    }
}

#[derive(Default)]
struct WorkerStats {
    latencies_us: Vec<u32>,
    errors: usize,
    error_sample: Option<String>,
}

/// The built-in generator: one worker per client, each sending `make`'s requests back
/// to back until `seconds` are over.
async fn drive<F>(
    clients: &[reqwest::Client],
    seconds: f64,
    make: F,
) -> anyhow::Result<EndpointResult>
where
    F: Fn(&reqwest::Client, &mut Rng) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(worker(
                c.clone(),
                make.clone(),
                deadline,
                Rng::from_clock(i as u64 + 1),
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut error_sample = None;
    for h in handles {
        let w = h.await.context("a load worker failed")?;
        latencies.extend_from_slice(&w.latencies_us);
        errors += w.errors;
        if error_sample.is_none() {
            error_sample = w.error_sample;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let requests = latencies.len();
    Ok(EndpointResult {
        endpoint: Endpoint::Floor,
        requests,
        errors,
        seconds: elapsed,
        rps: requests as f64 / elapsed.max(1e-9),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        ratio: None,
        server_cores: None,
        bench_cores: None,
        error_sample,
    })
}

async fn worker<F>(
    client: reqwest::Client,
    make: Arc<F>,
    deadline: Instant,
    mut rng: Rng,
) -> WorkerStats
where
    F: Fn(&reqwest::Client, &mut Rng) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let mut st = WorkerStats {
        latencies_us: Vec::with_capacity(8192),
        ..Default::default()
    };
    while Instant::now() < deadline {
        let req = make(&client, &mut rng);
        let t0 = Instant::now();
        let failure = send(req).await;
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        st.latencies_us.push(us);
        if let Some(f) = failure {
            st.errors += 1;
            if st.error_sample.is_none() {
                st.error_sample = Some(f);
            }
        }
    }
    st
}

/// Sends a request and reads its whole body; what went wrong, if anything.
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Option<String> {
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            match res.bytes().await {
                Ok(_) if status.is_success() => None,
                Ok(body) => Some(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
                Err(e) => Some(format!("{status}, reading the body: {e}")),
            }
        }
        Err(e) => Some(format!("request failed: {e}")),
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[i]) / 1000.0
}

// ---------------------------------------------------------------------------------
// Goals and the report

struct Goal {
    goal: String,
    actual: String,
    met: Option<bool>,
}

fn goals(
    results: &[EndpointResult],
    backend: &str,
    rss_idle: Option<f64>,
    rss_peak: Option<f64>,
) -> Vec<Goal> {
    let mut out = Vec::new();
    let has_floor = results.iter().any(|r| r.endpoint == Endpoint::Floor);
    let ratio_goal = |ep: Endpoint| match ep {
        Endpoint::Healthz => Some(GOAL_HEALTHZ_RATIO),
        Endpoint::GetOrg | Endpoint::Check => Some(GOAL_POINT_READ_RATIO),
        Endpoint::MyOrgs => Some(GOAL_LIST_READ_RATIO),
        _ => None,
    };
    let fmt_ratio = |r: Option<f64>| r.map_or_else(|| "?".to_string(), |x| format!("{x:.2}"));
    for r in results {
        if let Some(goal) = ratio_goal(r.endpoint) {
            out.push(Goal {
                goal: format!("{} ≥ {goal} × floor", r.endpoint.label()),
                actual: format!("{} × floor", fmt_ratio(r.ratio)),
                met: if has_floor {
                    r.ratio.map(|x| x >= goal)
                } else {
                    None
                },
            });
        }
        if r.endpoint == Endpoint::Members {
            out.push(Goal {
                goal: format!("{} ≥ {GOAL_MEMBERS_RPS} req/s", r.endpoint.label()),
                actual: format!("{:.0} req/s", r.rps),
                met: Some(r.rps >= GOAL_MEMBERS_RPS),
            });
        }
        if r.endpoint.is_read() || r.endpoint == Endpoint::Healthz {
            out.push(Goal {
                goal: format!("{} p99 < {GOAL_READ_P99_MS} ms", r.endpoint.label()),
                actual: format!("{:.2} ms", r.p99_ms),
                met: Some(r.p99_ms < GOAL_READ_P99_MS),
            });
        }
        if r.endpoint == Endpoint::CreateOrg {
            out.push(Goal {
                goal: format!("org creation ≥ {GOAL_CREATE_RPS}/s on SQLite"),
                actual: format!("{:.0}/s", r.rps),
                met: (backend == "sqlite").then_some(r.rps >= GOAL_CREATE_RPS),
            });
        }
        if r.endpoint == Endpoint::Login {
            out.push(Goal {
                goal: format!("password logins ≥ {GOAL_LOGIN_RPS}/s on the server's core"),
                actual: format!(
                    "{:.1}/s (server used {} cores)",
                    r.rps,
                    fmt_ratio(r.server_cores)
                ),
                met: Some(r.rps >= GOAL_LOGIN_RPS),
            });
        }
    }
    out.push(Goal {
        goal: format!("RSS idle ≤ {GOAL_RSS_IDLE_MB} MB"),
        actual: rss_idle.map_or_else(|| "not measured".to_string(), |m| format!("{m:.1} MB")),
        met: rss_idle.map(|m| m <= GOAL_RSS_IDLE_MB),
    });
    out.push(Goal {
        goal: format!("peak RSS (logins included) ≤ {GOAL_RSS_PEAK_MB} MB"),
        actual: rss_peak.map_or_else(|| "not measured".to_string(), |m| format!("{m:.1} MB")),
        met: rss_peak.map(|m| m <= GOAL_RSS_PEAK_MB),
    });
    if results.iter().any(|r| r.errors > 0) {
        out.push(Goal {
            goal: "no errors".to_string(),
            actual: format!(
                "{} non-2xx or failed requests",
                results.iter().map(|r| r.errors).sum::<usize>()
            ),
            met: Some(false),
        });
    }
    out
}

fn report_json(args: &BenchArgs, run: &Run) -> Value {
    let c = run.counts;
    json!({
        "backend": run.backend,
        "server": run.base,
        "external_server": args.url.is_some(),
        "seed": {
            "orgs": c.orgs,
            "users": c.users,
            "memberships": c.memberships,
            "sessions": c.sessions,
            "rows": c.rows,
            "seconds": c.seconds,
        },
        "connections": args.connections,
        "login_connections": args.login_connections,
        "seconds_per_endpoint": args.seconds,
        "endpoints": run.results.iter().map(|r| json!({
            "endpoint": r.endpoint.label(),
            "requests": r.requests,
            "errors": r.errors,
            "seconds": r.seconds,
            "requests_per_second": r.rps,
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "ratio_to_floor": r.ratio,
            "server_cpu_cores": r.server_cores,
            "generator_cpu_cores": r.bench_cores,
            "error_sample": r.error_sample,
        })).collect::<Vec<_>>(),
        "rss_idle_mb": run.rss_idle,
        "rss_peak_mb": run.rss_peak,
        "goals": run.goals.iter().map(|g| json!({
            "goal": g.goal,
            "actual": g.actual,
            "met": g.met,
        })).collect::<Vec<_>>(),
        "soak": run.soak,
    })
}

// ---------------------------------------------------------------------------------
// Small helpers

/// xorshift64*: fast, small, good enough to pick rows at random.
struct Rng(u64);

impl Rng {
    fn from_clock(stream: u64) -> Self {
        // splitmix64 of the clock and the stream number, never zero.
        let mut z = clock_nanos() ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`; `n` must not be zero.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// CPU time (user + system) of a process so far, from its `/proc/<pid>/stat`, in
/// seconds. Assumes the usual 100 clock ticks per second.
fn cpu_seconds(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the parenthesized command name start at field 3 (state); utime and
    // stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU time of this process and of the children it has waited for (wrk), in seconds.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // utime, stime, cutime, cstime: fields 14 to 17.
    let sum: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    Some(sum / 100.0)
}

pub(crate) fn clock_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5EED)
}

/// A fresh directory under the system temp dir, removed when dropped unless kept.
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    fn create(keep: bool) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "orgbase-bench-{}-{}",
            std::process::id(),
            clock_nanos() % 1_000_000_000
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path, keep })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            remove_dir(&self.path);
        }
    }
}

fn remove_dir(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_stays_in_range() {
        let mut r = Rng::from_clock(7);
        for n in [1usize, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }

    #[test]
    fn reads_own_cpu_time() {
        if Path::new("/proc/self/stat").exists() {
            assert!(cpu_seconds("/proc/self/stat").is_some_and(|s| s >= 0.0));
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u32> = (1..=100).map(|x| x * 1000).collect();
        assert!((percentile_ms(&v, 0.50) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&v, 0.99) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&[], 0.99)).abs() < 1e-9);
    }
}
