//! The rules with I/O: who a token lets in, what a page shows, what a change may touch. Server
//! functions and HTTP handlers call these and nothing below them.

use std::sync::Arc;

use time::{OffsetDateTime, format_description::FormatItem, macros::format_description};

use crate::{
    auth::CsrfKey,
    domain::{Subject, SubjectId},
    mail::Mailer,
    rate::{Limits, RateLimiter},
    store::{IdentityStore, SealStore, Store, StoreError},
    token::{Claims, Keyring, Scope},
};

mod admin;
mod admin_accounts;
mod api_keys;
mod audience;
mod collected;
mod collection_points;
mod console;
mod do_not_sell;
mod double_opt_in;
mod erasure;
mod expiry;
mod feed;
mod forms;
mod gpc;
mod identity;
mod imports;
mod leaving;
mod links;
mod notices;
mod objection;
mod pauses;
mod preferences;
mod privacy;
mod protection;
mod provisions;
mod purposes;
mod receipts;
mod retention;
mod seals;
mod sms;
mod subjects;
mod unsubscribe;
mod webhooks;
mod zone;
pub use zone::known_time_zone;

pub use admin::{BehalfChange, MAX_REASON_CHARS, summary};
pub use admin_accounts::ARGON2_M_KIB;
pub use audience::{
    AUDIENCE_PAGE, AUDIENCE_RANGE, Ask, AudiencePage, Lapsed, LapsedPage, MAX_AUDIENCE_PAGE,
    MAX_PERMISSIONS, RANGES_AT_ONCE,
};
pub use collected::{
    BatchRefusal, CollectedChange, CollectedResult, ConsentInEffect, ItemRefusal, MAX_BATCH,
    SubjectFields, SubjectPatch,
};
pub use console::{CHART_DAYS, EVENT_PAGE, SEARCH_PAGE, event_row, name_collection_points};
pub use do_not_sell::{DO_NOT_SELL_SHOWN, DoNotSellStatus, moment_text};
pub use double_opt_in::{OPT_IN_HOURS, OptInPreview, RequestEvidence};
pub use erasure::Eraser;
pub use feed::{
    FEED_PAGE, FEED_PIECE, FEED_POLL, FeedPage, FeedStream, MAX_FEED_PAGE, MAX_FEED_WAIT,
};
pub use forms::{FORM_TOKEN_SECS, FormOutcome, FormPage, FormSubmission};
pub use gpc::{GPC_LAST_UPDATE, GRANTED_WITH_GPC, gpc_signal};
pub use identity::NewSession;
pub use imports::ImportContext;
pub use links::{GRANT_CONFIRM_HOURS, GrantPreview, Revocation};
pub(crate) use notices::consent_effect;
pub use notices::{NoticeInput, parse_effective_at};
pub use objection::OBJECTION_REASON;
pub use pauses::ALL_MARKETING;
pub(crate) use preferences::matrix;
pub use preferences::{outcome_word, scope_allows};
pub use provisions::{AcquisitionInput, ProvisionInput};
pub use purposes::purpose_from_form;
pub use receipts::{VerifiedReceipt, verify_receipt};
pub use retention::PurgeReport;
pub use seals::{ChainReport, LATE_WINDOW_SECS, SEAL_BATCH};
pub use sms::{InboundSms, SmsAnswer};
pub use unsubscribe::{
    LinkAnswer, LinkPlan, Links, MailHeaders, ONE_CLICK, UnsubscribeTarget, check_campaign,
};
pub use webhooks::{DELIVERY_PAGE, ReplayFrom, WebhookInput};

/// Who sends the messages (its home is the mail it signs).
pub use crate::mail::Sender;

/// Links read per page when the chain is walked: large pages keep the walk fast.
pub const WALK_PAGE: u32 = 20_000;

