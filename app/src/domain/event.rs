use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, net::IpAddr, str::FromStr};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Channel, ConsentState, Invalid, PurposeKey, SubjectId};

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    PreferenceCenter,
    Link,
    OneClick,
    Admin,
    Api,
    Gpc,
    Import,
    Reply,
    /// A consent that reached the end of its validity (R59), recorded by Doui itself.
    Expiry,
    /// The end of a pause the person chose (a withdrawal with an end), recorded by Doui itself.
    Pause,
}

impl Source {
    pub const ALL: [Source; 10] = [
        Source::PreferenceCenter,
        Source::Link,
        Source::OneClick,
        Source::Admin,
        Source::Api,
        Source::Gpc,
        Source::Import,
        Source::Reply,
        Source::Expiry,
        Source::Pause,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            Source::PreferenceCenter => "preference_center",
            Source::Link => "link",
            Source::OneClick => "one_click",
            Source::Admin => "admin",
            Source::Api => "api",
            Source::Gpc => "gpc",
            Source::Import => "import",
            Source::Reply => "reply",
            Source::Expiry => "expiry",
            Source::Pause => "pause",
        }
    }
}

impl FromStr for Source {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Source::ALL
            .into_iter()
            .find(|x| x.key() == s)
            .ok_or(Invalid::new("source", "unknown_source"))
    }
}

/// Who acted: the subject themself, an admin, an API key, or Doui itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Actor {
    Subject,
    Admin(String),
    ApiKey(String),
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Subject => f.write_str("subject"),
            Actor::System => f.write_str("system"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
        }
    }
}

impl FromStr for Actor {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.split_once(':') {
            None if s == "subject" => Ok(Actor::Subject),
            None if s == "system" => Ok(Actor::System),
            Some(("admin", id)) if !id.is_empty() => Ok(Actor::Admin(id.into())),
            Some(("api_key", id)) if !id.is_empty() => Ok(Actor::ApiKey(id.into())),
            _ => Err(Invalid::new("actor", "unknown_actor")),
        }
    }
}

/// The request a change arrived with, reduced to what evidence needs: the network (IPv4 /24,
/// IPv6 /48, never the full address) and the user agent (at most 512 characters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip: ip.map(truncate_ip),
            user_agent: user_agent
                .map(|ua| {
                    ua.chars()
                        .filter(|c| !c.is_control())
                        .take(512)
                        .collect::<String>()
                })
                .filter(|ua| !ua.is_empty()),
        }
    }
}

/// The network an address belongs to: IPv4 to its /24, IPv6 to its /48 (IPv4-mapped IPv6 as IPv4).
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => truncate_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
    }
}

/// When, how and by whom a change was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub occurred_at: OffsetDateTime,
    pub source: Source,
    pub actor: Actor,
    pub notice_version: Option<String>,
    pub origin: Origin,
    pub idempotency_key: Option<String>,
    /// Why an admin acted (mandatory for admins) or other context of the change.
    pub reason: Option<String>,
    /// The campaign or list id a link carried, when the change came from a message.
    pub campaign: Option<String>,
    /// The key of the collection point where the consent was given (changes collected elsewhere:
    /// written through the API or an import).
    pub collection_point: Option<String>,
    /// The import batch that wrote the change.
    pub import_batch: Option<String>,
    /// The URL of the form the person used, as the sender reports it.
    pub form_url: Option<String>,
    /// A reference to the sender's own proof of the change (a record id in its systems).
    pub proof_ref: Option<String>,
}

/// Checks a client-supplied idempotency key: 1 to 128 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> Result<(), Invalid> {
    if (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Invalid::new("idempotency_key", "malformed_idempotency_key"))
    }
}

/// The key of one consent's change, derived from the key of a request that changes several
/// (the request's key, checked first, then the purpose and channel). Cut on a character
/// boundary, so any text is safe here.
pub fn consent_idempotency_key(
    request_key: &str,
    purpose: &PurposeKey,
    channel: Channel,
) -> String {
    let mut end = request_key.len().min(96);
    while !request_key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}:{purpose}:{channel}", &request_key[..end])
}

/// A request to set one consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub subject: SubjectId,
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub to: ConsentState,
    pub provenance: Provenance,
    /// A grant that re-confirms a consent already granted, under a notice that changed
    /// materially since (R31): recorded as an event even though the state stays `granted`.
    pub reconfirm: bool,
}

