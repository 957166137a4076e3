//! The client's address: the TCP peer, or, when the peer is a trusted proxy (the load balancer),
//! the last address in `X-Forwarded-For` that is not itself a trusted proxy. Anything a client
//! writes into the header in front of that is ignored. An entry that is not an address (`unknown`,
//! garbage) makes the client [`UNKNOWN`]: never the proxy's own address, which may be trusted.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// A client whose address a proxy could not say: the unspecified address, which no allow-list
/// admits (`services::accounts::staff_address` refuses it by name).
pub const UNKNOWN: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

pub fn resolve(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for.unwrap_or("").split(',').rev().map(str::trim).filter(|s| !s.is_empty());
    let mut client = peer;
    for hop in hops {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => return UNKNOWN,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: a bare address, `1.2.3.4:4711`, `[2001:db8::7]:443` or
/// `[2001:db8::7]`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|ip: IpAddr| ip.to_canonical())
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        let xff = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Ok(ClientIp(resolve(peer, Some(&xff), &state.settings.http.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|_| IpNet::default())];
        // Direct from the internet: the header is the client's to forge, so ignored.
        assert_eq!(resolve(ip("203.0.113.5"), Some("1.2.3.4"), &trusted), ip("203.0.113.5"));
        // Through the load balancer: the address it saw.
        assert_eq!(resolve(ip("10.0.0.2"), Some("198.51.100.7"), &trusted), ip("198.51.100.7"));
        // A client prepending its own value does not win.
        assert_eq!(resolve(ip("10.0.0.2"), Some("1.2.3.4, 198.51.100.7"), &trusted), ip("198.51.100.7"));
        // Two proxies deep.
        assert_eq!(resolve(ip("10.0.0.2"), Some("198.51.100.7, 10.0.0.9"), &trusted), ip("198.51.100.7"));
        // Ports and brackets are the proxy's way of writing an address.
        assert_eq!(resolve(ip("10.0.0.2"), Some("198.51.100.7:4711"), &trusted), ip("198.51.100.7"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("[2001:db8::7]:443"), &trusted), ip("2001:db8::7"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("[2001:db8::7]"), &trusted), ip("2001:db8::7"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("1.2.3.4, 10.0.0.9:80"), &trusted), ip("1.2.3.4"));
        // Anything else is an unknown client, never the proxy's own (trusted) address.
        for garbage in ["unknown", "nonsense", "1.2.3.4:port", "[1.2.3.4", "_hidden"] {
            assert_eq!(resolve(ip("10.0.0.2"), Some(garbage), &trusted), UNKNOWN, "{garbage}");
        }
        // No header: the peer itself.
        assert_eq!(resolve(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
    }
}
