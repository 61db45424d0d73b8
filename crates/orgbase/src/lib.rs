//! The Orgbase binary's library half: settings, assembly and serving, the benchmark.
//! `main.rs` is only the command line over it; tests use it directly.

pub mod bench;
pub mod server;
pub mod settings;
