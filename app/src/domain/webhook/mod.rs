//! Webhook endpoints (issue 32): where the consent log is pushed and what each one receives;
//! when a failed delivery is tried again ([`retry`]) and which addresses may never be called
//! ([`address`]). Pure: the clock, the randomness and the network are the callers'.

mod address;
mod retry;

use std::{fmt, str::FromStr};

pub use address::{METADATA, check_url, forbidden_ip};
pub use retry::{AfterFailure, DEFAULT_SCHEDULE_MS, RetryPolicy};

use base64::{Engine, engine::general_purpose::STANDARD};

use super::{ConsentEvent, ConsentState, FeedItem, Invalid, PurposeKey, SubjectId};

/// What every secret starts with (Standard Webhooks 1.0, symmetric signatures).
pub const SECRET_PREFIX: &str = "whsec_";
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;
/// Delivery attempts are logged this long; older rows are pruned.
pub const DELIVERY_LOG_DAYS: i64 = 30;
/// The first bytes of an answer kept in the log.
pub const ANSWER_KEPT: usize = 200;
/// The longest URL and description accepted.
pub const MAX_URL: usize = 2000;
pub const MAX_DESCRIPTION: usize = 500;
/// The event kinds an endpoint may ask for (the feed's item types).
pub const KINDS: &[&str] = &["consent.changed"];

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret(random: [u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

/// Whether an endpoint is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookState {
    /// Delivering (or waiting for its next item).
    Active,
    /// Several deliveries in a row failed; still retried on the schedule.
    Failing,
    /// Not delivered to: by an owner, or after failing for too long (with the reason).
    Disabled,
}

impl WebhookState {
    pub const fn key(self) -> &'static str {
        match self {
            WebhookState::Active => "active",
            WebhookState::Failing => "failing",
            WebhookState::Disabled => "disabled",
        }
    }
}

impl FromStr for WebhookState {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "active" => Ok(Self::Active),
            "failing" => Ok(Self::Failing),
            "disabled" => Ok(Self::Disabled),
            _ => Err(Invalid::new("state", "unknown_state")),
        }
    }
}

impl fmt::Display for WebhookState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Which items an endpoint receives: each list empty means every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookFilter {
    pub kinds: Vec<String>,
    pub purposes: Vec<String>,
    pub channels: Vec<String>,
    pub sources: Vec<String>,
}

/// A comma-separated list as its trimmed, non-empty, distinct items.
pub fn split_list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        if !out.iter().any(|x| x == item) {
            out.push(item.to_owned());
        }
    }
    out
}

impl WebhookFilter {
    /// Whether an item of `kind` about `purpose`, `channel` and `source` is sent.
    pub fn matches(&self, kind: &str, purpose: &str, channel: &str, source: &str) -> bool {
        let ok = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        ok(&self.kinds, kind)
            && ok(&self.purposes, purpose)
            && ok(&self.channels, channel)
            && ok(&self.sources, source)
    }

    /// Refuses unknown kinds, channels and sources (purposes are checked against the store).
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(k) = self.kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
            let _ = k;
            return Err(Invalid::new("kinds", "unknown_webhook_kind"));
        }
        if self
            .channels
            .iter()
            .any(|c| c.parse::<super::Channel>().is_err())
        {
            return Err(Invalid::new("channels", "unknown_channel"));
        }
        #[cfg(feature = "ssr")]
        if self
            .sources
            .iter()
            .any(|s| s.parse::<super::Source>().is_err())
        {
            return Err(Invalid::new("sources", "unknown_source"));
        }
        Ok(())
    }
}

/// A stored endpoint. Secrets are as stored (encrypted with the data key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub filter: WebhookFilter,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Unix ms until which the previous secret signs too.
    pub previous_until: Option<i64>,
    pub state: WebhookState,
    /// The chain position of the last item answered 2xx (the endpoint's cursor).
    pub position: i64,
    /// Failed attempts in a row.
    pub failures: i64,
    /// Unix ms before which the next attempt is not made.
    pub next_attempt_at: i64,
    pub failing_since: Option<i64>,
    pub disabled_reason: Option<String>,
    pub last_success_at: Option<i64>,
    pub created_at: i64,
    /// The third-party recipient (APPI register) this endpoint speaks to, if any: it then
    /// receives only what that recipient must hear ([`for_recipient`]), and each delivery
    /// answered 2xx is recorded as a [`RecipientNotification`].
    pub recipient: Option<String>,
}

