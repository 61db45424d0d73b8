//! Which client a request comes from when it arrives through reverse proxies.
//!
//! Only proxies the operator lists (`ORGBASE_TRUSTED_PROXIES`) are believed: for a
//! request from one of them, the client is the right-most `X-Forwarded-For` entry that is
//! not itself a trusted proxy. Anyone else's `X-Forwarded-For` is ignored, so a client
//! cannot pick its own address to dodge rate limits or forge the audit trail.

use std::net::IpAddr;

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => same_prefix(&n.octets(), &i.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(i)) => same_prefix(&n.octets(), &i.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

#[derive(Debug, Clone, Default)]
pub struct ProxyTrust(Vec<Net>);

impl ProxyTrust {
    /// A comma-separated list of addresses and networks; `Err` names the bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Net::parse(s).ok_or_else(|| format!("not an address or network: {s:?}")))
            .collect::<Result<Vec<_>, _>>()
            .map(ProxyTrust)
    }

    /// Whether `ip` is one of the operator's proxies (whose forwarding headers count).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address for a connection from `peer` carrying `forwarded_for`.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(xff) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in xff.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                // A garbled entry: stop at the last address we could believe.
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let t = ProxyTrust::parse(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8").unwrap();
        // Untrusted peer: its header is ignored.
        assert_eq!(
            t.client(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Trusted peer: the right-most untrusted hop.
        assert_eq!(t.client(ip("127.0.0.1"), Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("6.6.6.6, 1.2.3.4, 10.1.2.3")),
            ip("1.2.3.4")
        );
        assert_eq!(t.client(ip("10.9.9.9"), None), ip("10.9.9.9"));
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("garbage, 10.1.1.1")),
            ip("10.1.1.1")
        );
        assert_eq!(
            t.client(ip("fd00::1"), Some("2001:db8::5")),
            ip("2001:db8::5")
        );
        assert!(ProxyTrust::parse("10.0.0.0/33").is_err());
        assert!(ProxyTrust::parse("nonsense").is_err());
        assert_eq!(
            ProxyTrust::parse("")
                .unwrap()
                .client(ip("127.0.0.1"), Some("1.2.3.4")),
            ip("127.0.0.1")
        );
        let odd = ProxyTrust::parse("192.168.0.0/20").unwrap();
        assert!(odd.trusts(ip("192.168.15.255")));
        assert!(!odd.trusts(ip("192.168.16.0")));
    }
}
