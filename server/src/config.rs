//! Configuration: defaults, then an optional `doui.toml`, then environment variables (which win).
//! Every key is documented in the README.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The keys of `doui.toml`; each has an environment variable of the same meaning.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_read_url: Option<String>,
    replica_max_lag_ms: Option<u64>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    notice_version: Option<String>,
    token_secret: Option<String>,
    trust_forwarded_for: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    site_root: Option<String>,
    demo: Option<bool>,
    log_format: Option<LogFormat>,
    link_validity_days: Option<u32>,
    preference_link_validity_days: Option<u32>,
    sender_name: Option<String>,
    sender_address: Option<String>,
    sender_contact: Option<String>,
    sender_representative: Option<String>,
    sender_jurisdiction: Option<String>,
    reply_domain: Option<String>,
    inbound_secret: Option<String>,
    sms_auth_token: Option<String>,
    sms_reply_stop_ja: Option<String>,
    sms_reply_stop_en: Option<String>,
    sms_reply_start_ja: Option<String>,
    sms_reply_start_en: Option<String>,
    sms_help_ja: Option<String>,
    sms_help_en: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    session_secret: Option<String>,
    data_key: Option<String>,
    cookie_secure: Option<bool>,
    require_totp: Option<bool>,
    signing_key: Option<String>,
    checkpoint_interval_secs: Option<u32>,
    retention_days: Option<u32>,
    outbox_retention_days: Option<u32>,
    brand_accent: Option<String>,
    brand_logo_file: Option<PathBuf>,
    webhook_allow_hosts: Option<Vec<String>>,
    webhook_retry_schedule_ms: Option<Vec<u64>>,
    webhook_disable_after_secs: Option<u64>,
    metrics_listen: Option<SocketAddr>,
    metrics_token: Option<String>,
    shutdown_drain_ms: Option<u64>,
    shutdown_timeout_secs: Option<u64>,
}

