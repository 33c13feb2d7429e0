//! Tamper evidence: every event is sealed into a hash chain. A seal covers the event's canonical
//! bytes (its sequence number and every field) and the previous seal, so editing, deleting,
//! inserting or reordering any event breaks every seal from there on.
//!
//! Here: the canonical bytes, seals and their hex; `walk.rs`: the links as a store reads them and
//! the walk that finds the first break.

mod walk;

pub use walk::{
    Break, Broken, CLOCK_SLACK_SECS, ChainLink, ChainPage, EventTally, EventsRead, MAX_FINDINGS,
    RECORDED_SLACK_SECS, RecordedTimes, Resealed, Tombstone, TombstoneCheck, reseal, seal_before,
    tombstone_statement, verify_links,
};

use sha2::{Digest, Sha256};

use super::ConsentEvent;

/// One seal: SHA-256, 32 bytes.
pub type Seal = [u8; 32];

/// The seal before the first event.
pub const GENESIS: Seal = [0; 32];

/// An event's values as its store holds them, borrowed: what its seal covers. A chain walk
/// writes the canonical bytes of millions of stored events straight from these, without
/// building (and allocating) a [`ConsentEvent`] for each; sealing writes them from the event.
/// The texts are the stored forms, as bytes (what the seal covers; a walk has no need to check
/// that they are UTF-8): the keys of purpose, channel, states and source, and the actor as it
/// displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFields<'a> {
    pub id: uuid::Uuid,
    pub subject: uuid::Uuid,
    pub occurred_at: time::OffsetDateTime,
    pub purpose: &'a [u8],
    pub channel: &'a [u8],
    pub from: Option<&'a [u8]>,
    pub to: &'a [u8],
    pub source: &'a [u8],
    pub actor: &'a [u8],
    pub notice_version: Option<&'a [u8]>,
    pub origin_ip: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub idempotency_key: Option<&'a [u8]>,
    pub reason: Option<&'a [u8]>,
    pub campaign: Option<&'a [u8]>,
    /// Where the consent was collected, and the sender's evidence of it (`doui-event-v3`).
    pub collection_point: Option<&'a [u8]>,
    pub import_batch: Option<&'a [u8]>,
    pub form_url: Option<&'a [u8]>,
    pub proof_ref: Option<&'a [u8]>,
    /// When the event was written (`None`: written before Doui kept it).
    pub recorded_at: Option<time::OffsetDateTime>,
}

impl EventFields<'_> {
    /// Whether the event carries any of the fields of a change collected elsewhere (collection
    /// point, import batch, form URL, proof reference): its canonical bytes are then v3.
    pub fn is_collected(&self) -> bool {
        self.collection_point.is_some()
            || self.import_batch.is_some()
            || self.form_url.is_some()
            || self.proof_ref.is_some()
    }
}

impl<'a> EventFields<'a> {
    /// The fields of `e`, whose actor displays as `actor`.
    pub fn of(e: &'a ConsentEvent, actor: &'a str) -> Self {
        let p = &e.provenance;
        let text = |t: &'a Option<String>| t.as_deref().map(str::as_bytes);
        Self {
            id: e.id,
            subject: e.subject.0,
            occurred_at: p.occurred_at,
            purpose: e.purpose.as_str().as_bytes(),
            channel: e.channel.key().as_bytes(),
            from: e.from.map(|s| s.key().as_bytes()),
            to: e.to.key().as_bytes(),
            source: p.source.key().as_bytes(),
            actor: actor.as_bytes(),
            notice_version: text(&p.notice_version),
            origin_ip: text(&p.origin.ip),
            user_agent: text(&p.origin.user_agent),
            idempotency_key: text(&p.idempotency_key),
            reason: text(&p.reason),
            campaign: text(&p.campaign),
            collection_point: text(&p.collection_point),
            import_batch: text(&p.import_batch),
            form_url: text(&p.form_url),
            proof_ref: text(&p.proof_ref),
            recorded_at: e.recorded_at,
        }
    }
}

