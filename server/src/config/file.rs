//! Where settings come from: the keys of `doui.toml`, and the environment variables that win
//! over them (`DOUI_` and the key in capitals).

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use serde::Deserialize;

use super::LogFormat;

/// The keys of `doui.toml`; each has an environment variable of the same meaning.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) data_dir: Option<PathBuf>,
    pub(super) database_url: Option<String>,
    pub(super) database_read_url: Option<String>,
    pub(super) replica_max_lag_ms: Option<u64>,
    pub(super) listen: Option<SocketAddr>,
    pub(super) public_url: Option<String>,
    pub(super) notice_version: Option<String>,
    pub(super) token_secret: Option<String>,
    pub(super) trust_forwarded_for: Option<bool>,
    pub(super) trusted_proxies: Option<Vec<String>>,
    pub(super) site_root: Option<String>,
    pub(super) demo: Option<bool>,
    pub(super) log_format: Option<LogFormat>,
    pub(super) link_validity_days: Option<u32>,
    pub(super) preference_link_validity_days: Option<u32>,
    pub(super) sender_name: Option<String>,
    pub(super) sender_address: Option<String>,
    pub(super) sender_contact: Option<String>,
    pub(super) sender_representative: Option<String>,
    pub(super) sender_jurisdiction: Option<String>,
    pub(super) reply_domain: Option<String>,
    pub(super) inbound_secret: Option<String>,
    pub(super) sms_auth_token: Option<String>,
    pub(super) sms_reply_stop_ja: Option<String>,
    pub(super) sms_reply_stop_en: Option<String>,
    pub(super) sms_reply_start_ja: Option<String>,
    pub(super) sms_reply_start_en: Option<String>,
    pub(super) sms_help_ja: Option<String>,
    pub(super) sms_help_en: Option<String>,
    pub(super) smtp_url: Option<String>,
    pub(super) mail_from: Option<String>,
    pub(super) session_secret: Option<String>,
    pub(super) data_key: Option<String>,
    pub(super) cookie_secure: Option<bool>,
    pub(super) require_totp: Option<bool>,
    pub(super) signing_key: Option<String>,
    pub(super) checkpoint_interval_secs: Option<u32>,
    pub(super) retention_days: Option<u32>,
    pub(super) outbox_retention_days: Option<u32>,
    pub(super) brand_accent: Option<String>,
    pub(super) brand_logo_file: Option<PathBuf>,
    pub(super) webhook_allow_hosts: Option<Vec<String>>,
    pub(super) webhook_retry_schedule_ms: Option<Vec<u64>>,
    pub(super) webhook_disable_after_secs: Option<u64>,
    pub(super) metrics_listen: Option<SocketAddr>,
    pub(super) metrics_token: Option<String>,
    pub(super) shutdown_drain_ms: Option<u64>,
    pub(super) shutdown_timeout_secs: Option<u64>,
}

/// Reads settings: a key's environment variable wins over the file's value.
pub(super) struct Reader<E> {
    env: E,
}

impl<E: Fn(&str) -> Option<String>> Reader<E> {
    pub(super) fn new(env: E) -> Self {
        Self { env }
    }

    /// An environment variable by its full name.
    pub(super) fn var(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    fn name(key: &str) -> String {
        format!("DOUI_{}", key.to_ascii_uppercase())
    }

    /// A key's text.
    pub(super) fn text(&self, key: &str, file: Option<String>) -> Option<String> {
        self.var(&Self::name(key)).or(file)
    }

    /// A key's value parsed from its environment variable (`what` says what it must be).
    pub(super) fn parsed<T: FromStr>(
        &self,
        key: &str,
        file: Option<T>,
        what: &str,
    ) -> anyhow::Result<Option<T>> {
        let name = Self::name(key);
        match self.var(&name) {
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| anyhow::anyhow!("{name} must be {what}, not {v:?}")),
            None => Ok(file),
        }
    }

    /// A key that is a number of `unit`.
    pub(super) fn number<T: FromStr>(
        &self,
        key: &str,
        file: Option<T>,
        unit: &str,
    ) -> anyhow::Result<Option<T>> {
        self.parsed(key, file, &format!("a number of {unit}"))
    }

    /// A key that is true or false (also 1/0, yes/no, on/off).
    pub(super) fn flag(&self, key: &str, file: Option<bool>) -> anyhow::Result<Option<bool>> {
        let name = Self::name(key);
        match self.var(&name) {
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Some(true)),
                "0" | "false" | "no" | "off" => Ok(Some(false)),
                _ => anyhow::bail!("{name} must be true or false, not {v:?}"),
            },
            None => Ok(file),
        }
    }
}