/// The brand from its settings: the accent checked for contrast, the logo file read and checked.
fn brand(
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
        let parse_bool = |k: &str, v: String| -> anyhow::Result<bool> {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => anyhow::bail!("{k} must be true or false, not {v:?}"),
            }
        };
        let data_dir = env("DOUI_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| "data".into());
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("doui.db").display()));
        let max_lag = match env("DOUI_REPLICA_MAX_LAG_MS") {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                anyhow::anyhow!("DOUI_REPLICA_MAX_LAG_MS must be a number of milliseconds")
            })?),
            None => file.replica_max_lag_ms,
        };
        let read_replica = match env("DOUI_DATABASE_READ_URL").or(file.database_read_url) {
            Some(url) => {
                anyhow::ensure!(
                    url.starts_with("postgres://") || url.starts_with("postgresql://"),
                    "database_read_url must be a postgres:// URL of a streaming replica"
                );
                anyhow::ensure!(
                    database_url.starts_with("postgres://")
                        || database_url.starts_with("postgresql://"),
                    "database_read_url needs PostgreSQL: with SQLite (database_url {}) there is \
                     no replica to read from; remove database_read_url",
                    crate::store::redact_url(&database_url)
                );
                Some(crate::store::ReadReplica {
                    url,
                    max_lag: max_lag
                        .map(std::time::Duration::from_millis)
                        .unwrap_or(crate::store::DEFAULT_MAX_LAG),
                })
            }
            None => None,
        };
        anyhow::ensure!(
            max_lag.is_none_or(|ms| ms > 0),
            "replica_max_lag_ms must be at least 1"
        );
        let listen = match env("DOUI_LISTEN") {
            Some(v) => v.parse().with_context(|| {
                format!("DOUI_LISTEN must be an address like 127.0.0.1:3000, not {v:?}")
            })?,
            None => file
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
        };
        let public_url = env("DOUI_PUBLIC_URL")
            .or(file.public_url)
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
        let token_secret = env("DOUI_TOKEN_SECRET").or(file.token_secret);
        if let Some(s) = &token_secret {
            anyhow::ensure!(
                s.len() >= 32,
                "token_secret must have at least 32 characters"
            );
        }
        let trust_forwarded_for = match env("DOUI_TRUST_FORWARDED_FOR") {
            Some(v) => parse_bool("DOUI_TRUST_FORWARDED_FOR", v)?,
            None => file.trust_forwarded_for.unwrap_or(false),
        };
        let trusted_proxies = match env("DOUI_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .filter(|c| !c.trim().is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            None => file.trusted_proxies.unwrap_or_default(),
        }
        .iter()
        .map(|c| c.parse::<crate::client::Cidr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
        // Demo data (example people, and an owner whose password is printed) is for a trial on
        // this machine: on by default only there, and refused for a server at an https URL.
        let https = public_url.starts_with("https://");
        let demo = match env("DOUI_DEMO") {
            Some(v) => parse_bool("DOUI_DEMO", v)?,
            None => file.demo.unwrap_or(!https),
        };
        anyhow::ensure!(
            !(demo && https),
            "demo = true is for a trial on this machine: it adds example people and prints an \
             owner's password to the log. {public_url} is a real server's address; set demo = \
             false (DOUI_DEMO=false)"
        );
        let log_format = match env("DOUI_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => anyhow::bail!("DOUI_LOG_FORMAT must be text or json, not {other:?}"),
            None => file.log_format.unwrap_or_default(),
        };
        let link_validity_days = match env("DOUI_LINK_VALIDITY_DAYS") {
            Some(v) => v.parse().with_context(|| {
                format!("DOUI_LINK_VALIDITY_DAYS must be a number of days, not {v:?}")
            })?,
            None => file.link_validity_days.unwrap_or(90),
        };
        anyhow::ensure!(
            (60..=3650).contains(&link_validity_days),
            "link_validity_days must be between 60 and 3650 (unsubscribe links must work for at least 60 days: CAN-SPAM, CASL)"
        );
        let preference_link_validity_days = match env("DOUI_PREFERENCE_LINK_VALIDITY_DAYS") {
            Some(v) => v.parse().with_context(|| {
                format!("DOUI_PREFERENCE_LINK_VALIDITY_DAYS must be a number of days, not {v:?}")
            })?,
            None => file.preference_link_validity_days.unwrap_or(90),
        };
        anyhow::ensure!(
            (1..=3650).contains(&preference_link_validity_days),
            "preference_link_validity_days must be between 1 and 3650"
        );
        let reply_domain = env("DOUI_REPLY_DOMAIN").or(file.reply_domain);
        if let Some(d) = &reply_domain {
            anyhow::ensure!(
                d.contains('.')
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
                "reply_domain must be a domain name like unsubscribe.example.jp"
            );
        }
        let inbound_secret = env("DOUI_INBOUND_SECRET").or(file.inbound_secret);
        if let Some(s) = &inbound_secret {
            anyhow::ensure!(
                s.len() >= 24,
                "inbound_secret must have at least 24 characters"
            );
        }
        let sms_auth_token = env("DOUI_SMS_AUTH_TOKEN").or(file.sms_auth_token);
        if let Some(t) = &sms_auth_token {
            anyhow::ensure!(
                t.len() >= 16 && t.bytes().all(|b| b.is_ascii_graphic()),
                "sms_auth_token must have at least 16 characters, without spaces (Twilio's Auth Token)"
            );
        }
        let sender_name = env("DOUI_SENDER_NAME")
            .or(file.sender_name)
            .unwrap_or_default();
        let sender_contact = env("DOUI_SENDER_CONTACT")
            .or(file.sender_contact)
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
                if let Some(text) =
                    env(&format!("DOUI_{}", key.to_ascii_uppercase())).or(file_value)
                {
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
        let smtp_url = env("DOUI_SMTP_URL").or(file.smtp_url);
        if let Some(u) = &smtp_url {
            anyhow::ensure!(
                u.starts_with("smtp://") || u.starts_with("smtps://"),
                "smtp_url must start with smtp:// or smtps://"
            );
        }
        let session_secret = env("DOUI_SESSION_SECRET").or(file.session_secret);
        if let Some(s) = &session_secret {
            anyhow::ensure!(
                s.len() >= 32,
                "session_secret must have at least 32 characters"
            );
        }
        let data_key = env("DOUI_DATA_KEY").or(file.data_key);
        if let Some(s) = &data_key {
            anyhow::ensure!(s.len() >= 32, "data_key must have at least 32 characters");
        }
        let cookie_secure = match env("DOUI_COOKIE_SECURE") {
            Some(v) => parse_bool("DOUI_COOKIE_SECURE", v)?,
            None => file
                .cookie_secure
                .unwrap_or(public_url.starts_with("https://")),
        };
        let require_totp = match env("DOUI_REQUIRE_TOTP") {
            Some(v) => parse_bool("DOUI_REQUIRE_TOTP", v)?,
            None => file.require_totp.unwrap_or(false),
        };
        let sender_jurisdiction = env("DOUI_SENDER_JURISDICTION")
            .or(file.sender_jurisdiction)
            .unwrap_or_else(|| "JP".into());
        anyhow::ensure!(
            (2..=6).contains(&sender_jurisdiction.len())
                && sender_jurisdiction
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-'),
            "sender_jurisdiction must be an ISO 3166 code such as JP, DE or US-CA"
        );
        let signing_key = env("DOUI_SIGNING_KEY").or(file.signing_key);
        if let Some(k) = &signing_key {
            app::signing::Signer::from_text(k)
                .map_err(|e| anyhow::anyhow!("signing_key: {e} (32 random bytes in base64url)"))?;
        }
        let checkpoint_interval_secs = match env("DOUI_CHECKPOINT_INTERVAL_SECS") {
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!("DOUI_CHECKPOINT_INTERVAL_SECS must be a number of seconds")
            })?,
            None => file.checkpoint_interval_secs.unwrap_or(60),
        };
        anyhow::ensure!(
            checkpoint_interval_secs >= 1,
            "checkpoint_interval_secs must be at least 1"
        );
        let retention_days = match env("DOUI_RETENTION_DAYS") {
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("DOUI_RETENTION_DAYS must be a number of days"))?,
            None => file.retention_days.unwrap_or(1095),
        };
        let outbox_retention_days = match env("DOUI_OUTBOX_RETENTION_DAYS") {
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!("DOUI_OUTBOX_RETENTION_DAYS must be a number of days")
            })?,
            None => file
                .outbox_retention_days
                .unwrap_or(crate::mail::OUTBOX_RETENTION_DAYS),
        };
        anyhow::ensure!(
            outbox_retention_days >= 1,
            "outbox_retention_days must be at least 1"
        );
        let webhook_allow_hosts = match env("DOUI_WEBHOOK_ALLOW_HOSTS") {
            Some(v) => app::domain::webhook::split_list(&v),
            None => file.webhook_allow_hosts.unwrap_or_default(),
        };
        let webhook_retry_schedule_ms = match env("DOUI_WEBHOOK_RETRY_SCHEDULE_MS") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| x.parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    anyhow::anyhow!("DOUI_WEBHOOK_RETRY_SCHEDULE_MS must be numbers of ms")
                })?,
            None => file
                .webhook_retry_schedule_ms
                .unwrap_or_else(|| app::domain::webhook::DEFAULT_SCHEDULE_MS.to_vec()),
        };
        anyhow::ensure!(
            !webhook_retry_schedule_ms.is_empty()
                && webhook_retry_schedule_ms.iter().all(|x| *x > 0),
            "webhook_retry_schedule_ms must list waits of at least 1 ms"
        );
        let webhook_disable_after_secs = match env("DOUI_WEBHOOK_DISABLE_AFTER_SECS") {
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!("DOUI_WEBHOOK_DISABLE_AFTER_SECS must be a number of seconds")
            })?,
            None => file
                .webhook_disable_after_secs
                .unwrap_or(DISABLE_AFTER_SECS),
        };
        let brand = brand(
            env("DOUI_BRAND_ACCENT").or(file.brand_accent),
            env("DOUI_BRAND_LOGO_FILE")
                .map(PathBuf::from)
                .or(file.brand_logo_file),
        )?;
        let ops = crate::ops::OpsConfig::from_parts(
            crate::ops::OpsKeys {
                metrics_listen: file.metrics_listen,
                metrics_token: file.metrics_token,
                shutdown_drain_ms: file.shutdown_drain_ms,
                shutdown_timeout_secs: file.shutdown_timeout_secs,
            },
            &env,
        )?;
        Ok(Self {
            webhook_allow_hosts,
            webhook_retry_schedule_ms,
            webhook_disable_after_secs,
            ops,
            signing_key,
            checkpoint_interval_secs,
            retention_days,
            outbox_retention_days,
            brand,
            smtp_url,
            mail_from: env("DOUI_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| "Doui <no-reply@localhost>".into()),
            session_secret,
            data_key,
            cookie_secure,
            require_totp,
            limits: app::rate::Limits::default(),
            reply_domain,
            inbound_secret,
            sms_auth_token,
            sms_replies,
            link_validity_days,
            preference_link_validity_days,
            sender_name,
            sender_address: env("DOUI_SENDER_ADDRESS")
                .or(file.sender_address)
                .unwrap_or_default(),
            sender_contact,
            sender_representative: env("DOUI_SENDER_REPRESENTATIVE")
                .or(file.sender_representative)
                .unwrap_or_default(),
            sender_jurisdiction,
            data_dir,
            database_url,
            read_replica,
            listen,
            public_url,
            notice_version: env("DOUI_NOTICE_VERSION")
                .or(file.notice_version)
                .unwrap_or_else(|| "1.0".into()),
            token_secret,
            trust_forwarded_for,
            trusted_proxies,
            site_root: env("DOUI_SITE_ROOT")
                .or_else(|| env("LEPTOS_SITE_ROOT"))
                .or(file.site_root)
                .unwrap_or_else(|| "target/site".into()),
            demo,
            log_format,
        })
    }
}

