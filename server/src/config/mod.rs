//! Configuration: defaults, then an optional `doui.toml`, then environment variables (which win).
//! Every key is documented in docs/operators/configuration.md.
//!
//! `file.rs` holds the file's keys and the reader of both sources; `checks.rs` the checks of
//! settings that are more than a number or a flag.

mod checks;
mod file;
#[cfg(test)]
mod tests;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::Deserialize;

use file::{FileConfig, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Three days: an endpoint failing this long is disabled.
const DISABLE_AFTER_SECS: u64 = 3 * 24 * 3600;

#[derive(Clone)]
pub struct Config {
    /// Where the SQLite file and the token keys live. `DOUI_DATA_DIR`, default `./data`.
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…`. `DATABASE_URL`, default `sqlite:<data_dir>/doui.db`.
    pub database_url: String,
    /// A streaming replica of the PostgreSQL primary for the reads that may lag a little (the
    /// console's event pages, exports, the audience, the event feed, suppression lists), with
    /// the most it may lag before reads go back to the primary. `DOUI_DATABASE_READ_URL` and
    /// `DOUI_REPLICA_MAX_LAG_MS` (default 5000); refused with SQLite.
    pub read_replica: Option<crate::store::ReadReplica>,
    /// Address to listen on. `DOUI_LISTEN`, default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// Base URL of links Doui makes. `DOUI_PUBLIC_URL`, default `http://<listen>`.
    pub public_url: String,
    /// Privacy notice version pinned on every event. `DOUI_NOTICE_VERSION`, default `1.0`.
    pub notice_version: String,
    /// Link-signing secret (32+ characters) instead of the generated key file. `DOUI_TOKEN_SECRET`.
    pub token_secret: Option<String>,
    /// Deprecated in favour of `trusted_proxies`: the TCP peer is one trusted proxy, and the
    /// client is the right-most `X-Forwarded-For` entry. `DOUI_TRUST_FORWARDED_FOR`.
    pub trust_forwarded_for: bool,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed: the client is the
    /// right-most entry that is not one of them. `DOUI_TRUSTED_PROXIES` (comma-separated).
    pub trusted_proxies: Vec<crate::client::Cidr>,
    /// Where the built site (CSS, wasm) is served from. `DOUI_SITE_ROOT`, default `target/site`.
    pub site_root: String,
    /// Seed demo subjects (and an owner) into a database never used before. `DOUI_DEMO`, default
    /// `true` for a loopback http `public_url` and `false` for https, where `true` is refused.
    pub demo: bool,
    /// `text` or `json` logs. `DOUI_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// Days an unsubscribe link stays valid, at least 60. `DOUI_LINK_VALIDITY_DAYS`, default 90.
    pub link_validity_days: u32,
    /// Days a link to the whole preference center stays valid, 1 to 3650.
    /// `DOUI_PREFERENCE_LINK_VALIDITY_DAYS`, default 90.
    pub preference_link_validity_days: u32,
    /// Sender display items for message footers. `DOUI_SENDER_NAME`, `DOUI_SENDER_ADDRESS`,
    /// `DOUI_SENDER_CONTACT`.
    pub sender_name: String,
    pub sender_address: String,
    pub sender_contact: String,
    /// The sender's representative (代表者), published with the APPI 27(2) items; opt-out
    /// provision to third parties in Japan needs it. `DOUI_SENDER_REPRESENTATIVE`.
    pub sender_representative: String,
    /// ISO 3166 code of the sender's jurisdiction (receipts name it). `DOUI_SENDER_JURISDICTION`,
    /// default `JP`.
    pub sender_jurisdiction: String,
    /// Domain of `mailto:` unsubscribe addresses; unset: no mailto. `DOUI_REPLY_DOMAIN`.
    pub reply_domain: Option<String>,
    /// Secret the mail provider presents when posting inbound mail to `/inbound/email`
    /// (`Authorization: Bearer …` or Basic with it as password). `DOUI_INBOUND_SECRET`.
    pub inbound_secret: Option<String>,
    /// The SMS provider's auth token (Twilio's Auth Token): requests to `/inbound/sms` must be
    /// signed with it (`X-Twilio-Signature`). Unset: the endpoint answers 404.
    /// `DOUI_SMS_AUTH_TOKEN`.
    pub sms_auth_token: Option<String>,
    /// What keyword messages are answered, per language: `sms_reply_stop_ja`,
    /// `sms_reply_stop_en`, `sms_reply_start_ja`, `sms_reply_start_en`, `sms_help_ja`,
    /// `sms_help_en` (`DOUI_SMS_REPLY_STOP_JA`…); each defaults to a text naming `sender_name`.
    pub sms_replies: app::domain::sms::SmsReplies,
    /// Where mail goes: `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required`…
    /// Unset: each message is written to `<data_dir>/outbox/*.eml`. `DOUI_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// The From of mail Doui sends. `DOUI_MAIL_FROM`, default `Doui <no-reply@localhost>`.
    pub mail_from: String,
    /// Secret for CSRF tokens (32+ characters) instead of `<data_dir>/session-key`; instances
    /// sharing a database must share it. `DOUI_SESSION_SECRET`.
    pub session_secret: Option<String>,
    /// Secret (32+ characters) for what is kept at rest (keyed digests of erased identifiers,
    /// encrypted TOTP secrets) instead of `<data_dir>/data-key`; it must never change, and
    /// instances sharing a database must share it. `DOUI_DATA_KEY`.
    pub data_key: Option<String>,
    /// `Secure` cookies. `DOUI_COOKIE_SECURE`, default: true when public_url is https.
    pub cookie_secure: bool,
    /// Admins must use a TOTP code. `DOUI_REQUIRE_TOTP`, default false.
    pub require_totp: bool,
    /// Rate limits (set in code; tests shorten them).
    pub limits: app::rate::Limits,
    /// Ed25519 seed (base64url, 32 bytes) that signs checkpoints and receipts, instead of
    /// `<data_dir>/signing-key`; instances sharing a database must share it. `DOUI_SIGNING_KEY`.
    pub signing_key: Option<String>,
    /// How often a signed checkpoint of the chain is written (when it grew).
    /// `DOUI_CHECKPOINT_INTERVAL_SECS`, default 60.
    pub checkpoint_interval_secs: u32,
    /// Your own minimum retention of superseded evidence, in days (`doui purge`); the law's
    /// minimum for each event wins when longer. `DOUI_RETENTION_DAYS`, default 1095 (3 years).
    pub retention_days: u32,
    /// With no SMTP server, how long a message stays in `<data_dir>/outbox/` before it is
    /// deleted (it holds an address). `DOUI_OUTBOX_RETENTION_DAYS`, default 30.
    pub outbox_retention_days: u32,
    /// The sender's accent colour (`DOUI_BRAND_ACCENT`, `#rrggbb`, readable on white at 4.5:1)
    /// and logo (`DOUI_BRAND_LOGO_FILE`: a PNG, JPEG, WebP or SVG file of at most 256 KB, read
    /// at start) on every page; without them Doui's own.
    pub brand: app::domain::brand::Brand,
    /// Hosts webhook endpoints may reach over plain `http` and at loopback or private addresses
    /// (every other endpoint must be `https` and public). `DOUI_WEBHOOK_ALLOW_HOSTS`
    /// (comma-separated), default none.
    pub webhook_allow_hosts: Vec<String>,
    /// The waits after the 1st, 2nd… failed delivery in a row, in ms (the last repeats).
    /// `DOUI_WEBHOOK_RETRY_SCHEDULE_MS` (comma-separated), default 5 s, 5 min, 30 min, 2 h, 5 h,
    /// 10 h, 14 h, 20 h, 24 h.
    pub webhook_retry_schedule_ms: Vec<u64>,
    /// An endpoint failing this long is disabled. `DOUI_WEBHOOK_DISABLE_AFTER_SECS`, default
    /// 259200 (3 days).
    pub webhook_disable_after_secs: u64,
    /// Metrics and shutdown: `metrics_listen`, `metrics_token`, `shutdown_drain_ms`,
    /// `shutdown_timeout_secs` (see [`crate::ops::OpsConfig`]).
    pub ops: crate::ops::OpsConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field(
                "database_read_url",
                &self
                    .read_replica
                    .as_ref()
                    .map(|r| crate::store::redact_url(&r.url)),
            )
            .field(
                "replica_max_lag_ms",
                &self.read_replica.as_ref().map(|r| r.max_lag.as_millis()),
            )
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("notice_version", &self.notice_version)
            .field("token_secret", &self.token_secret.as_ref().map(|_| "***"))
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("site_root", &self.site_root)
            .field("demo", &self.demo)
            .field("reply_domain", &self.reply_domain)
            .field(
                "inbound_secret",
                &self.inbound_secret.as_ref().map(|_| "***"),
            )
            .field(
                "sms_auth_token",
                &self.sms_auth_token.as_ref().map(|_| "***"),
            )
            .field("sms_replies", &self.sms_replies)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(crate::store::redact_url),
            )
            .field("mail_from", &self.mail_from)
            .field(
                "session_secret",
                &self.session_secret.as_ref().map(|_| "***"),
            )
            .field("data_key", &self.data_key.as_ref().map(|_| "***"))
            .field("cookie_secure", &self.cookie_secure)
            .field("require_totp", &self.require_totp)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "***"))
            .field("checkpoint_interval_secs", &self.checkpoint_interval_secs)
            .field("retention_days", &self.retention_days)
            .field("outbox_retention_days", &self.outbox_retention_days)
            .field("brand_accent", &self.brand.accent.map(|a| a.hex()))
            .field(
                "brand_logo",
                &self.brand.logo.as_ref().map(|l| l.path.as_str()),
            )
            .field("webhook_allow_hosts", &self.webhook_allow_hosts)
            .field("webhook_retry_schedule_ms", &self.webhook_retry_schedule_ms)
            .field(
                "webhook_disable_after_secs",
                &self.webhook_disable_after_secs,
            )
            .field("ops", &self.ops)
            .finish()
    }
}