/// Which items of a page a recipient's endpoint delivers, beyond its filter: for the people
/// whose data was provided to it, the changes of the sharing purposes it was given their data
/// under (withdrawals, and re-grants so its copy stays right; an erasure's withdrawals of those
/// purposes among them), and their erasures. Nothing about anyone else, nor their other purposes.
/// `provided`: the (subject, purpose) pairs of the recipient's provision records.
///
/// An erasure withdraws every consent not withdrawn yet; when it withdrew none of the provided
/// purposes (the person had withdrawn them all before), the first of its withdrawals in the page
/// is delivered instead, so the recipient still hears of the erasure.
pub fn for_recipient(page: &[FeedItem], provided: &[(SubjectId, PurposeKey)]) -> Vec<bool> {
    let of = |item: &FeedItem| {
        let e = &item.event;
        let subject = provided.iter().any(|(s, _)| *s == e.subject);
        let purpose = provided
            .iter()
            .any(|(s, p)| *s == e.subject && *p == e.purpose);
        let erasure = e.is_erasure(item.subject.erased_at.is_some());
        (subject, purpose, erasure)
    };
    let mut keep: Vec<bool> = page
        .iter()
        .map(|i| {
            let (_, purpose, _) = of(i);
            purpose
        })
        .collect();
    let mut told: Vec<SubjectId> = Vec::new();
    for (n, item) in page.iter().enumerate() {
        let (subject, _, erasure) = of(item);
        let who = item.event.subject;
        if !subject || !erasure || told.contains(&who) {
            continue;
        }
        told.push(who);
        let already = page
            .iter()
            .zip(&keep)
            .any(|(i, k)| *k && i.event.subject == who && of(i).2);
        if !already {
            keep[n] = true;
        }
    }
    keep
}

/// A delivery to a recipient's endpoint that was answered 2xx: that recipient was told of this
/// event about this person (append-only; recorded with the endpoint's cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientNotification {
    pub recipient: String,
    pub subject: SubjectId,
    /// The event's id (`webhook-id`).
    pub event_id: String,
    pub purpose: PurposeKey,
    /// The event's new state (`withdrawn`, `granted`…).
    pub state: ConsentState,
    /// Unix ms of the 2xx answer.
    pub delivered_at: i64,
    pub endpoint_id: String,
}

/// Whether the recipient was told that the person withdrew the sharing of a provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalDelivery {
    /// The withdrawal was delivered to the recipient's endpoint at this time (unix ms).
    Delivered(i64),
    /// The sharing was withdrawn after the provision, and no delivery is recorded yet.
    NotYet,
}

/// For a provision of the person's data to `recipient` under `purpose` at `provided_at`: the
/// latest withdrawal of that purpose learned after it, and whether the recipient was told of it
/// (the first 2xx recorded for that event). `None` when nothing was withdrawn since.
pub fn withdrawal_delivery(
    recipient: &str,
    purpose: &PurposeKey,
    provided_at: time::OffsetDateTime,
    events: &[ConsentEvent],
    notifications: &[RecipientNotification],
) -> Option<WithdrawalDelivery> {
    let latest = events
        .iter()
        .filter(|e| {
            e.purpose == *purpose
                && e.to == ConsentState::Withdrawn
                && e.learned_at() >= provided_at
        })
        .max_by_key(|e| e.learned_at())?;
    let id = latest.id.to_string();
    Some(
        notifications
            .iter()
            .filter(|n| n.recipient == recipient && n.event_id == id)
            .map(|n| n.delivered_at)
            .min()
            .map_or(WithdrawalDelivery::NotYet, WithdrawalDelivery::Delivered),
    )
}

/// One attempt to deliver one item, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub endpoint_id: String,
    /// Unix ms when the attempt was made.
    pub at: i64,
    /// The item's id (`webhook-id`).
    pub event_id: String,
    /// The item's cursor.
    pub position: i64,
    /// 1 for the first attempt of this item, then 2, 3…
    pub attempt: i64,
    /// The answer's HTTP status; `None` when there was none (refused, timed out…).
    pub status: Option<i64>,
    /// Why there was no answer, or why it was not a success.
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The answer's first bytes (at most [`ANSWER_KEPT`]).
    pub answer: String,
}

impl WebhookDelivery {
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(s) if (200..300).contains(&s))
    }
}

