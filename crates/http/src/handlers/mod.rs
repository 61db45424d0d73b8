//! Thin handlers: parse, call one service function, render.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod assistants;
pub mod config;
pub mod hierarchy;
pub mod oidc;
pub mod oidc_clients;
pub mod orgs;
pub mod portability;
pub mod service_keys;
pub mod system;

use serde::{Deserialize, Deserializer};

/// For PATCH fields that may be cleared: absent is `None`, `null` is `Some(None)`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
