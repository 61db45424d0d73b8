//! `orgbase-bench`, which `orgbase bench` runs: see `bench/README.md`.
//!
//! A crate of its own, so the server binary carries no HTTP client. It starts the
//! server as a child process: the `orgbase` binary beside this one, else on `PATH`.

mod bench;
mod pgdb;
mod pin;
mod wrk;

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
// bench.rs names these `crate::settings` and `crate::server`.
use orgbase::{server, settings};

#[derive(Parser)]
#[command(
    name = "orgbase-bench",
    version,
    about = "Seed a database, drive HTTP load at the server and report throughput, latency \
             and memory (also run as `orgbase bench`)"
)]
struct Cli {
    #[command(flatten)]
    settings: settings::Settings,
    #[command(flatten)]
    args: bench::BenchArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    bench::run(&cli.settings, cli.args).await
}

/// The `orgbase` binary that serves during the benchmark.
fn server_exe() -> anyhow::Result<PathBuf> {
    orgbase::exe::find("orgbase").context(
        "no orgbase binary beside orgbase-bench or on PATH; \
         build it with `cargo build --release -p orgbase`",
    )
}

/// An executable beside this one or on `PATH` (wrk, taskset).
fn exe_on_path(name: &str) -> Option<PathBuf> {
    orgbase::exe::find(name)
}