impl Config {
    /// Loads `path` (which must exist) or else `./doui.toml` if present, then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let file = match path {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ),
            None => std::fs::read_to_string("doui.toml").ok(),
        };
        let file: FileConfig = match file {
            Some(text) => toml::from_str(&text).context("doui.toml is not valid")?,
            None => FileConfig::default(),
        };
        Self::from_parts(file, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// A throwaway local server: a free port on 127.0.0.1, no demo data, an example sender.
    /// Tests and benchmarks start the real server with it.
    pub fn ephemeral(database_url: &str, data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database_url: database_url.to_owned(),
            read_replica: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: "https://doui.test".into(),
            notice_version: "2026-11".into(),
            token_secret: None,
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            site_root: "target/site".into(),
            demo: false,
            log_format: LogFormat::Text,
            link_validity_days: 90,
            preference_link_validity_days: 90,
            sender_name: "Example K.K.".into(),
            sender_address: "1-1 Chiyoda, Tokyo".into(),
            sender_contact: "privacy@example.jp".into(),
            sender_representative: "Hanako Yamada".into(),
            sender_jurisdiction: "JP".into(),
            reply_domain: None,
            inbound_secret: None,
            sms_auth_token: None,
            sms_replies: app::domain::sms::SmsReplies::defaults(
                "Example K.K.",
                "privacy@example.jp",
            ),
            smtp_url: None,
            mail_from: "Doui <no-reply@doui.test>".into(),
            session_secret: None,
            data_key: None,
            cookie_secure: false,
            require_totp: false,
            limits: app::rate::Limits::default(),
            signing_key: None,
            checkpoint_interval_secs: 60,
            retention_days: 1095,
            outbox_retention_days: crate::mail::OUTBOX_RETENTION_DAYS,
            brand: app::domain::brand::Brand::default(),
            webhook_allow_hosts: Vec::new(),
            webhook_retry_schedule_ms: app::domain::webhook::DEFAULT_SCHEDULE_MS.to_vec(),
            webhook_disable_after_secs: DISABLE_AFTER_SECS,
            ops: crate::ops::OpsConfig::default(),
        }
    }

    fn from_parts(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let read = Reader::new(env);
        let data_dir = read
            .var("DOUI_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| "data".into());
        let database_url = read
            .var("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("doui.db").display()));
        let read_replica = checks::read_replica(
            read.text("database_read_url", file.database_read_url),
            &database_url,
            read.number(
                "replica_max_lag_ms",
                file.replica_max_lag_ms,
                "milliseconds",
            )?,
        )?;
        let listen = read
            .parsed("listen", file.listen, "an address like 127.0.0.1:3000")?
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let public_url = checks::public_url(read.text("public_url", file.public_url), listen)?;
        let https = public_url.starts_with("https://");
        // Demo data (example people, and an owner whose password is printed) is for a trial on
        // this machine: on by default only there, and refused for a server at an https URL.
        let demo = read.flag("demo", file.demo)?.unwrap_or(!https);
        anyhow::ensure!(
            !(demo && https),
            "demo = true is for a trial on this machine: it adds example people and prints an \
             owner's password to the log. {public_url} is a real server's address; set demo = \
             false (DOUI_DEMO=false)"
        );
        let log_format = match read.text("log_format", None).as_deref() {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => anyhow::bail!("DOUI_LOG_FORMAT must be text or json, not {other:?}"),
            None => file.log_format.unwrap_or_default(),
        };
        let link_validity_days = read
            .number("link_validity_days", file.link_validity_days, "days")?
            .unwrap_or(90);
        anyhow::ensure!(
            (60..=3650).contains(&link_validity_days),
            "link_validity_days must be between 60 and 3650 (unsubscribe links must work for at least 60 days: CAN-SPAM, CASL)"
        );
        let preference_link_validity_days = read
            .number(
                "preference_link_validity_days",
                file.preference_link_validity_days,
                "days",
            )?
            .unwrap_or(90);
        anyhow::ensure!(
            (1..=3650).contains(&preference_link_validity_days),
            "preference_link_validity_days must be between 1 and 3650"
        );
        let reply_domain = read.text("reply_domain", file.reply_domain);
        if let Some(d) = &reply_domain {
            anyhow::ensure!(
                d.contains('.')
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
                "reply_domain must be a domain name like unsubscribe.example.jp"
            );
        }
        let sms_auth_token = read.text("sms_auth_token", file.sms_auth_token);
        if let Some(t) = &sms_auth_token {
            anyhow::ensure!(
                t.len() >= 16 && t.bytes().all(|b| b.is_ascii_graphic()),
                "sms_auth_token must have at least 16 characters, without spaces (Twilio's Auth Token)"
            );
        }
        let sender_name = read
            .text("sender_name", file.sender_name)
            .unwrap_or_default();
        let sender_contact = read
            .text("sender_contact", file.sender_contact)
            .unwrap_or_default();
        let sms_replies = {
            let mut r = app::domain::sms::SmsReplies::defaults(&sender_name, &sender_contact);
            for (key, file_value, slot) in [
                ("sms_reply_stop_ja", file.sms_reply_stop_ja, &mut r.stop_ja),
                ("sms_reply_stop_en", file.sms_reply_stop_en, &mut r.stop_en),
                (
                    "sms_reply_start_ja",
                    file.sms_reply_start_ja,
                    &mut r.start_ja,
                ),
                (
                    "sms_reply_start_en",
                    file.sms_reply_start_en,
                    &mut r.start_en,
                ),
                ("sms_help_ja", file.sms_help_ja, &mut r.help_ja),
                ("sms_help_en", file.sms_help_en, &mut r.help_en),
            ] {
                if let Some(text) = read.text(key, file_value) {
                    anyhow::ensure!(
                        app::domain::sms::check_reply(&text),
                        "{key} must be 1 to {} characters, without control characters but line breaks",
                        app::domain::sms::MAX_REPLY
                    );
                    *slot = text;
                }
            }
            r
        };
        let smtp_url = read.text("smtp_url", file.smtp_url);
        if let Some(u) = &smtp_url {
            anyhow::ensure!(
                u.starts_with("smtp://") || u.starts_with("smtps://"),
                "smtp_url must start with smtp:// or smtps://"
            );
        }
        let sender_jurisdiction = read
            .text("sender_jurisdiction", file.sender_jurisdiction)
            .unwrap_or_else(|| "JP".into());
        anyhow::ensure!(
            (2..=6).contains(&sender_jurisdiction.len())
                && sender_jurisdiction
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-'),
            "sender_jurisdiction must be an ISO 3166 code such as JP, DE or US-CA"
        );
        let signing_key = read.text("signing_key", file.signing_key);
        if let Some(k) = &signing_key {
            app::signing::Signer::from_text(k)
                .map_err(|e| anyhow::anyhow!("signing_key: {e} (32 random bytes in base64url)"))?;
        }
        let checkpoint_interval_secs = read
            .number(
                "checkpoint_interval_secs",
                file.checkpoint_interval_secs,
                "seconds",
            )?
            .unwrap_or(60);
        anyhow::ensure!(
            checkpoint_interval_secs >= 1,
            "checkpoint_interval_secs must be at least 1"
        );
        let outbox_retention_days = read
            .number("outbox_retention_days", file.outbox_retention_days, "days")?
            .unwrap_or(crate::mail::OUTBOX_RETENTION_DAYS);
        anyhow::ensure!(
            outbox_retention_days >= 1,
            "outbox_retention_days must be at least 1"
        );
        let ops = crate::ops::OpsConfig::from_parts(
            crate::ops::OpsKeys {
                metrics_listen: file.metrics_listen,
                metrics_token: file.metrics_token,
                shutdown_drain_ms: file.shutdown_drain_ms,
                shutdown_timeout_secs: file.shutdown_timeout_secs,
            },
            &|k: &str| read.var(k),
        )?;
        Ok(Self {
            webhook_allow_hosts: match read.text("webhook_allow_hosts", None) {
                Some(v) => app::domain::webhook::split_list(&v),
                None => file.webhook_allow_hosts.unwrap_or_default(),
            },
            webhook_retry_schedule_ms: checks::retry_schedule(
                read.text("webhook_retry_schedule_ms", None),
                file.webhook_retry_schedule_ms,
            )?,
            webhook_disable_after_secs: read
                .number(
                    "webhook_disable_after_secs",
                    file.webhook_disable_after_secs,
                    "seconds",
                )?
                .unwrap_or(DISABLE_AFTER_SECS),
            ops,
            signing_key,
            checkpoint_interval_secs,
            retention_days: read
                .number("retention_days", file.retention_days, "days")?
                .unwrap_or(1095),
            outbox_retention_days,
            brand: checks::brand(
                read.text("brand_accent", file.brand_accent),
                read.var("DOUI_BRAND_LOGO_FILE")
                    .map(PathBuf::from)
                    .or(file.brand_logo_file),
            )?,
            smtp_url,
            mail_from: read
                .text("mail_from", file.mail_from)
                .unwrap_or_else(|| "Doui <no-reply@localhost>".into()),
            session_secret: checks::secret(
                "session_secret",
                read.text("session_secret", file.session_secret),
                32,
            )?,
            data_key: checks::secret("data_key", read.text("data_key", file.data_key), 32)?,
            cookie_secure: read
                .flag("cookie_secure", file.cookie_secure)?
                .unwrap_or(https),
            require_totp: read
                .flag("require_totp", file.require_totp)?
                .unwrap_or(false),
            limits: app::rate::Limits::default(),
            reply_domain,
            inbound_secret: checks::secret(
                "inbound_secret",
                read.text("inbound_secret", file.inbound_secret),
                24,
            )?,
            sms_auth_token,
            sms_replies,
            link_validity_days,
            preference_link_validity_days,
            sender_name,
            sender_address: read
                .text("sender_address", file.sender_address)
                .unwrap_or_default(),
            sender_contact,
            sender_representative: read
                .text("sender_representative", file.sender_representative)
                .unwrap_or_default(),
            sender_jurisdiction,
            data_dir,
            database_url,
            read_replica,
            listen,
            public_url,
            notice_version: read
                .text("notice_version", file.notice_version)
                .unwrap_or_else(|| "1.0".into()),
            token_secret: checks::secret(
                "token_secret",
                read.text("token_secret", file.token_secret),
                32,
            )?,
            trust_forwarded_for: read
                .flag("trust_forwarded_for", file.trust_forwarded_for)?
                .unwrap_or(false),
            trusted_proxies: checks::trusted_proxies(
                read.text("trusted_proxies", None),
                file.trusted_proxies,
            )?,
            site_root: read
                .text("site_root", None)
                .or_else(|| read.var("LEPTOS_SITE_ROOT"))
                .or(file.site_root)
                .unwrap_or_else(|| "target/site".into()),
            demo,
            log_format,
        })
    }
}