/// Whether an `http://` URL names this machine only (127.0.0.0/8, `localhost`, `[::1]`).
fn is_loopback_url(url: &str) -> bool {
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

#[cfg(test)]
mod tests {

    #[test]
    fn a_brand_is_checked_when_it_is_configured() {
        let dir = std::env::temp_dir().join(format!("doui-brand-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let logo = dir.join("logo.png");
        std::fs::write(&logo, b"\x89PNG\r\n\x1a\n0000").unwrap();
        let b = brand(Some("#0b5394".into()), Some(logo)).unwrap();
        assert_eq!(b.accent.map(|a| a.hex()).as_deref(), Some("#0b5394"));
        assert!(b.logo.is_some());
        let light = brand(Some("#ffdd00".into()), None).unwrap_err().to_string();
        assert!(
            light.contains("too light") && light.contains("4.5:1"),
            "{light}"
        );
        let not_colour = brand(Some("red".into()), None).unwrap_err().to_string();
        assert!(not_colour.contains("#rrggbb"), "{not_colour}");
        let gif = dir.join("logo.gif");
        std::fs::write(&gif, b"GIF89a").unwrap();
        let format = brand(None, Some(gif)).unwrap_err().to_string();
        assert!(format.contains("PNG, JPEG, WebP or SVG"), "{format}");
        let missing = brand(None, Some(dir.join("none.png")))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("could not be read"), "{missing}");
        assert_eq!(
            brand(None, None).unwrap(),
            app::domain::brand::Brand::default()
        );
        std::fs::remove_dir_all(dir).ok();
    }
    use super::*;
    use std::collections::HashMap;

    fn load(toml_text: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_parts(toml::from_str(toml_text)?, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_give_an_embedded_sqlite_database() {
        let c = load("", &[]).unwrap();
        assert_eq!(c.database_url, "sqlite:data/doui.db");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(c.demo);
    }

    #[test]
    fn environment_wins_over_the_file() {
        let c = load(
            "listen = \"0.0.0.0:8080\"\ndemo = false\n",
            &[("DOUI_LISTEN", "127.0.0.1:9000")],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert!(!c.demo);
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        assert!(load("nonsense = 1", &[]).is_err());
        let e = load("", &[("DOUI_DEMO", "maybe")]).unwrap_err().to_string();
        assert!(e.contains("DOUI_DEMO"), "{e}");
        assert!(load("", &[("DOUI_TOKEN_SECRET", "short")]).is_err());
        assert!(load("public_url = \"ftp://x\"", &[]).is_err());
        assert!(load("public_url = \"https://x.example\\r\\nBcc: y\"", &[]).is_err());
        let e = load("link_validity_days = 30", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 60"), "{e}");
        let e = load("preference_link_validity_days = 0", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("preference_link_validity_days"), "{e}");
    }

    #[test]
    fn a_read_replica_needs_postgresql() {
        let e = load("database_read_url = \"postgres://r/db\"", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("database_read_url needs PostgreSQL"), "{e}");
        let c = load(
            "database_url = \"postgres://p/db\"\ndatabase_read_url = \"postgres://r/db\"",
            &[],
        )
        .unwrap();
        let replica = c.read_replica.unwrap();
        assert_eq!(replica.url, "postgres://r/db");
        assert_eq!(replica.max_lag, crate::store::DEFAULT_MAX_LAG);
        let c = load(
            "database_url = \"postgres://p/db\"",
            &[
                ("DOUI_DATABASE_READ_URL", "postgres://u:pw@r/db"),
                ("DOUI_REPLICA_MAX_LAG_MS", "250"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.read_replica.as_ref().unwrap().max_lag,
            std::time::Duration::from_millis(250)
        );
        assert!(!format!("{c:?}").contains("pw"));
        assert!(load("", &[("DOUI_REPLICA_MAX_LAG_MS", "soon")]).is_err());
        assert!(c.read_replica.is_some());
        assert!(
            load("database_url = \"postgres://p/db\"", &[])
                .unwrap()
                .read_replica
                .is_none()
        );
    }

    #[test]
    fn sms_answers_default_to_the_sender_and_can_be_set_per_language() {
        let c = load("sender_name = \"Shop K.K.\"", &[]).unwrap();
        assert!(c.sms_auth_token.is_none());
        assert!(
            c.sms_replies.stop_en.starts_with("Shop K.K.:"),
            "{:?}",
            c.sms_replies
        );
        assert!(c.sms_replies.help_ja.starts_with("Shop K.K.:"));
        let c = load(
            "sms_reply_stop_ja = \"停止しました\"\nsms_auth_token = \"0123456789abcdef0123\"",
            &[("DOUI_SMS_HELP_EN", "Call 0120-000-000")],
        )
        .unwrap();
        assert_eq!(c.sms_replies.stop_ja, "停止しました");
        assert_eq!(c.sms_replies.help_en, "Call 0120-000-000");
        assert!(c.sms_replies.stop_en.contains("No further"));
        assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
        let e = load("sms_help_ja = \"\"", &[]).unwrap_err().to_string();
        assert!(e.contains("sms_help_ja"), "{e}");
        let e = load("", &[("DOUI_SMS_AUTH_TOKEN", "short")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sms_auth_token"), "{e}");
    }

    #[test]
    fn item02_trusted_proxies_come_from_the_file_or_the_environment() {
        let c = load("trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::1\"]", &[]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[0].contains("10.2.3.4".parse().unwrap()));
        let c = load(
            "trusted_proxies = [\"10.0.0.0/8\"]",
            &[("DOUI_TRUSTED_PROXIES", "192.0.2.1, 198.51.100.0/24")],
        )
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(!c.trusted_proxies[0].contains("10.2.3.4".parse().unwrap()));
        let e = load("", &[("DOUI_TRUSTED_PROXIES", "10.0.0.0/40")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("trusted_proxies"), "{e}");
        assert!(load("", &[]).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = load(
            "",
            &[
                ("DOUI_TOKEN_SECRET", &"s".repeat(40)),
                ("DOUI_SESSION_SECRET", &"q".repeat(40)),
                ("DATABASE_URL", "postgres://u:pw@h/db"),
                (
                    "DOUI_SMTP_URL",
                    "smtps://mailer:smtp-pass@smtp.example.jp:465",
                ),
            ],
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("ssss") && !shown.contains(":pw@") && !shown.contains("qqqq"),
            "{shown}"
        );
        assert!(
            !shown.contains("smtp-pass") && shown.contains("smtp.example.jp"),
            "{shown}"
        );
        let e = load("", &[("DOUI_SMTP_URL", "http://x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("smtp_url"), "{e}");
        assert!(load("", &[("DOUI_SESSION_SECRET", "short")]).is_err());
        assert!(
            load("public_url = \"https://prefs.example.jp\"", &[])
                .unwrap()
                .cookie_secure
        );
    }

    #[test]
    fn hardening_19_an_http_public_url_is_refused_outside_a_loopback_demo() {
        for url in [
            "http://prefs.example.jp",
            "http://192.0.2.10:3000",
            "http://0.0.0.0:3000",
            "http://localhost.example.jp",
        ] {
            let e = load(&format!("public_url = \"{url}\""), &[])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("must be https://") && e.contains("RFC 8058"),
                "{url}: {e}"
            );
        }
        for url in [
            "http://127.0.0.1:3000",
            "http://localhost:3000/",
            "http://[::1]:3000",
            "https://prefs.example.jp",
        ] {
            assert!(
                load(&format!("public_url = \"{url}\""), &[]).is_ok(),
                "{url}"
            );
        }
        // The default follows `listen`: a server listening on every address must say its URL.
        assert!(load("listen = \"0.0.0.0:3000\"", &[]).is_err());
    }

    #[test]
    fn hardening_13_a_real_server_never_starts_with_demo_data() {
        let https = "public_url = \"https://prefs.example.jp\"";
        assert!(!load(https, &[]).unwrap().demo, "off by default at https");
        let e = load(https, &[("DOUI_DEMO", "true")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("demo = true") && e.contains("DOUI_DEMO=false"),
            "{e}"
        );
        assert!(load(&format!("{https}\ndemo = true"), &[]).is_err());
        assert!(
            load("", &[]).unwrap().demo,
            "on by default for a loopback trial"
        );
    }
}