/// The first `max` bytes of `bytes` as text, cut on a character boundary.
pub fn answer_prefix(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What one round of deliveries to an endpoint did, recorded in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRound<'a> {
    /// Where the cursor moves: the last item answered 2xx (or past the items left out).
    pub position: i64,
    pub attempts: &'a [WebhookDelivery],
    /// The failure that ended the round, if one did.
    pub failure: Option<&'a AfterFailure>,
    /// For a recipient's endpoint: the items answered 2xx.
    pub notifications: &'a [RecipientNotification],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_every_value_of_an_empty_list() {
        let f = WebhookFilter {
            purposes: vec!["newsletter".into()],
            ..Default::default()
        };
        assert!(f.matches("consent.changed", "newsletter", "email", "api"));
        assert!(!f.matches("consent.changed", "offers", "email", "api"));
        assert_eq!(split_list(" a, b,,a "), vec!["a", "b"]);
        assert_eq!(new_secret([0; 32]).len(), 6 + 44);
    }
    fn item(
        subject: u128,
        purpose: &str,
        to: ConsentState,
        reason: Option<&str>,
        erased: bool,
        at: i64,
    ) -> FeedItem {
        use crate::domain::{Actor, Channel, Lang, Origin, Provenance, Source, Subject};
        let id = SubjectId(uuid::Uuid::from_u128(subject));
        FeedItem {
            cursor: at,
            kind: crate::domain::FeedKind::ConsentChanged,
            event: ConsentEvent {
                id: uuid::Uuid::from_u128(at as u128),
                subject: id,
                purpose: PurposeKey::parse(purpose).unwrap(),
                channel: Channel::Email,
                from: None,
                to,
                provenance: Provenance {
                    occurred_at: time::OffsetDateTime::from_unix_timestamp(at).unwrap(),
                    source: Source::Admin,
                    actor: Actor::System,
                    notice_version: None,
                    origin: Origin::default(),
                    idempotency_key: None,
                    reason: reason.map(str::to_owned),
                    campaign: None,
                    collection_point: None,
                    import_batch: None,
                    form_url: None,
                    proof_ref: None,
                },
                recorded_at: None,
            },
            subject: Subject {
                id,
                external_id: crate::domain::ExternalId::parse("x").unwrap(),
                email: None,
                phone: None,
                lang: Lang::Ja,
                jurisdiction: crate::domain::Jurisdiction::Jp,
                erased_at: erased.then_some(time::OffsetDateTime::UNIX_EPOCH),
                time_zone: None,
            },
        }
    }

    #[test]
    fn a_recipient_hears_its_purposes_and_erasures_of_the_people_provided_to_it_only() {
        use ConsentState::*;
        let sharing = PurposeKey::parse("third_party_sharing").unwrap();
        let provided = vec![(SubjectId(uuid::Uuid::from_u128(1)), sharing.clone())];
        let erasure = Some("erasure: asked");
        let page = vec![
            item(1, "third_party_sharing", Withdrawn, None, false, 1), // yes
            item(1, "third_party_sharing", Granted, None, false, 2),   // yes: a re-grant
            item(1, "newsletter", Withdrawn, None, false, 3),          // another purpose
            item(2, "third_party_sharing", Withdrawn, None, false, 4), // never provided
            item(2, "newsletter", Withdrawn, erasure, true, 5),        // never provided
            item(1, "newsletter", Withdrawn, Some("erasure: x"), false, 6), // not erased: an admin's reason
        ];
        assert_eq!(
            for_recipient(&page, &provided),
            [true, true, false, false, false, false]
        );
        // An erasure that withdrew a provided purpose is told through it alone…
        let page = vec![
            item(1, "newsletter", Withdrawn, erasure, true, 7),
            item(1, "third_party_sharing", Withdrawn, erasure, true, 8),
        ];
        assert_eq!(for_recipient(&page, &provided), [false, true]);
        // …and one that withdrew none of them, through its first withdrawal.
        let page = vec![
            item(1, "newsletter", Withdrawn, erasure, true, 9),
            item(1, "ad_targeting", Withdrawn, erasure, true, 10),
        ];
        assert_eq!(for_recipient(&page, &provided), [true, false]);
        assert!(
            page[0].event.is_erasure(true) && !page[0].event.is_erasure(false),
            "only once the person is erased"
        );
    }

    #[test]
    fn a_provision_shows_whether_the_withdrawal_after_it_was_delivered() {
        use ConsentState::*;
        let sharing = PurposeKey::parse("third_party_sharing").unwrap();
        let at = |s: i64| time::OffsetDateTime::from_unix_timestamp(s).unwrap();
        let events: Vec<ConsentEvent> = [
            item(1, "third_party_sharing", Withdrawn, None, false, 5),
            item(1, "third_party_sharing", Granted, None, false, 10),
            item(1, "third_party_sharing", Withdrawn, None, false, 20),
            item(1, "newsletter", Withdrawn, None, false, 30),
        ]
        .into_iter()
        .map(|i| i.event)
        .collect();
        let told = |event: u128, recipient: &str, ms: i64| RecipientNotification {
            recipient: recipient.into(),
            subject: SubjectId(uuid::Uuid::from_u128(1)),
            event_id: uuid::Uuid::from_u128(event).to_string(),
            purpose: sharing.clone(),
            state: Withdrawn,
            delivered_at: ms,
            endpoint_id: "wh_1".into(),
        };
        // Nothing withdrawn since a provision at 25.
        assert_eq!(
            withdrawal_delivery("a", &sharing, at(25), &events, &[]),
            None
        );
        // Withdrawn at 20 after a provision at 12: not yet told; told (another recipient's
        // delivery does not count; the first 2xx is the time).
        assert_eq!(
            withdrawal_delivery("a", &sharing, at(12), &events, &[told(20, "b", 1)]),
            Some(WithdrawalDelivery::NotYet)
        );
        assert_eq!(
            withdrawal_delivery(
                "a",
                &sharing,
                at(12),
                &events,
                &[told(20, "a", 900), told(20, "a", 800), told(5, "a", 100)]
            ),
            Some(WithdrawalDelivery::Delivered(800))
        );
        // The latest withdrawal counts: one told of the earlier one only is not told yet.
        assert_eq!(
            withdrawal_delivery("a", &sharing, at(1), &events, &[told(5, "a", 100)]),
            Some(WithdrawalDelivery::NotYet)
        );
    }
}
