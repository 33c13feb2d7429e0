//! Which addresses a webhook may never call (SSRF): checked when an endpoint is saved and again
//! at every delivery, since DNS can change.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::MAX_URL;
use crate::domain::Invalid;

/// Addresses a webhook may never reach (unless its host is allowed by the operator): loopback,
/// private, link-local, CGNAT, unique-local, multicast, unspecified, and the cloud metadata
/// services (169.254.169.254, fd00:ec2::254).
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique-local fc00::/7 (fd00:ec2::254 too)
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 of any IPv4
                || (s[0] == 0x2002) // 6to4 of any IPv4
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240 // reserved
}

/// The metadata addresses, named for the docs and tests.
pub const METADATA: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// A URL an endpoint may have: `https`, or `http` to a host the operator allowed; no user name
/// or password in it. Returns the host (lower case, IPv6 without brackets) and whether it is
/// allowed (then its addresses are not checked).
pub fn check_url(url: &str, allow_hosts: &[String]) -> Result<(String, bool), Invalid> {
    if url.len() > MAX_URL {
        return Err(Invalid::new("url", "webhook_url_invalid"));
    }
    let parsed = url::Url::parse(url).map_err(|_| Invalid::new("url", "webhook_url_invalid"))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(Invalid::new("url", "webhook_url_invalid")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Invalid::new("url", "webhook_url_invalid"));
    }
    let allowed = allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
    match parsed.scheme() {
        "https" => {}
        "http" if allowed => {}
        "http" => return Err(Invalid::new("url", "webhook_https_required")),
        _ => return Err(Invalid::new("url", "webhook_url_invalid")),
    }
    if !allowed
        && let Ok(ip) = host.parse::<IpAddr>()
        && forbidden_ip(ip)
    {
        return Err(Invalid::new("url", "webhook_address_forbidden"));
    }
    Ok((host, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses_cover_private_loopback_link_local_cgnat_and_metadata() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        assert!(METADATA.iter().all(|ip| forbidden_ip(*ip)));
    }

    #[test]
    fn urls_need_https_unless_the_host_is_allowed() {
        let none: Vec<String> = vec![];
        let local = vec!["127.0.0.1".to_owned()];
        assert_eq!(
            check_url("https://hooks.example.com/x", &none).unwrap(),
            ("hooks.example.com".to_owned(), false)
        );
        assert_eq!(
            check_url("http://hooks.example.com/x", &none)
                .unwrap_err()
                .problem,
            "webhook_https_required"
        );
        assert_eq!(
            check_url("https://127.0.0.1/x", &none).unwrap_err().problem,
            "webhook_address_forbidden"
        );
        assert_eq!(
            check_url("https://[fd00:ec2::254]/", &none)
                .unwrap_err()
                .problem,
            "webhook_address_forbidden"
        );
        assert_eq!(
            check_url("http://127.0.0.1:9/x", &local).unwrap(),
            ("127.0.0.1".to_owned(), true)
        );
        assert!(check_url("ftp://example.com/", &none).is_err());
        assert!(check_url("https://u:p@example.com/", &none).is_err());
        assert!(check_url("not a url", &none).is_err());
    }
}
