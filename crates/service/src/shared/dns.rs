//! Looking up the TXT records that prove a domain claim. The lookup is an outside
//! boundary (a DNS server), so the service sees only this trait; the binary supplies a
//! resolver (hickory, with the servers of `ORGBASE_DNS_SERVERS`).

use std::future::Future;
use std::pin::Pin;

/// Why a lookup gave no answer (no records is an empty list, not an error).
#[derive(Debug, thiserror::Error)]
#[error("DNS lookup failed: {0}")]
pub struct DnsError(pub String);

pub type TxtFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<String>, DnsError>> + Send + 'a>>;

/// The TXT records of a name, each record's strings joined.
pub trait TxtLookup: Send + Sync {
    fn txt<'a>(&'a self, name: &'a str) -> TxtFuture<'a>;
}

/// A resolver that knows no records: for tools that never verify domains.
pub struct NoDns;

impl TxtLookup for NoDns {
    fn txt<'a>(&'a self, _name: &'a str) -> TxtFuture<'a> {
        Box::pin(async { Err(DnsError("no DNS resolver configured".into())) })
    }
}
