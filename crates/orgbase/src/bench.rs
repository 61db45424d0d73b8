//! `orgbase bench`: see `bench/README.md`.

use clap::Args;

use crate::settings::Settings;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Organizations to seed.
    #[arg(long, default_value_t = 10_000)]
    pub orgs: usize,
}

pub async fn run(_settings: &Settings, _args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the benchmark is being written")
}
