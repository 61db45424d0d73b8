//! The parts every capability stands on. Nothing here imports a capability.

pub(crate) mod audit;
pub mod authz;
pub mod crypto;
pub mod dns;
pub(crate) mod email_proof;
pub mod mail;
pub(crate) mod provision;
pub mod ratelimit;
pub mod secrets;
