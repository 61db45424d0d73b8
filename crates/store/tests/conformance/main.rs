//! The storage conformance suite: what every backend must do, told as short stories
//! against the storage traits alone (no service, no HTTP).
//!
//! A libtest-mimic harness (`harness = false`): every module lists its stories in
//! `STORIES`; each runs once on SQLite (a fresh file) and once on PostgreSQL (a fresh
//! schema in the server named by `ORGBASE_TEST_POSTGRES_URL`, dropped afterwards), as
//! the trials `sqlite::<module>::<story>` and `postgres::<module>::<story>`. Without
//! the variable the PostgreSQL trials are reported as ignored, never as passed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod audit;
mod hierarchy;
mod oidc;
mod orgs;
mod transactions;
mod users;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let modules = [
        access::STORIES,
        audit::STORIES,
        hierarchy::STORIES,
        oidc::STORIES,
        orgs::STORIES,
        transactions::STORIES,
        users::STORIES,
    ];
    let trials = modules
        .iter()
        .flat_map(|m| m.iter())
        .flat_map(|s| s.trials());
    if harness::postgres_url().is_none() && !args.list {
        eprintln!("ORGBASE_TEST_POSTGRES_URL is not set: the postgres:: trials are ignored.");
    }
    libtest_mimic::run(&args, trials.collect()).exit_code()
}
