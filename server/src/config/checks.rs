//! The checks of settings that are more than a number or a flag: URLs, secrets, the read
//! replica, the brand.

use std::{net::SocketAddr, path::PathBuf};

/// The brand from its settings: the accent checked for contrast, the logo file read and checked.
pub(super) fn brand(
    accent: Option<String>,
    logo_file: Option<PathBuf>,
) -> anyhow::Result<app::domain::brand::Brand> {
    use app::domain::brand::{Accent, Logo, MAX_LOGO_BYTES};
    let accent = match accent.filter(|a| !a.trim().is_empty()) {
        None => None,
        Some(a) => Some(Accent::parse(&a).map_err(|e| match e.problem {
            "brand_accent_too_light" => anyhow::anyhow!(
                "brand_accent {a} is too light: links in it on a white page would read below \
                 the 4.5:1 contrast WCAG asks; pick a darker shade"
            ),
            _ => anyhow::anyhow!("brand_accent must be a colour #rrggbb, not {a:?}"),
        })?),
    };
    let logo = match logo_file {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(&path).map_err(|e| {
                anyhow::anyhow!("brand_logo_file {} could not be read: {e}", path.display())
            })?;
            Some(Logo::new(bytes).map_err(|e| match e.problem {
                "brand_logo_size" => anyhow::anyhow!(
                    "brand_logo_file {} must hold 1 byte to {} KB",
                    path.display(),
                    MAX_LOGO_BYTES / 1024
                ),
                _ => anyhow::anyhow!(
                    "brand_logo_file {} must be a PNG, JPEG, WebP or SVG image",
                    path.display()
                ),
            })?)
        }
    };
    Ok(app::domain::brand::Brand { accent, logo })
}

/// A secret, when set, has at least `min` characters.
pub(super) fn secret(
    key: &str,
    value: Option<String>,
    min: usize,
) -> anyhow::Result<Option<String>> {
    if let Some(s) = &value {
        anyhow::ensure!(s.len() >= min, "{key} must have at least {min} characters");
    }
    Ok(value)
}

/// The streaming replica some reads may use: PostgreSQL only, with its largest lag.
pub(super) fn read_replica(
    url: Option<String>,
    database_url: &str,
    max_lag: Option<u64>,
) -> anyhow::Result<Option<crate::store::ReadReplica>> {
    anyhow::ensure!(
        max_lag.is_none_or(|ms| ms > 0),
        "replica_max_lag_ms must be at least 1"
    );
    let Some(url) = url else {
        return Ok(None);
    };
    anyhow::ensure!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "database_read_url must be a postgres:// URL of a streaming replica"
    );
    anyhow::ensure!(
        database_url.starts_with("postgres://") || database_url.starts_with("postgresql://"),
        "database_read_url needs PostgreSQL: with SQLite (database_url {}) there is \
         no replica to read from; remove database_read_url",
        crate::store::redact_url(database_url)
    );
    Ok(Some(crate::store::ReadReplica {
        url,
        max_lag: max_lag
            .map(std::time::Duration::from_millis)
            .unwrap_or(crate::store::DEFAULT_MAX_LAG),
    }))
}

/// The address every link and mail header names (default: where the server listens).
pub(super) fn public_url(value: Option<String>, listen: SocketAddr) -> anyhow::Result<String> {
    let public_url = value
        .unwrap_or_else(|| format!("http://{listen}"))
        .trim_end_matches('/')
        .to_owned();
    anyhow::ensure!(
        public_url.starts_with("http://") || public_url.starts_with("https://"),
        "public_url must start with http:// or https://"
    );
    // Its host goes into mail headers (List-Id) and every link.
    anyhow::ensure!(
        !public_url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace()),
        "public_url must not contain spaces or control characters"
    );
    // RFC 8058: one-click unsubscribe works only with an https link, and mail providers
    // reach nothing else; plain http is for a demo on this machine alone.
    anyhow::ensure!(
        public_url.starts_with("https://") || is_loopback_url(&public_url),
        "public_url must be https:// ({public_url} is http on an address other machines reach: \
         mail providers only honour one-click unsubscribe links over https, RFC 8058); \
         plain http is allowed only for loopback (127.0.0.1, localhost, [::1]) demos"
    );
    Ok(public_url)
}

/// The proxies whose `X-Forwarded-For` is believed, as CIDR blocks.
pub(super) fn trusted_proxies(
    env: Option<String>,
    file: Option<Vec<String>>,
) -> anyhow::Result<Vec<crate::client::Cidr>> {
    match env {
        Some(v) => v
            .split(',')
            .filter(|c| !c.trim().is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>(),
        None => file.unwrap_or_default(),
    }
    .iter()
    .map(|c| c.parse::<crate::client::Cidr>())
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))
}

/// The webhooks' waits between attempts, in milliseconds (`DOUI_WEBHOOK_RETRY_SCHEDULE_MS`:
/// numbers separated by commas).
pub(super) fn retry_schedule(
    env: Option<String>,
    file: Option<Vec<u64>>,
) -> anyhow::Result<Vec<u64>> {
    let schedule = match env {
        Some(v) => v
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| x.parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| anyhow::anyhow!("DOUI_WEBHOOK_RETRY_SCHEDULE_MS must be numbers of ms"))?,
        None => file.unwrap_or_else(|| app::domain::webhook::DEFAULT_SCHEDULE_MS.to_vec()),
    };
    anyhow::ensure!(
        !schedule.is_empty() && schedule.iter().all(|x| *x > 0),
        "webhook_retry_schedule_ms must list waits of at least 1 ms"
    );
    Ok(schedule)
}

/// Whether an `http://` URL names this machine only (127.0.0.0/8, `localhost`, `[::1]`).
pub(super) fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
