//! Who the client is: the TCP peer, or behind trusted proxies the right-most `X-Forwarded-For`
//! entry that is not one of them (what the rate limits count and evidence keeps truncated).

use std::net::IpAddr;

/// An address block (`192.0.2.0/24`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
        let net: IpAddr = addr
            .parse()
            .map(|ip: IpAddr| ip.to_canonical())
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { net, bits })
    }
}

/// Who the client is. The TCP peer, unless it is a trusted proxy: then `X-Forwarded-For` is read
/// from its right-most entry (the one the proxy itself added) leftwards, past every address that
/// is a trusted proxy too; the first one that is not is the client (the entries further left
/// are whatever the client chose to send). With `trust_forwarded_for` and no list, the peer is
/// the one trusted proxy: the right-most entry. An entry that is not an address ends the walk
/// at the last proxy.
pub fn client_address(
    peer: IpAddr,
    forwarded: &[&str],
    trusted: &[Cidr],
    trust_forwarded_for: bool,
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer_trusted = if trusted.is_empty() {
        trust_forwarded_for
    } else {
        is_trusted(peer)
    };
    if !peer_trusted {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.iter().rev().flat_map(|h| h.rsplit(',')) {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            return client;
        };
        client = ip.to_canonical();
        if trusted.is_empty() || !is_trusted(client) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item02_client_address_is_the_right_most_not_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cidrs = |l: &[&str]| {
            l.iter()
                .map(|c| c.parse::<Cidr>().unwrap())
                .collect::<Vec<_>>()
        };
        let proxies = cidrs(&["10.0.0.0/8", "2001:db8:ff::/48"]);
        let lb = ip("10.0.0.2");
        // The client wrote "1.1.1.1" itself; the proxies appended what they saw.
        let chain = ["1.1.1.1, 198.51.100.7", "10.1.2.3"];
        assert_eq!(
            client_address(lb, &chain, &proxies, false),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(lb, &chain, &proxies, true),
            ip("198.51.100.7"),
            "the list wins over the old switch"
        );
        // A peer that is no proxy of ours is the client, whatever it says.
        assert_eq!(
            client_address(ip("203.0.113.9"), &chain, &proxies, false),
            ip("203.0.113.9")
        );
        // Every entry a proxy: the left-most; garbage ends the walk at the last proxy.
        assert_eq!(
            client_address(lb, &["10.9.9.9"], &proxies, false),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_address(lb, &["nonsense, 10.9.9.9"], &proxies, false),
            ip("10.9.9.9")
        );
        // IPv6 proxies and IPv4-mapped peers.
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &["2001:db8:1::5, 2001:db8:ff::1"],
                &proxies,
                false
            ),
            ip("2001:db8:1::5")
        );
        // The old switch alone: the peer is the one proxy, the right-most entry is the client.
        assert_eq!(client_address(lb, &chain, &[], true), ip("10.1.2.3"));
        assert_eq!(client_address(lb, &chain, &[], false), lb);
        assert_eq!(client_address(lb, &[], &[], true), lb);
        // Parsing.
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("bogus".parse::<Cidr>().is_err());
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!(!"::/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!(
            "192.0.2.7"
                .parse::<Cidr>()
                .unwrap()
                .contains(ip("192.0.2.7"))
        );
        assert!(
            !"192.0.2.7"
                .parse::<Cidr>()
                .unwrap()
                .contains(ip("192.0.2.8"))
        );
    }
}
