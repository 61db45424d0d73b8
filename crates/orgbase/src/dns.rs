//! The DNS resolver that checks domain claims: hickory, asking the servers of
//! `ORGBASE_DNS_SERVERS` (`ip[:port]`, comma-separated) or the system's.

use std::net::SocketAddr;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, TokioResolver};
use orgbase_service::dns::{DnsError, TxtFuture, TxtLookup};

pub struct Hickory(TokioResolver);

/// `ip` or `ip:port` (53 when absent).
fn server(raw: &str) -> anyhow::Result<SocketAddr> {
    let raw = raw.trim();
    if let Ok(a) = raw.parse::<SocketAddr>() {
        return Ok(a);
    }
    let ip = raw
        .parse::<std::net::IpAddr>()
        .map_err(|_| anyhow::anyhow!("ORGBASE_DNS_SERVERS: '{raw}' is not ip or ip:port"))?;
    Ok(SocketAddr::new(ip, 53))
}

impl Hickory {
    pub fn new(servers: Option<&str>) -> anyhow::Result<Self> {
        let provider = TokioConnectionProvider::default();
        let builder = match servers.map(str::trim).filter(|s| !s.is_empty()) {
            Some(list) => {
                let mut config = ResolverConfig::new();
                for raw in list.split(',') {
                    let addr = server(raw)?;
                    config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                    config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
                }
                TokioResolver::builder_with_config(config, provider)
            }
            None => TokioResolver::builder(provider)?,
        };
        let mut opts = ResolverOpts::default();
        // A claim is checked when an admin asks; an old answer would make them wait.
        opts.cache_size = 0;
        opts.attempts = 2;
        opts.timeout = std::time::Duration::from_secs(3);
        Ok(Self(builder.with_options(opts).build()))
    }
}

impl TxtLookup for Hickory {
    fn txt<'a>(&'a self, name: &'a str) -> TxtFuture<'a> {
        Box::pin(async move {
            match self.0.txt_lookup(format!("{name}.")).await {
                Ok(lookup) => Ok(lookup
                    .iter()
                    .map(|txt| {
                        txt.txt_data()
                            .iter()
                            .map(|part| String::from_utf8_lossy(part).into_owned())
                            .collect::<String>()
                    })
                    .collect()),
                Err(e) if no_records(&e) => Ok(Vec::new()),
                Err(e) => Err(DnsError(e.to_string())),
            }
        })
    }
}

fn no_records(e: &ResolveError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}
