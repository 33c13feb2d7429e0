//! The rules with I/O: who a token lets in, what a page shows, what a change may touch. Server
//! functions and HTTP handlers call these and nothing below them.

use std::{collections::HashMap, sync::Arc};

use time::{OffsetDateTime, format_description::FormatItem, macros::format_description};
use uuid::Uuid;

use crate::{
    auth::CsrfKey,
    domain::{
        Change, Channel, ConsentState, Email, ExternalId, Jurisdiction, Lang, NewSubject, Outcome,
        Phone, Provenance, Purpose, PurposeKey, Subject, SubjectId, check_idempotency_key,
    },
    i18n::source_name,
    mail::Mailer,
    rate::{Limits, RateLimiter},
    store::{Applied, ConsentRecord, IdentityStore, SealStore, Store, StoreError},
    token::{Claims, Keyring, Scope, TokenError},
    view::{Cell, HistoryRow, PreferenceView, PurposeRow},
};

mod admin;
mod api_keys;
mod console;
mod double_opt_in;
mod erasure;
mod expiry;
mod gpc;
mod identity;
mod notices;
mod provisions;
mod receipts;
mod retention;
mod seals;
mod unsubscribe;

pub use admin::{BehalfChange, MAX_REASON_CHARS, summary};
pub use console::{CHART_DAYS, EVENT_PAGE, SEARCH_PAGE, event_row, purpose_from_form};
pub use double_opt_in::{OPT_IN_HOURS, OptInPreview, RequestEvidence};
pub use erasure::Eraser;
pub use gpc::{GPC_LAST_UPDATE, GRANTED_WITH_GPC, gpc_signal};
pub use identity::{ARGON2_M_KIB, NewSession, hash_password};
pub(crate) use notices::consent_effect;
pub use notices::{NoticeInput, parse_effective_at};
pub use provisions::{AcquisitionInput, ProvisionInput};
pub use receipts::{VerifiedReceipt, verify_receipt};
pub use retention::PurgeReport;
pub use seals::{ChainReport, LATE_WINDOW_SECS, SEAL_BATCH};
pub use unsubscribe::{LinkPlan, Links, MailHeaders, ONE_CLICK, UnsubscribeTarget, check_campaign};

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
}

/// Who sends the messages, as shown in every message's footer.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub name: String,
    pub postal_address: String,
    pub contact: String,
    /// The representative (代表者), one of the APPI 27(2) items.
    pub representative: String,
    /// ISO 3166 code of the sender's (the controller's) jurisdiction, e.g. `JP`.
    pub jurisdiction: String,
}

impl Settings {
    /// Settings for tests and tools: a public URL, notice `1.0`, 90-day links, an example sender.
    pub fn for_url(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            notice_version: "1.0".into(),
            link_validity_days: 90,
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
}

/// A rule refused the request; `code` is stable (see `i18n::error_message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct Refusal {
    pub code: &'static str,
    /// For `rate_limited`: seconds until a retry may succeed (`Retry-After`).
    pub retry_after: Option<i64>,
}