/// The bytes a seal covers: a version tag, then each field length-prefixed (so no two different
/// events share bytes), in a fixed order. Times are RFC 3339 in UTC to the microsecond.
///
/// The version depends on what the event carries, so every event sealed by an earlier Doui keeps
/// its bytes and its seal:
/// - `doui-event-v1`: no recorded time (written before Doui kept it): the v1 fields.
/// - `doui-event-v2`: a recorded time and none of the fields of a change collected elsewhere:
///   the v1 fields, then the recorded time.
/// - `doui-event-v3`: any of collection point, import batch, form URL or proof reference (a
///   change written through the API or an import): the v1 fields, the recorded time (missing
///   when absent), then those four fields in that order. Removing all four from a sealed v3
///   event changes its tag, so it no longer matches its seal either.
pub fn canonical_bytes(seq: i64, e: &ConsentEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(320);
    write_canonical(&mut out, seq, e);
    out
}

/// `canonical_bytes` into `out` (cleared first).
pub fn write_canonical(out: &mut Vec<u8>, seq: i64, e: &ConsentEvent) {
    let actor = e.provenance.actor.to_string();
    out.clear();
    write_canonical_fields(out, seq, &EventFields::of(e, &actor));
}

/// The canonical bytes of stored fields, appended to `out` without other allocations.
pub fn write_canonical_fields(out: &mut Vec<u8>, seq: i64, e: &EventFields<'_>) {
    /// Appends a length-prefixed field (`None`: missing, not empty).
    fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
        match value {
            None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
            Some(v) => {
                out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                out.extend_from_slice(v);
            }
        }
    }
    fn text(s: &[u8]) -> Option<&[u8]> {
        Some(s)
    }
    let collected = e.is_collected();
    out.extend_from_slice(match (collected, e.recorded_at) {
        (true, _) => b"doui-event-v3\0",
        (false, None) => b"doui-event-v1\0",
        (false, Some(_)) => b"doui-event-v2\0",
    });
    out.extend_from_slice(&seq.to_be_bytes());
    let mut id = [0u8; 36];
    field(
        out,
        text(e.id.hyphenated().encode_lower(&mut id).as_bytes()),
    );
    field(
        out,
        text(e.subject.hyphenated().encode_lower(&mut id).as_bytes()),
    );
    field(out, text(e.purpose));
    field(out, text(e.channel));
    field(out, e.from);
    field(out, text(e.to));
    field(
        out,
        text(super::rfc3339::Rfc3339Text::new(e.occurred_at).as_bytes()),
    );
    field(out, text(e.source));
    field(out, text(e.actor));
    for value in [
        e.notice_version,
        e.origin_ip,
        e.user_agent,
        e.idempotency_key,
        e.reason,
        e.campaign,
    ] {
        field(out, value);
    }
    if collected {
        match e.recorded_at {
            Some(at) => field(out, text(super::rfc3339::Rfc3339Text::new(at).as_bytes())),
            None => field(out, None),
        }
        for value in [e.collection_point, e.import_batch, e.form_url, e.proof_ref] {
            field(out, value);
        }
    } else if let Some(at) = e.recorded_at {
        field(out, text(super::rfc3339::Rfc3339Text::new(at).as_bytes()));
    }
}

/// The seal of an event after `prev`.
pub fn seal(prev: &Seal, seq: i64, event: &ConsentEvent) -> Seal {
    seal_with(&mut Vec::new(), prev, seq, event)
}

/// `seal`, reusing `buf` for the canonical bytes.
pub fn seal_with(buf: &mut Vec<u8>, prev: &Seal, seq: i64, event: &ConsentEvent) -> Seal {
    write_canonical(buf, seq, event);
    seal_canonical(prev, buf)
}

/// The seal of an event, given its canonical bytes, after `prev`.
pub fn seal_canonical(prev: &Seal, canonical: &[u8]) -> Seal {
    let mut h = Sha256::new();
    h.update(b"doui-seal-v1\0");
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Each byte's value as a hex digit (either case), or `INVALID`.
const NIBBLES: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};
const INVALID: u8 = 0xff;