/// Settings the rules need (the server reads them from config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The public base URL links are made with, without a trailing slash.
    pub public_url: String,
    /// The version of the privacy notice the preference center shows; pinned on every event.
    pub notice_version: String,
    /// How long unsubscribe links in messages stay valid (at least 60 days: CAN-SPAM, CASL).
    pub link_validity_days: u32,
    /// How long links to the whole preference center stay valid (a link made before they had
    /// an expiry counts from its issue time).
    pub preference_link_validity_days: u32,
    /// The sender display items the law asks every advertising message to carry
    /// (特定電子メール法 第4条: name, postal address, contact).
    pub sender: Sender,
    /// The domain of `mailto:` unsubscribe addresses (`u-<code>@<domain>`), when replies by mail
    /// are received (its inbound mail is posted to `/inbound/email`).
    pub reply_domain: Option<String>,
    /// Mark cookies `Secure` (served over TLS).
    pub cookie_secure: bool,
    /// Admins must sign in with a TOTP code.
    pub require_totp: bool,
    pub limits: Limits,
    /// How often a signed checkpoint of the chain is written, when the chain grew.
    pub checkpoint_interval_secs: i64,
    /// The operator's own minimum retention of superseded evidence, in days; the law's may be
    /// longer and then wins (R60).
    pub retention_days: i64,
    /// Links read per page when the chain is walked (several pages are read at once).
    pub walk_page: u32,
    /// Hosts webhook endpoints may reach over plain `http` and at any address (loopback, a
    /// private network): the operator's explicit choice.
    pub webhook_allow_hosts: Vec<String>,
    /// When failed webhook deliveries are tried again, and when an endpoint is disabled.
    pub webhook_retry: crate::domain::webhook::RetryPolicy,
    /// The sender's accent colour and logo on every page.
    pub brand: crate::domain::brand::Brand,
    /// What a text message with a keyword (STOP, START, HELP) is answered, per language.
    pub sms_replies: crate::domain::sms::SmsReplies,
}

impl Settings {
    /// Settings for tests and tools: a public URL, notice `1.0`, 90-day links, an example sender.
    pub fn for_url(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            notice_version: "1.0".into(),
            link_validity_days: 90,
            preference_link_validity_days: 90,
            sender: Sender {
                name: "Example K.K.".into(),
                postal_address: "1-1 Chiyoda, Chiyoda-ku, Tokyo".into(),
                contact: "privacy@example.jp".into(),
                representative: "Hanako Yamada".into(),
                jurisdiction: "JP".into(),
            },
            reply_domain: None,
            cookie_secure: public_url.starts_with("https://"),
            require_totp: false,
            limits: Limits::default(),
            checkpoint_interval_secs: 60,
            retention_days: 1095,
            walk_page: WALK_PAGE,
            webhook_allow_hosts: Vec::new(),
            webhook_retry: crate::domain::webhook::RetryPolicy::default(),
            brand: crate::domain::brand::Brand::default(),
            sms_replies: crate::domain::sms::SmsReplies::defaults(
                "Example K.K.",
                "privacy@example.jp",
            ),
        }
    }
}

/// Everything server functions and handlers reach: provided as Leptos context and axum state.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub identity: Arc<dyn IdentityStore>,
    pub seals: Arc<dyn SealStore>,
    pub console: Arc<dyn crate::store::ConsoleStore>,
    pub keyring: Arc<Keyring>,
    /// Signs checkpoints and receipts (Ed25519).
    pub signer: Arc<crate::signing::Signer>,
    pub settings: Arc<Settings>,
    pub mailer: Arc<dyn Mailer>,
    pub limiter: Arc<RateLimiter>,
    pub csrf: Arc<CsrfKey>,
    /// Keyed digests of erased identifiers and encrypted TOTP secrets.
    pub data_key: Arc<crate::auth::DataKey>,
    /// How many links this process has sealed: bumped after each round that sealed some, so
    /// whoever waits for the chain to grow (the feed's long polls) is woken at once.
    pub sealed: Arc<tokio::sync::watch::Sender<u64>>,
}

