//! The integration suite: real HTTP through the real router, real databases.
//!
//! A libtest-mimic harness (`harness = false`): every module lists its tests in
//! `TESTS`, each becomes one trial per backend it runs on, `sqlite::<module>::<test>`
//! or `postgres::<module>::<test>`. Filters, `--exact`, `--list`, `--ignored` work as
//! with the built-in harness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod accounts;
mod assistants;
mod bad_input;
mod cli;
mod concurrency;
mod config;
mod crash;
mod domains;
mod hardening;
mod hierarchy;
mod import;
mod invitations;
mod isolation;
mod mail;
mod matrix;
mod nodes;
mod oidc;
mod orgs;
mod platform;
mod portability;
mod rotate;
mod schema;
mod service_keys;
mod smtp;
mod web;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let modules = [
        access::TESTS,
        accounts::TESTS,
        assistants::TESTS,
        bad_input::TESTS,
        cli::TESTS,
        concurrency::TESTS,
        crash::TESTS,
        config::TESTS,
        domains::TESTS,
        hardening::TESTS,
        hierarchy::TESTS,
        import::TESTS,
        invitations::TESTS,
        isolation::TESTS,
        mail::TESTS,
        matrix::TESTS,
        nodes::TESTS,
        oidc::TESTS,
        orgs::TESTS,
        platform::TESTS,
        portability::TESTS,
        rotate::TESTS,
        schema::TESTS,
        service_keys::TESTS,
        web::TESTS,
    ];
    let trials = modules
        .iter()
        .flat_map(|m| m.iter())
        .flat_map(|t| t.trials());
    if harness::postgres_url().is_none() && !args.list {
        eprintln!("ORGBASE_TEST_POSTGRES_URL is not set: the postgres:: trials are ignored.");
    }
    libtest_mimic::run(&args, trials.collect()).exit_code()
}
