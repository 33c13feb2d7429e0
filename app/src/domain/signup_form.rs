//! Embeddable signup forms (issue 34 item 6): a collection point may offer a hosted form
//! (`/forms/<key>`) that listed origins may frame, and a submission endpoint they may post to
//! from their own page (CORS). The settings are versioned: each change is a new version, a
//! version offering no purpose switches the form off, and a double opt-in request names the
//! version it was made under.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{Invalid, PurposeKey};

/// The most origins a form may list (each is one `frame-ancestors` source).
pub const MAX_FORM_ORIGINS: usize = 20;
/// The most purposes a form may offer.
pub const MAX_FORM_PURPOSES: usize = 20;

/// One version of a collection point's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupForm {
    pub point: String,
    pub version: i64,
    /// The purposes offered, in the order shown; none: the form is off.
    pub purposes: Vec<PurposeKey>,
    /// The exact origins (`https://host[:port]`) that may frame the form and post to it.
    pub origins: Vec<String>,
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

impl SignupForm {
    /// Whether the form is offered (a version with no purposes switches it off).
    pub fn is_on(&self) -> bool {
        !self.purposes.is_empty()
    }

    /// Whether `origin` (a browser's `Origin` header) is one of the listed origins, exactly.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// The `frame-ancestors` sources: the listed origins, or `'none'`.
    pub fn frame_ancestors(&self) -> String {
        if self.origins.is_empty() {
            "'none'".to_owned()
        } else {
            self.origins.join(" ")
        }
    }
}

/// Whether a host is a loopback one (`localhost`, `127.0.0.0/8`, `::1`): the only hosts whose
/// origins may be plain `http` (a developer's machine, the tests).
fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Checks an origin a form may list and returns it as browsers send it (`scheme://host[:port]`,
/// lower case, no default port): `https`, or `http` for a loopback host only; no path (a single
/// `/` is tolerated), query, fragment, user name or wildcard.
pub fn check_form_origin(origin: &str) -> Result<String, Invalid> {
    let bad = || Invalid::new("origin", "form_origin_invalid");
    let origin = origin.trim();
    if origin.len() > 300 || origin.contains('*') {
        return Err(bad());
    }
    let parsed = url::Url::parse(origin).map_err(|_| bad())?;
    let host = parsed.host().ok_or_else(bad)?;
    if !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || origin.trim_end_matches('/').len() + 1 < origin.len()
    {
        return Err(bad());
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => return Err(Invalid::new("origin", "form_origin_https_required")),
        _ => return Err(bad()),
    }
    let serialized = parsed.origin().ascii_serialization();
    Ok(serialized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_https_or_loopback_http() {
        for (given, want) in [
            ("https://shop.example", "https://shop.example"),
            ("https://Shop.Example/", "https://shop.example"),
            ("https://shop.example:8443", "https://shop.example:8443"),
            ("https://shop.example:443", "https://shop.example"),
            ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
            ("http://localhost:3001", "http://localhost:3001"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(check_form_origin(given).as_deref(), Ok(want), "{given}");
        }
        for bad in [
            "",
            "shop.example",
            "https://shop.example/signup",
            "https://shop.example?x=1",
            "https://shop.example#x",
            "https://user@shop.example",
            "https://*.shop.example",
            "ftp://shop.example",
            "https://shop.example//",
            "'none'",
        ] {
            assert_eq!(
                check_form_origin(bad).map_err(|e| e.problem),
                Err("form_origin_invalid"),
                "{bad}"
            );
        }
        assert_eq!(
            check_form_origin("http://shop.example").map_err(|e| e.problem),
            Err("form_origin_https_required")
        );
        assert_eq!(
            check_form_origin("http://10.0.0.1").map_err(|e| e.problem),
            Err("form_origin_https_required")
        );
    }

    #[test]
    fn frame_ancestors_are_the_listed_origins_or_none() {
        let mut f = SignupForm {
            point: "web".into(),
            version: 1,
            purposes: vec!["newsletter".parse().unwrap()],
            origins: vec![],
            created_at: OffsetDateTime::UNIX_EPOCH,
            created_by: "cli".into(),
        };
        assert_eq!(f.frame_ancestors(), "'none'");
        assert!(!f.allows_origin("https://a.example"));
        f.origins = vec!["https://a.example".into(), "http://127.0.0.1:4000".into()];
        assert_eq!(
            f.frame_ancestors(),
            "https://a.example http://127.0.0.1:4000"
        );
        assert!(f.allows_origin("https://a.example"));
        assert!(!f.allows_origin("https://a.example.evil"));
        assert!(!f.allows_origin("http://a.example"));
        assert!(f.is_on());
        f.purposes.clear();
        assert!(!f.is_on());
    }
}
