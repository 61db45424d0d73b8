//! The Orgbase binary's library half: settings, assembly and serving.
//! `main.rs` is only the command line over it; tests and the benchmark use it directly.

pub mod conn;
pub mod dns;
pub mod exe;
pub mod server;
pub mod settings;
pub mod smtp;
