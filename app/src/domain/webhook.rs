//! Webhook endpoints (issue 32): where the consent log is pushed, what each one receives, when a
//! failed delivery is tried again, and which addresses may never be called. Pure: the clock, the
//! randomness and the network are the callers'.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

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

/// When failed deliveries are tried again, and when an endpoint stops being delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the 1st, 2nd… failure in a row (ms); the last repeats.
    pub schedule_ms: Vec<u64>,
    /// Failures in a row that mark the endpoint failing.
    pub failing_after: i64,
    /// An endpoint failing this long (ms since its first failure in a row) is disabled.
    pub disable_after_ms: i64,
}

/// The default schedule (Standard Webhooks' example): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, then every 24 h; disabled after 3 days of failures in a row.
pub const DEFAULT_SCHEDULE_MS: [u64; 9] = [
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
    86_400_000,
];

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule_ms: DEFAULT_SCHEDULE_MS.to_vec(),
            failing_after: 3,
            disable_after_ms: 3 * 24 * 3600 * 1000,
        }
    }
}

/// What a failure does to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    pub failures: i64,
    pub state: WebhookState,
    pub next_attempt_at: i64,
    pub failing_since: i64,
    pub disabled_reason: Option<String>,
}

impl RetryPolicy {
    /// After a failed attempt at `now` (ms), the endpoint having failed `failures` times in a row
    /// before it since `failing_since`. `jitter` in [0, 1) spreads the wait by up to ±10 %.
    /// A `410 Gone` answer disables at once (the receiver asked to stop).
    pub fn after_failure(
        &self,
        failures: i64,
        failing_since: Option<i64>,
        now: i64,
        jitter: f64,
        status: Option<i64>,
    ) -> AfterFailure {
        let failures = failures + 1;
        let since = failing_since.unwrap_or(now);
        let step = usize::try_from(failures - 1).unwrap_or(0);
        let base = self
            .schedule_ms
            .get(step)
            .or(self.schedule_ms.last())
            .copied()
            .unwrap_or(5_000) as f64;
        let wait = (base * (0.9 + 0.2 * jitter.clamp(0.0, 1.0))) as i64;
        let (state, reason) = if status == Some(410) {
            (WebhookState::Disabled, Some("gone".to_owned()))
        } else if now - since >= self.disable_after_ms {
            (WebhookState::Disabled, Some("failing_too_long".to_owned()))
        } else if failures >= self.failing_after {
            (WebhookState::Failing, None)
        } else {
            (WebhookState::Active, None)
        };
        AfterFailure {
            failures,
            state,
            next_attempt_at: now + wait.max(1),
            failing_since: since,
            disabled_reason: reason,
        }
    }
}

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

    #[test]
    fn failures_back_off_mark_failing_then_disable() {
        let p = RetryPolicy::default();
        let a = p.after_failure(0, None, 1_000, 0.5, Some(500));
        assert_eq!(
            (a.failures, a.state, a.next_attempt_at, a.failing_since),
            (1, WebhookState::Active, 6_000, 1_000)
        );
        let b = p.after_failure(2, Some(1_000), 2_000, 0.0, None);
        assert_eq!(b.state, WebhookState::Failing);
        assert_eq!(b.next_attempt_at, 2_000 + 1_620_000, "30 min less 10 %");
        let late = p.after_failure(40, Some(0), 3 * 24 * 3600 * 1000, 0.0, None);
        assert_eq!(late.state, WebhookState::Disabled);
        assert_eq!(late.disabled_reason.as_deref(), Some("failing_too_long"));
        assert_eq!(
            p.after_failure(0, None, 5, 0.0, Some(410)).state,
            WebhookState::Disabled
        );
        // The default schedule spans at least three days.
        let total: u64 = DEFAULT_SCHEDULE_MS.iter().sum();
        assert!(total >= 3 * 24 * 3600 * 1000, "{total}");
    }

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
