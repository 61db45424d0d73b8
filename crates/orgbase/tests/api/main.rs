//! The integration suite: real HTTP through the real router, real databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod accounts;
mod bad_input;
mod cli;
mod concurrency;
mod hierarchy;
mod invitations;
mod isolation;
mod orgs;
mod platform;
mod schema;