impl Refusal {
    pub const fn new(code: &'static str) -> Self {
        Self {
            code,
            retry_after: None,
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
            StoreError::Conflict(what) => Refusal::new(if what == "email" {
                "email_taken"
            } else {
                "external_id_taken"
            }),
            StoreError::MissingReference(_) => Refusal::new("bad_request"),
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
    /// Sends `mail` without making the request wait for the mail server; `what` names it in the
    /// log (sent, or why not).
    fn mail_in_background(&self, mail: crate::mail::Mail, what: &'static str) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            match mailer.send(&mail).await {
                Ok(()) => tracing::info!(mail = what, "mailed"),
                Err(e) => tracing::error!(mail = what, error = %e, "mail could not be sent"),
            }
        });
    }

    /// A link to the subject's whole preference center.
    pub fn preference_link(&self, subject: SubjectId) -> String {
        let token = self.keyring.sign(&Claims {
            subject,
            scope: Scope::Everything,
            issued_at: now().unix_timestamp(),
            expires_at: None,
            campaign: None,
        });
        format!("{}/p/{token}", self.settings.public_url)
    }

    /// Who a token lets in. A valid token for a subject that no longer exists is refused too.
    pub async fn visitor(&self, token: &str) -> Result<Visitor, Refusal> {
        let claims = self.claims(token)?;
        let subject = self
            .store
            .subject(claims.subject)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or(Refusal::new("unknown_subject"))?;
        Ok(Visitor {
            subject,
            scope: claims.scope,
            campaign: claims.campaign,
        })
    }

    /// What a token says, once its signature and expiry are checked (no database read).
    pub fn claims(&self, token: &str) -> Result<Claims, Refusal> {
        self.keyring
            .verify(token, now().unix_timestamp())
            .map_err(|e| match e {
                TokenError::Expired => Refusal::new("expired_token"),
                _ => Refusal::new("invalid_token"),
            })
    }

    /// The page's language: an explicit choice, then the subject's, then the browser's.
    pub fn page_lang(
        explicit: Option<&str>,
        subject: Option<&Subject>,
        accept_language: Option<&str>,
    ) -> Lang {
        explicit
            .and_then(|l| l.parse().ok())
            .or(subject.map(|s| s.lang))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    pub async fn preference_view(
        &self,
        visitor: &Visitor,
        token: &str,
        lang: Lang,
    ) -> Result<PreferenceView, Refusal> {
        let purposes = self.visible_purposes(visitor).await?;
        let records = self.store.consents(visitor.subject.id).await?;
        let notices = self.store.notices().await?;
        let (channels, rows) = matrix(
            &purposes,
            &records,
            &notices,
            &visitor.scope,
            visitor.subject.jurisdiction,
            lang,
        );
        let names: HashMap<_, _> = purposes
            .iter()
            .map(|p| (p.key.as_str(), p.name(lang)))
            .collect();
        let history = self
            .store
            .events_for_subject(visitor.subject.id, 200)
            .await?
            .into_iter()
            .map(|e| HistoryRow {
                when: format_when(e.provenance.occurred_at),
                purpose_name: names
                    .get(e.purpose.as_str())
                    .map_or_else(|| e.purpose.to_string(), |n| n.to_string()),
                channel: e.channel,
                from: e.from,
                to: e.to,
                source: source_name(lang, e.provenance.source.key()).to_owned(),
            })
            .collect();
        let subject = &visitor.subject;
        Ok(PreferenceView {
            lang,
            token: token.to_owned(),
            subject_label: subject.email.as_ref().map_or_else(
                || subject.external_id.as_str().to_owned(),
                |e| mask_email(e.as_str()),
            ),
            notice_version: self.notice_version().await?,
            channels,
            purposes: rows,
            history,
            render_id: Uuid::new_v4().simple().to_string(),
            csrf: String::new(),
            signed_in: token.is_empty(),
            can_stay_signed_in: !token.is_empty() && visitor.scope == Scope::Everything,
            gpc: false,
            provisions: self.provision_rows(&visitor.subject).await?,
            reconfirm: self
                .reconfirmations(visitor, &purposes, &records, lang)
                .await?,
            renewals: self.renewals(visitor, &purposes, &records, lang).await?,
        })
    }

    async fn visible_purposes(&self, visitor: &Visitor) -> Result<Vec<Purpose>, Refusal> {
        let all = self.store.purposes().await?;
        Ok(all
            .into_iter()
            .filter(|p| match &visitor.scope {
                Scope::Everything => true,
                Scope::AllMarketing => p.marketing,
                Scope::Purpose(k) | Scope::PurposeChannel(k, _) => &p.key == k,
            })
            .collect())
    }

    /// Sets one consent for the visitor, checking that the purpose exists, is used on the channel
    /// and is within the token's scope. The provenance's `occurred_at` is set here.
    pub async fn set_consent(
        &self,
        visitor: &Visitor,
        purpose: &str,
        channel: &str,
        state: &str,
        mut provenance: Provenance,
    ) -> Result<Applied, Refusal> {
        let to: ConsentState = state.parse()?;
        if let Some(k) = &provenance.idempotency_key {
            check_idempotency_key(k)?;
        }
        let (purpose, channel) = self.purpose_on(purpose, channel).await?;
        if !scope_allows(&visitor.scope, &purpose, channel) {
            return Err(Refusal::new("invalid_token"));
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        let change = Change {
            subject: visitor.subject.id,
            purpose: purpose.key,
            channel,
            to,
            provenance,
            reconfirm: false,
        };
        let mut applied = self.store.apply(vec![change]).await?;
        Ok(applied.pop().expect("one change gives one result"))
    }

    /// The purpose named `key`, if it exists.
    pub async fn purpose(&self, key: &str) -> Result<Purpose, Refusal> {
        let key = PurposeKey::parse(key.trim()).map_err(|_| Refusal::new("unknown_purpose"))?;
        self.store
            .purposes()
            .await?
            .into_iter()
            .find(|p| p.key == key)
            .ok_or(Refusal::new("unknown_purpose"))
    }

    /// The purpose named `purpose`, if it exists and is used on `channel`.
    pub async fn purpose_on(
        &self,
        purpose: &str,
        channel: &str,
    ) -> Result<(Purpose, Channel), Refusal> {
        let channel: Channel = channel.parse()?;
        let purpose = self.purpose(purpose).await?;
        if !purpose.applies_to(channel) {
            return Err(Refusal::new("channel_not_applicable"));
        }
        Ok((purpose, channel))
    }

    /// Withdraws every marketing purpose on every channel it uses, in one transaction.
    pub async fn stop_all_marketing(
        &self,
        visitor: &Visitor,
        mut provenance: Provenance,
    ) -> Result<Vec<Applied>, Refusal> {
        if let Some(k) = &provenance.idempotency_key {
            check_idempotency_key(k)?;
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        let purposes = self.store.purposes().await?;
        let changes: Vec<Change> = purposes
            .iter()
            .filter(|p| p.marketing)
            .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
            .filter(|(p, c)| scope_allows(&visitor.scope, p, *c))
            .map(|(p, channel)| {
                let mut provenance = provenance.clone();
                // One key per consent, derived from the request's key.
                provenance.idempotency_key = provenance
                    .idempotency_key
                    .map(|k| format!("{}:{}:{}", &k[..k.len().min(96)], p.key, channel));
                Change {
                    subject: visitor.subject.id,
                    purpose: p.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance,
                    reconfirm: false,
                }
            })
            .collect();
        Ok(self.store.apply(changes).await?)
    }

    /// The public privacy policy: the sender's items, each purpose with its modes, and for
    /// opt-out provision in Japan the APPI 27(2) items (R46, R48).
    pub async fn privacy_view(&self, lang: Lang) -> Result<crate::view::PrivacyView, Refusal> {
        use crate::domain::{Mode, PurposeKind};
        let sender = &self.settings.sender;
        let purposes = self
            .store
            .purposes()
            .await?
            .into_iter()
            .map(|p| {
                let jp_opt_out = p.kind == PurposeKind::ThirdPartySharing
                    && p.mode_for(Jurisdiction::Jp) == Mode::OptOut;
                let opt_out_provision = jp_opt_out.then(|| crate::view::OptOutProvision {
                    data_items: p.legal.data_items.clone(),
                    acquired_by: p.legal.acquired_by.clone(),
                    provided_by: p.legal.provided_by.clone(),
                    filed_on: p
                        .legal
                        .ppc_filing
                        .as_ref()
                        .map(|f| f.filed_on.clone())
                        .unwrap_or_default(),
                    filing_number: p
                        .legal
                        .ppc_filing
                        .as_ref()
                        .map(|f| f.number.clone())
                        .unwrap_or_default(),
                });
                crate::view::PrivacyPurpose {
                    key: p.key.to_string(),
                    name: p.name(lang).to_owned(),
                    description: p.description(lang).to_owned(),
                    channels: p.channels.clone(),
                    mode: p.mode,
                    modes: p
                        .modes
                        .0
                        .iter()
                        .map(|(j, m)| (j.key().to_owned(), *m))
                        .collect(),
                    opt_out_provision,
                }
            })
            .collect();
        let notices = self.store.notices().await?;
        let in_force = crate::domain::notice::in_force(&notices, now());
        Ok(crate::view::PrivacyView {
            lang,
            sender_name: sender.name.clone(),
            sender_address: sender.postal_address.clone(),
            sender_representative: sender.representative.clone(),
            sender_contact: sender.contact.clone(),
            notice_version: self.notice_version().await?,
            notice_text: in_force
                .map(|n| n.text(lang).to_owned())
                .unwrap_or_default(),
            notice_effective: in_force
                .map(|n| format_when(n.effective_at))
                .unwrap_or_default(),
            purposes,
            retention_days: self.settings.retention_days,
        })
    }

    /// Puts the built-in purposes in place (texts are refreshed; purposes admins added are kept).
    pub async fn seed_purposes(&self) -> Result<(), Refusal> {
        let existing = self.store.purposes().await?;
        for seed in Purpose::seeds() {
            if !existing.iter().any(|p| p.key == seed.key) {
                self.console.save_purpose(&seed, "system").await?;
                self.store.purposes_changed();
            }
        }
        Ok(())
    }

    /// Creates a subject from raw input, validating each field, under the default jurisdiction.
    pub async fn create_subject(
        &self,
        external_id: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        lang: Lang,
    ) -> Result<Subject, Refusal> {
        self.create_subject_in(external_id, email, phone, lang, Jurisdiction::Default)
            .await
    }

    /// `create_subject` for a subject whose consents `jurisdiction`'s rules govern.
    pub async fn create_subject_in(
        &self,
        external_id: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        lang: Lang,
        jurisdiction: Jurisdiction,
    ) -> Result<Subject, Refusal> {
        let id = SubjectId(Uuid::now_v7());
        let email = email.map(Email::parse).transpose()?;
        let phone = phone.map(Phone::parse).transpose()?;
        self.check_not_erased(email.as_ref(), phone.as_ref())
            .await?;
        self.insert_subject(id, external_id, email, phone, lang, jurisdiction)
            .await
    }

    /// Creates a subject without the erasure check: for the person's own sign-up (double
    /// opt-in), which may bring back an address erased before.
    pub(crate) async fn insert_subject(
        &self,
        id: SubjectId,
        external_id: Option<&str>,
        email: Option<Email>,
        phone: Option<Phone>,
        lang: Lang,
        jurisdiction: Jurisdiction,
    ) -> Result<Subject, Refusal> {
        let external_id = match external_id {
            Some(x) => ExternalId::parse(x)?,
            None => ExternalId::parse(&id.to_string())?,
        };
        let new = NewSubject {
            external_id,
            email,
            phone,
            lang,
            jurisdiction,
        };
        Ok(self.store.create_subject(id, &new).await?)
    }
}

/// The matrix a page shows: the channels any purpose uses, and for each purpose its row of cells
/// (the effective value, the person's own choice if any, and whether `scope` lets it change).
pub(crate) fn matrix(
    purposes: &[Purpose],
    records: &[ConsentRecord],
    notices: &[crate::domain::Notice],
    scope: &Scope,
    jurisdiction: Jurisdiction,
    lang: Lang,
) -> (Vec<Channel>, Vec<PurposeRow>) {
    let at = now();
    let by_key: HashMap<_, _> = records
        .iter()
        .map(|r| ((r.purpose.as_str(), r.channel), r))
        .collect();
    let channels: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|c| purposes.iter().any(|p| p.applies_to(*c)))
        .collect();
    let rows = purposes
        .iter()
        .map(|p| PurposeRow {
            key: p.key.to_string(),
            name: p.name(lang).to_owned(),
            description: p.description(lang).to_owned(),
            mode: p.mode_for(jurisdiction),
            marketing: p.marketing,
            cells: channels
                .iter()
                .map(|&channel| {
                    let record = by_key.get(&(p.key.as_str(), channel)).copied();
                    let effect = consent_effect(notices, p, jurisdiction, record, at);
                    Cell {
                        channel,
                        applies: p.applies_to(channel) && scope_allows(scope, p, channel),
                        on: effect.on,
                        choice: record.map(|r| r.state),
                        updated_at: record.map(|r| format_when(r.updated_at)),
                        reconfirm: effect.asks(),
                    }
                })
                .collect(),
        })
        .collect();
    (channels, rows)
}

/// Whether a token's scope covers a purpose on a channel.
pub fn scope_allows(scope: &Scope, purpose: &Purpose, channel: Channel) -> bool {
    match scope {
        Scope::Everything => true,
        Scope::AllMarketing => purpose.marketing,
        Scope::Purpose(k) => &purpose.key == k,
        Scope::PurposeChannel(k, c) => &purpose.key == k && *c == channel,
    }
}

/// The outcome of a change as a short word for logs and API answers.
pub fn outcome_word(applied: &Applied) -> &'static str {
    match (&applied.outcome, applied.replayed) {
        (_, true) => "replayed",
        (Outcome::Recorded(_), false) => "recorded",
        (Outcome::Unchanged(_), false) => "unchanged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menus_list_every_source() {
        let keys: Vec<&str> = crate::domain::Source::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys, crate::i18n::SOURCE_KEYS);
    }

    #[test]
    fn filter_forms_become_filters_with_whole_days() {
        let form = crate::view::EventFilterForm {
            purpose: Some("newsletter".into()),
            channel: Some(" ".into()),
            source: Some("one_click".into()),
            from: Some("2026-11-01".into()),
            until: Some("2026-11-01".into()),
        };
        let f = form.to_filter(None).unwrap();
        assert_eq!(f.channel, None, "blank means any");
        assert_eq!(f.source, Some(crate::domain::Source::OneClick));
        assert_eq!(
            f.until.unwrap() - f.from.unwrap(),
            time::Duration::days(1),
            "until includes its day"
        );
        assert_eq!(
            form.query(),
            "purpose=newsletter&source=one_click&from=2026-11-01&until=2026-11-01"
        );
        let backwards = crate::view::EventFilterForm {
            from: Some("2026-11-02".into()),
            until: Some("2026-11-01".into()),
            ..Default::default()
        };
        assert_eq!(
            backwards.to_filter(None).unwrap_err().code,
            "bad_date_range"
        );
        let bad = crate::view::EventFilterForm {
            from: Some("yesterday".into()),
            ..Default::default()
        };
        assert_eq!(bad.to_filter(None).unwrap_err().code, "bad_date");
    }

    #[test]
    fn a_purpose_form_is_checked() {
        let mut form = crate::view::PurposeForm {
            key: "surveys".into(),
            name_ja: "アンケート".into(),
            name_en: "Surveys".into(),
            description_ja: "ご意見をうかがいます。".into(),
            description_en: "We ask for your opinion.".into(),
            mode: "opt_in".into(),
            channels: vec!["sms".into(), "email".into(), "email".into()],
            jurisdiction_modes: vec![("jp".into(), "opt_in".into()), ("eu".into(), "".into())],
            ..Default::default()
        };
        let p = purpose_from_form(&form).unwrap();
        assert_eq!(p.channels, [Channel::Email, Channel::Sms]);
        assert_eq!(p.modes.to_text(), "jp=opt_in");
        assert_eq!(p.kind, crate::domain::PurposeKind::Other);
        form.ppc_filed_on = "2026-02-30".into();
        form.ppc_number = "PPC-1".into();
        assert_eq!(
            purpose_from_form(&form).unwrap_err().code,
            "purpose_ppc_filing"
        );
        form.ppc_filed_on = "2026-02-27".into();
        let p = purpose_from_form(&form).unwrap();
        assert_eq!(p.legal.ppc_filing.unwrap().number, "PPC-1");
        let mut wrong = form.clone();
        wrong.kind = "lottery".into();
        assert_eq!(purpose_from_form(&wrong).unwrap_err().code, "unknown_kind");
        wrong.kind = String::new();
        wrong.jurisdiction_modes = vec![("mars".into(), "opt_in".into())];
        assert_eq!(
            purpose_from_form(&wrong).unwrap_err().code,
            "unknown_jurisdiction"
        );
        form.channels.clear();
        assert_eq!(
            purpose_from_form(&form).unwrap_err().code,
            "purpose_channels"
        );
        form.channels = vec!["email".into()];
        form.name_en = " ".into();
        assert_eq!(purpose_from_form(&form).unwrap_err().code, "purpose_text");
        form.name_en = "Surveys".into();
        form.key = "Bad Key".into();
        assert!(purpose_from_form(&form).is_err());
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("hanako@example.jp"), "h•••@example.jp");
        assert_eq!(mask_email("山田@example.jp"), "山•••@example.jp");
    }

    #[test]
    fn page_language_prefers_explicit_then_subject_then_browser() {
        let subject = Subject {
            id: SubjectId(Uuid::nil()),
            external_id: ExternalId::parse("x").unwrap(),
            email: None,
            phone: None,
            lang: Lang::Ja,
            jurisdiction: crate::domain::Jurisdiction::Jp,
            erased_at: None,
        };
        assert_eq!(
            Services::page_lang(Some("en"), Some(&subject), Some("ja")),
            Lang::En
        );
        assert_eq!(
            Services::page_lang(None, Some(&subject), Some("en")),
            Lang::Ja
        );
        assert_eq!(
            Services::page_lang(Some("xx"), None, Some("ja-JP")),
            Lang::Ja
        );
        assert_eq!(Services::page_lang(None, None, None), Lang::En);
    }
}