impl Change {
    /// Whether this change, reported by another system, would come before the consent's latest
    /// change (`latest`, the time it occurred): refused, since history is not rewritten by a
    /// late arrival. Only changes collected elsewhere (the API, an import) are held to it: a
    /// person acting now is never refused because two clocks differ.
    pub fn arrives_late(&self, latest: Option<time::OffsetDateTime>) -> bool {
        matches!(self.provenance.source, Source::Api | Source::Import)
            && latest.is_some_and(|latest| self.provenance.occurred_at < latest)
    }

    /// What an idempotency key is bound to: the same key with another request is refused.
    pub fn fingerprint(&self) -> String {
        format!("{}/{}/{}", self.purpose, self.channel, self.to)
    }
}

/// One append-only record of a change to a consent, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub subject: SubjectId,
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub from: Option<ConsentState>,
    pub to: ConsentState,
    pub provenance: Provenance,
    /// When Doui wrote the event: the database's clock at the insert (the database refuses any
    /// other value), sealed with the event. `occurred_at` says when the person acted, as the
    /// writer claims it; `recorded_at` cannot be backdated. `None` for an event not yet stored
    /// (as `decide` makes it) and for events stored before Doui kept it.
    #[serde(default)]
    pub recorded_at: Option<OffsetDateTime>,
}

/// How an erasure's withdrawals begin their reason (`erasure: <the reason given>`): they are the
/// events that tell downstream systems, a recipient of the person's data among them, that the
/// person was erased.
pub const ERASURE_REASON: &str = "erasure: ";

impl ConsentEvent {
    /// Whether this event is one of the withdrawals an erasure wrote. `erased`: whether its
    /// subject is erased now (an admin's reason that merely starts the same way is not one).
    pub fn is_erasure(&self, erased: bool) -> bool {
        erased
            && self.to == ConsentState::Withdrawn
            && self
                .provenance
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with(ERASURE_REASON))
    }

    /// When Doui learned of it: when it was written, or (for events stored before Doui kept
    /// that) when it occurred.
    pub fn learned_at(&self) -> OffsetDateTime {
        self.recorded_at.unwrap_or(self.provenance.occurred_at)
    }
}

/// What applying a change did. (Short-lived, one per change: not worth boxing the event.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The consent changed; this event records it.
    Recorded(ConsentEvent),
    /// The consent already had this value: nothing was written.
    Unchanged(ConsentState),
}

/// What the rules decide for a change, given the consent's current choice.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Unchanged(ConsentState),
    Record(ConsentEvent),
}

/// The rule for one change: setting a consent to the value it already has writes nothing
/// (except a re-confirmation of a grant under a changed notice); anything else is an event from
/// the current choice (or "not chosen") to the new one.
pub fn decide(current: Option<ConsentState>, change: Change, event_id: Uuid) -> Decision {
    let reconfirms = change.reconfirm && change.to == ConsentState::Granted;
    if current == Some(change.to) && !reconfirms {
        return Decision::Unchanged(change.to);
    }
    let mut provenance = change.provenance;
    provenance.occurred_at = to_micros(provenance.occurred_at);
    Decision::Record(ConsentEvent {
        id: event_id,
        subject: change.subject,
        purpose: change.purpose,
        channel: change.channel,
        from: current,
        to: change.to,
        provenance,
        recorded_at: None,
    })
}

/// Event times are kept to the microsecond (what both databases store), so an event reads back
/// exactly as it was written.
pub fn to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000)
        .expect("a smaller nanosecond is valid")
}