/// How long a client is asked to wait (`Retry-After`) when the database cannot be reached: about
/// what a PostgreSQL restart or a replica's promotion takes.
pub const UNAVAILABLE_RETRY_SECS: i64 = 5;

/// A rule refused the request; `code` is stable (see `i18n::error_message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct Refusal {
    pub code: &'static str,
    /// For `rate_limited` and `unavailable`: seconds until a retry may succeed (`Retry-After`).
    pub retry_after: Option<i64>,
}

impl Refusal {
    pub const fn new(code: &'static str) -> Self {
        Self {
            code,
            retry_after: None,
        }
    }

    /// The database cannot be reached just now (restarting, failing over): try again after
    /// [`UNAVAILABLE_RETRY_SECS`].
    pub const fn unavailable() -> Self {
        Self {
            code: "unavailable",
            retry_after: Some(UNAVAILABLE_RETRY_SECS),
        }
    }

    /// Too many attempts; try again after `seconds`.
    pub const fn rate_limited(seconds: i64) -> Self {
        Self {
            code: "rate_limited",
            retry_after: Some(seconds),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::IdempotencyKeyReused => Refusal::new("idempotency_key_reused"),
            StoreError::Conflict(what) => Refusal::new(match what {
                "email" => "email_taken",
                "collection_point" => "collection_point_taken",
                _ => "external_id_taken",
            }),
            StoreError::MissingReference(_) => Refusal::new("bad_request"),
            StoreError::OlderThanLatestChange(_) => Refusal::new("older_than_latest_change"),
            StoreError::ImportProgressMoved => Refusal::new("import_progress_moved"),
            StoreError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                Refusal::unavailable()
            }
            StoreError::Backend(msg) => {
                tracing::error!(error = %msg, "store failed");
                Refusal::new("unavailable")
            }
        }
    }
}

impl From<crate::domain::Invalid> for Refusal {
    fn from(e: crate::domain::Invalid) -> Self {
        Refusal::new(e.problem)
    }
}

/// A subject that presented a valid token, and what the token lets them do.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub subject: Subject,
    pub scope: Scope,
    /// The campaign or list id the link carried.
    pub campaign: Option<String>,
    /// Came with a link (anyone the mail reached may hold it), not a signed-in session.
    pub by_link: bool,
}

pub fn now() -> OffsetDateTime {
    crate::domain::to_micros(OffsetDateTime::now_utc())
}

const WHEN: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute] UTC");

pub(crate) fn format_when(t: OffsetDateTime) -> String {
    t.format(WHEN).unwrap_or_default()
}

/// `hanako@example.jp` → `h•••@example.jp`; a subject without email shows its external id.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

impl Services {
    pub(crate) fn preference_link_validity_secs(&self) -> i64 {
        i64::from(self.settings.preference_link_validity_days) * 86_400
    }

    /// Sends `mail` without making the request wait for the mail server; `what` names it in the
    /// log (sent, or why not).
    fn mail_in_background(&self, mail: crate::mail::Mail, what: &'static str) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            match mailer.send(&mail).await {
                Ok(()) => tracing::info!(mail = what, "mailed"),
                // Transports' errors quote addresses; logs keep none.
                Err(e) => tracing::error!(
                    mail = what,
                    error = %crate::mail::without_addresses(&e),
                    "mail could not be sent"
                ),
            }
        });
    }

    /// A link to the subject's whole preference center, valid for
    /// `preference_link_validity_days`.
    pub fn preference_link(&self, subject: SubjectId) -> String {
        let issued_at = now().unix_timestamp();
        let token = self.keyring.sign(&Claims {
            subject,
            scope: Scope::Everything,
            issued_at,
            expires_at: Some(issued_at + self.preference_link_validity_secs()),
            campaign: None,
        });
        format!("{}/p/{token}", self.settings.public_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("hanako@example.jp"), "h•••@example.jp");
        assert_eq!(mask_email("山田@example.jp"), "山•••@example.jp");
    }
}