pub fn to_hex(seal: &Seal) -> String {
    let mut out = String::with_capacity(64);
    for b in seal {
        out.push(HEX_DIGITS[usize::from(b >> 4)] as char);
        out.push(HEX_DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// A seal from its 64 hex digits (either case), as text or as the bytes a store read. Decoded by
/// table, without a branch per digit: a chain walk decodes one per link, and digits of a hash are
/// as unpredictable as branches get.
pub fn from_hex(text: impl AsRef<[u8]>) -> Option<Seal> {
    let bytes: &[u8; 64] = text.as_ref().try_into().ok()?;
    let mut out = [0u8; 32];
    let mut seen = 0u8;
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = (NIBBLES[usize::from(pair[0])], NIBBLES[usize::from(pair[1])]);
        seen |= hi | lo;
        *o = (hi << 4) | lo;
    }
    // A valid digit's value fits in four bits; INVALID does not.
    (seen <= 0xf).then_some(out)
}

#[cfg(test)]
fn tests_support_event() -> ConsentEvent {
    use crate::domain::{
        Actor, Channel, ConsentState, Origin, Provenance, PurposeKey, Source, SubjectId,
    };
    ConsentEvent {
        id: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        subject: SubjectId(uuid::Uuid::from_u128(7)),
        purpose: PurposeKey::parse("newsletter").unwrap(),
        channel: Channel::Sms,
        from: Some(ConsentState::Granted),
        to: ConsentState::Withdrawn,
        provenance: Provenance {
            occurred_at: time::macros::datetime!(2026-11-01 09:00:00.123456 UTC),
            source: Source::Admin,
            actor: Actor::Admin("a1".into()),
            notice_version: Some("1.0".into()),
            origin: Origin {
                ip: Some("192.0.2.0".into()),
                user_agent: None,
            },
            idempotency_key: Some("k".into()),
            reason: Some("同意 reason".into()),
            campaign: Some("".into()),
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        },
        recorded_at: None,
    }
}

/// Canonical bytes and seals: what every stored chain depends on.
#[cfg(test)]
mod tests {
    #[test]
    fn seals_read_and_write_as_hex() {
        use super::{Seal, from_hex, to_hex};
        let seal: Seal = std::array::from_fn(|i| (i * 8 + 3) as u8);
        let hex = to_hex(&seal);
        assert_eq!(
            hex,
            "030b131b232b333b434b535b636b737b838b939ba3abb3bbc3cbd3dbe3ebf3fb"
        );
        assert_eq!(from_hex(&hex), Some(seal));
        assert_eq!(from_hex(hex.to_uppercase()), Some(seal));
        // Any one digit that is not hex, anywhere: no seal.
        for bad in ["g", "G", "/", ":", "@", "`", " ", "\0", "\u{e9}"] {
            for at in [0, 1, 31, 62] {
                let text = format!("{}{bad}{}", &hex[..at], &hex[at + bad.len()..]);
                assert_eq!(text.len(), 64);
                assert_eq!(from_hex(&text), None, "{text:?}");
            }
        }
        assert_eq!(from_hex(&hex[..63]), None);
        assert_eq!(from_hex(format!("{hex}0")), None);
    }

    #[test]
    fn a_missing_value_and_an_empty_one_seal_differently() {
        use super::canonical_bytes;
        let mut a = super::tests_support_event();
        a.provenance.reason = None;
        let mut b = a.clone();
        b.provenance.reason = Some(String::new());
        assert_ne!(canonical_bytes(1, &a), canonical_bytes(1, &b));
        assert_ne!(
            canonical_bytes(1, &a),
            canonical_bytes(2, &a),
            "the position in the log counts"
        );
    }

    /// What a store reads back (texts as stored) seals like the event it wrote.
    #[test]
    fn stored_fields_seal_like_the_event() {
        let e = super::tests_support_event();
        let stored = super::EventFields {
            id: e.id,
            subject: e.subject.0,
            occurred_at: time::macros::datetime!(2026-11-01 09:00:00.123456 UTC),
            purpose: b"newsletter",
            channel: b"sms",
            from: Some(b"granted"),
            to: b"withdrawn",
            source: b"admin",
            actor: b"admin:a1",
            notice_version: Some(b"1.0"),
            origin_ip: Some(b"192.0.2.0"),
            user_agent: None,
            idempotency_key: Some(b"k"),
            reason: Some("同意 reason".as_bytes()),
            campaign: Some(b""),
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
            recorded_at: None,
        };
        let mut bytes = Vec::new();
        super::write_canonical_fields(&mut bytes, 42, &stored);
        assert_eq!(bytes, super::canonical_bytes(42, &e));
        let other = super::EventFields {
            actor: b"admin:a2",
            ..stored
        };
        let mut changed = Vec::new();
        super::write_canonical_fields(&mut changed, 42, &other);
        assert_ne!(changed, bytes);
    }

    /// An event with a recorded time seals its time too (v2), with the stored fields as with the
    /// event; one without keeps the v1 bytes (below).
    #[test]
    fn a_recorded_time_is_sealed() {
        let mut e = super::tests_support_event();
        let v1 = super::canonical_bytes(42, &e);
        e.recorded_at = Some(time::macros::datetime!(2026-11-01 09:00:01.5 UTC));
        let v2 = super::canonical_bytes(42, &e);
        assert!(v2.starts_with(b"doui-event-v2\0"));
        assert_eq!(v1[14..], v2[14..v1.len()], "the v1 fields, then the time");
        let mut later = e.clone();
        later.recorded_at = Some(time::macros::datetime!(2026-11-01 09:00:02.5 UTC));
        assert_ne!(super::canonical_bytes(42, &later), v2);
        let actor = e.provenance.actor.to_string();
        let mut stored = Vec::new();
        super::write_canonical_fields(&mut stored, 42, &super::EventFields::of(&e, &actor));
        assert_eq!(stored, v2);
    }

    /// An event collected elsewhere seals its collection point, import batch, form URL and proof
    /// reference (v3); the same event without them keeps its v2 bytes, and each of the four,
    /// changed or removed, changes the bytes.
    #[test]
    fn a_collected_event_seals_its_collection_point() {
        let mut e = super::tests_support_event();
        e.recorded_at = Some(time::macros::datetime!(2026-11-01 09:00:01.5 UTC));
        let v2 = super::canonical_bytes(42, &e);
        assert!(v2.starts_with(b"doui-event-v2\0"));
        e.provenance.collection_point = Some("checkout".into());
        let v3 = super::canonical_bytes(42, &e);
        assert!(v3.starts_with(b"doui-event-v3\0"));
        assert_eq!(
            v2[14..],
            v3[14..v2.len()],
            "the v2 fields, then the new ones"
        );
        let actor = e.provenance.actor.to_string();
        let mut stored = Vec::new();
        super::write_canonical_fields(&mut stored, 42, &super::EventFields::of(&e, &actor));
        assert_eq!(stored, v3);
        let variants: [fn(&mut crate::domain::Provenance); 5] = [
            |p| p.collection_point = Some("store-1".into()),
            |p| p.collection_point = None,
            |p| p.import_batch = Some("b1".into()),
            |p| p.form_url = Some("https://shop.example/".into()),
            |p| p.proof_ref = Some("crm:42".into()),
        ];
        for change in variants {
            let mut other = e.clone();
            change(&mut other.provenance);
            assert_ne!(super::canonical_bytes(42, &other), v3);
        }
        // Without a recorded time (an event v3 never is, but its bytes are still defined).
        let mut old = e.clone();
        old.recorded_at = None;
        assert!(super::canonical_bytes(42, &old).starts_with(b"doui-event-v3\0"));
        assert_ne!(super::canonical_bytes(42, &old), v3);
    }

    /// The canonical bytes never change: chains sealed by earlier versions keep verifying.
    #[test]
    fn canonical_bytes_are_stable_across_versions() {
        use sha2::Digest;
        let bytes = super::canonical_bytes(42, &super::tests_support_event());
        assert_eq!(
            super::to_hex(&sha2::Sha256::digest(&bytes).into()),
            "a29ef8fe7f2556cce4f7f1e496959a14a3bd7d245686c83018f5ec273145d0b7"
        );
    }
}