/// The current choices implied by a sequence of events (in the order they were written).
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a ConsentEvent>,
) -> BTreeMap<(SubjectId, PurposeKey, Channel), ConsentState> {
    let mut state = BTreeMap::new();
    for e in events {
        state.insert((e.subject, e.purpose.clone(), e.channel), e.to);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn provenance() -> Provenance {
        Provenance {
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            source: Source::PreferenceCenter,
            actor: Actor::Subject,
            notice_version: Some("1".into()),
            origin: Origin::default(),
            idempotency_key: None,
            reason: None,
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        }
    }

    #[test]
    fn a_consent_key_is_cut_on_a_character_boundary() {
        let purpose = PurposeKey::parse("newsletter").unwrap();
        let key = format!("{}é", "k".repeat(95));
        assert_eq!(
            consent_idempotency_key(&key, &purpose, Channel::Email),
            format!("{}:newsletter:email", "k".repeat(95))
        );
        assert_eq!(
            consent_idempotency_key("r1", &purpose, Channel::Sms),
            "r1:newsletter:sms"
        );
    }

    fn change(subject: u128, purpose: &str, channel: Channel, to: ConsentState) -> Change {
        Change {
            subject: SubjectId(Uuid::from_u128(subject)),
            purpose: PurposeKey::parse(purpose).unwrap(),
            channel,
            to,
            provenance: provenance(),
            reconfirm: false,
        }
    }

    #[test]
    fn ip_addresses_are_truncated() {
        assert_eq!(
            truncate_ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 77))),
            "203.0.113.0/24"
        );
        let v6: Ipv6Addr = "2001:db8:abcd:12::1".parse().unwrap();
        assert_eq!(truncate_ip(IpAddr::V6(v6)), "2001:db8:abcd::/48");
        let mapped: Ipv6Addr = "::ffff:192.0.2.9".parse().unwrap();
        assert_eq!(truncate_ip(IpAddr::V6(mapped)), "192.0.2.0/24");
    }

    #[test]
    fn user_agent_is_bounded_and_cleaned() {
        let o = Origin::new(None, Some(&format!("a\nb{}", "x".repeat(600))));
        assert_eq!(o.user_agent.as_ref().unwrap().chars().count(), 512);
        assert!(!o.user_agent.unwrap().contains('\n'));
        assert_eq!(Origin::new(None, Some("")).user_agent, None);
    }

    #[test]
    fn actors_and_sources_round_trip() {
        for a in [
            Actor::Subject,
            Actor::System,
            Actor::Admin("7".into()),
            Actor::ApiKey("k".into()),
        ] {
            assert_eq!(a.to_string().parse::<Actor>(), Ok(a));
        }
        for s in Source::ALL {
            assert_eq!(s.key().parse::<Source>(), Ok(s));
        }
        assert!("admin:".parse::<Actor>().is_err());
    }

    #[test]
    fn setting_the_same_value_is_unchanged() {
        let c = change(1, "newsletter", Channel::Email, ConsentState::Granted);
        assert_eq!(
            decide(Some(ConsentState::Granted), c, Uuid::nil()),
            Decision::Unchanged(ConsentState::Granted)
        );
    }

    #[test]
    fn a_first_choice_is_recorded_from_not_chosen() {
        let c = change(1, "newsletter", Channel::Email, ConsentState::Withdrawn);
        match decide(None, c, Uuid::from_u128(9)) {
            Decision::Record(e) => {
                assert_eq!(e.from, None);
                assert_eq!(e.to, ConsentState::Withdrawn);
                assert_eq!(e.id, Uuid::from_u128(9));
            }
            d => panic!("expected an event, got {d:?}"),
        }
    }

    #[test]
    fn event_times_are_kept_to_the_microsecond() {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::nanoseconds(1_234_567_891);
        let mut c = change(1, "newsletter", Channel::Email, ConsentState::Granted);
        c.provenance.occurred_at = t;
        let Decision::Record(e) = decide(None, c, Uuid::nil()) else {
            panic!()
        };
        assert_eq!(e.provenance.occurred_at.nanosecond(), 234_567_000);
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(check_idempotency_key("abc-123").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key(&"k".repeat(129)).is_err());
    }

    fn op() -> impl Strategy<Value = (u128, usize, usize, bool)> {
        (0u128..3, 0usize..2, 0usize..3, any::<bool>())
    }

    proptest! {
        /// Applying any sequence of changes through `decide` and folding the events gives the same
        /// state as a plain map of last values, and no event ever has from == to.
        #[test]
        fn fold_of_decided_events_is_the_last_value(ops in proptest::collection::vec(op(), 0..60)) {
            let purposes = ["newsletter", "ad_targeting"];
            let mut events = Vec::new();
            let mut model = BTreeMap::new();
            for (i, (s, p, c, on)) in ops.into_iter().enumerate() {
                let ch = change(s, purposes[p], Channel::ALL[c], ConsentState::from_bool(on));
                let key = (ch.subject, ch.purpose.clone(), ch.channel);
                let current = fold(&events).get(&key).copied();
                if let Decision::Record(e) = decide(current, ch, Uuid::from_u128(i as u128)) {
                    prop_assert_ne!(e.from, Some(e.to));
                    events.push(e);
                }
                model.insert(key, ConsentState::from_bool(on));
            }
            prop_assert_eq!(fold(&events), model);
        }
    }
}
