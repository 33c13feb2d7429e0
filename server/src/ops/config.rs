//! The settings of operating Doui: where `/metrics` is served, and how a shutdown drains.

use std::{net::SocketAddr, time::Duration};

use serde::Deserialize;

/// These keys as `doui.toml` holds them (each also an environment variable).
#[derive(Debug, Default, Deserialize)]
pub struct OpsKeys {
    pub metrics_listen: Option<SocketAddr>,
    pub metrics_token: Option<String>,
    pub shutdown_drain_ms: Option<u64>,
    pub shutdown_timeout_secs: Option<u64>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct OpsConfig {
    /// A second address that serves only `/metrics` (say 127.0.0.1:9187, reached by Prometheus
    /// alone). `DOUI_METRICS_LISTEN`.
    pub metrics_listen: Option<SocketAddr>,
    /// With it `/metrics` is also served on the main address, to `Authorization: Bearer <token>`
    /// only (and on `metrics_listen` too, the token is asked for). 24+ characters.
    /// `DOUI_METRICS_TOKEN`. Neither set: `/metrics` is not served.
    pub metrics_token: Option<String>,
    /// On SIGTERM, how long `/readyz` answers 503 while everything else is still served, so a
    /// load balancer stops sending new requests. `DOUI_SHUTDOWN_DRAIN_MS`, default 5000.
    pub shutdown_drain: Duration,
    /// The most a shutdown takes, drain included: requests still running then are cut off.
    /// `DOUI_SHUTDOWN_TIMEOUT_SECS`, default 30.
    pub shutdown_timeout: Duration,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            metrics_listen: None,
            metrics_token: None,
            shutdown_drain: Duration::from_millis(5000),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for OpsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsConfig")
            .field("metrics_listen", &self.metrics_listen)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("shutdown_drain", &self.shutdown_drain)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

impl OpsConfig {
    /// The file's keys, then the environment (which wins).
    pub fn from_parts(
        file: OpsKeys,
        env: &impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let number = |name: &str, v: String| -> anyhow::Result<u64> {
            v.parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not {v:?}"))
        };
        let metrics_listen = match env("DOUI_METRICS_LISTEN") {
            Some(v) => Some(v.parse().map_err(|_| {
                anyhow::anyhow!(
                    "DOUI_METRICS_LISTEN must be an address like 127.0.0.1:9187, not {v:?}"
                )
            })?),
            None => file.metrics_listen,
        };
        let metrics_token = env("DOUI_METRICS_TOKEN").or(file.metrics_token);
        if let Some(t) = &metrics_token {
            anyhow::ensure!(
                t.len() >= 24 && t.bytes().all(|b| b.is_ascii_graphic()),
                "metrics_token must have at least 24 characters, without spaces"
            );
        }
        let drain_ms = match env("DOUI_SHUTDOWN_DRAIN_MS") {
            Some(v) => number("DOUI_SHUTDOWN_DRAIN_MS", v)?,
            None => file.shutdown_drain_ms.unwrap_or(5000),
        };
        let timeout_secs = match env("DOUI_SHUTDOWN_TIMEOUT_SECS") {
            Some(v) => number("DOUI_SHUTDOWN_TIMEOUT_SECS", v)?,
            None => file.shutdown_timeout_secs.unwrap_or(30),
        };
        anyhow::ensure!(
            (1..=3600).contains(&timeout_secs),
            "shutdown_timeout_secs must be between 1 and 3600"
        );
        anyhow::ensure!(
            drain_ms < timeout_secs * 1000,
            "shutdown_drain_ms must be shorter than shutdown_timeout_secs"
        );
        Ok(Self {
            metrics_listen,
            metrics_token,
            shutdown_drain: Duration::from_millis(drain_ms),
            shutdown_timeout: Duration::from_secs(timeout_secs),
        })
    }

    /// Whether `/metrics` is served anywhere.
    pub fn serves_metrics(&self) -> bool {
        self.metrics_listen.is_some() || self.metrics_token.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: OpsKeys, env: &[(&str, &str)]) -> anyhow::Result<OpsConfig> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OpsConfig::from_parts(file, &|k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_serve_no_metrics_and_drain_for_five_seconds() {
        let c = load(OpsKeys::default(), &[]).unwrap();
        assert!(!c.serves_metrics());
        assert_eq!(c.shutdown_drain, Duration::from_secs(5));
        assert_eq!(c.shutdown_timeout, Duration::from_secs(30));
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let e = load(OpsKeys::default(), &[("DOUI_METRICS_TOKEN", "short")]).unwrap_err();
        assert!(e.to_string().contains("metrics_token"), "{e}");
        let e = load(OpsKeys::default(), &[("DOUI_METRICS_LISTEN", "nowhere")]).unwrap_err();
        assert!(e.to_string().contains("DOUI_METRICS_LISTEN"), "{e}");
        let e = load(
            OpsKeys {
                shutdown_drain_ms: Some(40_000),
                ..OpsKeys::default()
            },
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("shutdown_drain_ms"), "{e}");
        let c = load(
            OpsKeys::default(),
            &[("DOUI_METRICS_LISTEN", "127.0.0.1:9187")],
        )
        .unwrap();
        assert!(c.serves_metrics());
    }
}
