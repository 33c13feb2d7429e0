//! Tamper evidence: every event is sealed into a hash chain. A seal covers the event's canonical
//! bytes (its sequence number and every field) and the previous seal, so editing, deleting,
//! inserting or reordering any event breaks every seal from there on.

use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;

use super::ConsentEvent;

/// One seal: SHA-256, 32 bytes.
pub type Seal = [u8; 32];

/// The seal before the first event.
pub const GENESIS: Seal = [0; 32];

/// The bytes a seal covers: a version tag, then each field length-prefixed (so no two different
/// events share bytes), in a fixed order. Times are RFC 3339 in UTC to the microsecond.
pub fn canonical_bytes(seq: i64, e: &ConsentEvent) -> Vec<u8> {
    let p = &e.provenance;
    let when = p.occurred_at.format(&Rfc3339).unwrap_or_default();
    let owned: Vec<Option<String>> = vec![
        Some(e.id.to_string()),
        Some(e.subject.0.to_string()),
        Some(e.purpose.to_string()),
        Some(e.channel.key().to_owned()),
        e.from.map(|s| s.key().to_owned()),
        Some(e.to.key().to_owned()),
        Some(when),
        Some(p.source.key().to_owned()),
        Some(p.actor.to_string()),
        p.notice_version.clone(),
        p.origin.ip.clone(),
        p.origin.user_agent.clone(),
        p.idempotency_key.clone(),
        p.reason.clone(),
        p.campaign.clone(),
    ];
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"doui-event-v1\0");
    out.extend_from_slice(&seq.to_be_bytes());
    for field in owned {
        match field {
            // A missing value and an empty one differ.
            None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
            Some(v) => {
                out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                out.extend_from_slice(v.as_bytes());
            }
        }
    }
    out
}

/// The seal of an event after `prev`.
pub fn seal(prev: &Seal, seq: i64, event: &ConsentEvent) -> Seal {
    let mut h = Sha256::new();
    h.update(b"doui-seal-v1\0");
    h.update(prev);
    h.update(canonical_bytes(seq, event));
    h.finalize().into()
}

pub fn to_hex(seal: &Seal) -> String {
    seal.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Seal> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

/// What a walk of the chain found first wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The event at this position is not what was sealed (edited, or another event moved there).
    Altered { position: i64, seq: i64 },
    /// The sealed event is gone.
    Missing { position: i64, seq: i64 },
    /// The stored seal is not a seal at all (the seals were tampered with).
    SealMismatch { position: i64 },
    /// Positions are not 1, 2, 3…
    Gap { position: i64 },
    /// An event older than the chain's head that no seal covers (inserted after the fact).
    Unsealed { seq: i64 },
    /// A checkpoint whose signature is not the signing key's (forged, altered, or another key).
    CheckpointSignature { length: i64 },
    /// The chain has another seal at a signed checkpoint's length: history below it was rewritten
    /// (even if every seal was recomputed).
    Rewritten { length: i64 },
    /// The chain is shorter than a signed checkpoint: links were removed.
    Truncated { length: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { position, seq } => {
                write!(
                    f,
                    "event seq {seq} (chain position {position}) was altered or replaced"
                )
            }
            Break::Missing { position, seq } => {
                write!(f, "event seq {seq} (chain position {position}) was deleted")
            }
            Break::SealMismatch { position } => {
                write!(
                    f,
                    "the seal stored at chain position {position} is malformed"
                )
            }
            Break::Gap { position } => write!(f, "chain position {position} is missing"),
            Break::CheckpointSignature { length } => write!(
                f,
                "the checkpoint at length {length} is not signed by this key"
            ),
            Break::Rewritten { length } => write!(
                f,
                "the chain was rewritten: its seal at length {length} differs from the signed checkpoint"
            ),
            Break::Truncated { length } => write!(
                f,
                "the chain is shorter than the signed checkpoint at length {length}: links were removed"
            ),
            Break::Unsealed { seq } => {
                write!(
                    f,
                    "event seq {seq} is older than the chain's head but not sealed (inserted)"
                )
            }
        }
    }
}

/// One stored link of the chain, with the event it names as it is now (if it still exists).
#[derive(Debug, Clone)]
pub struct ChainLink {
    pub position: i64,
    pub seq: i64,
    pub seal: String,
    pub event: Option<ConsentEvent>,
}

/// Where a walk stopped: the first break, the last good seal and how many links were good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub at: Break,
    pub last_good: Seal,
    pub good_links: i64,
}

/// Walks links in position order from `prev` (the seal before `expected_position`); returns the
/// last seal and the next position, or where it broke.
pub fn verify_links(
    prev: Seal,
    expected_position: i64,
    links: &[ChainLink],
) -> Result<(Seal, i64), Broken> {
    walk(prev, expected_position, links).map_err(|(at, last_good, next)| Broken {
        at,
        last_good,
        good_links: next - 1,
    })
}

fn walk(
    mut prev: Seal,
    mut expected_position: i64,
    links: &[ChainLink],
) -> Result<(Seal, i64), (Break, Seal, i64)> {
    for link in links {
        if link.position != expected_position {
            return Err((
                Break::Gap {
                    position: expected_position,
                },
                prev,
                expected_position,
            ));
        }
        let Some(event) = &link.event else {
            return Err((
                Break::Missing {
                    position: link.position,
                    seq: link.seq,
                },
                prev,
                expected_position,
            ));
        };
        let recomputed = seal(&prev, link.seq, event);
        let stored = from_hex(&link.seal).ok_or((
            Break::SealMismatch {
                position: link.position,
            },
            prev,
            expected_position,
        ))?;
        if recomputed != stored {
            return Err((
                Break::Altered {
                    position: link.position,
                    seq: link.seq,
                },
                prev,
                expected_position,
            ));
        }
        prev = stored;
        expected_position += 1;
    }
    Ok((prev, expected_position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Actor, Change, Channel, ConsentState, Origin, Provenance, PurposeKey, Source, SubjectId,
        decide,
    };
    use time::macros::datetime;
    use uuid::Uuid;

    fn event(n: u128, reason: Option<&str>) -> ConsentEvent {
        let change = Change {
            subject: SubjectId(Uuid::from_u128(n)),
            purpose: PurposeKey::parse("newsletter").unwrap(),
            channel: Channel::Email,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: datetime!(2026-11-01 09:00:00.123456 UTC),
                source: Source::PreferenceCenter,
                actor: Actor::Subject,
                notice_version: Some("1.0".into()),
                origin: Origin::default(),
                idempotency_key: None,
                reason: reason.map(str::to_owned),
                campaign: None,
            },
        };
        match decide(None, change, Uuid::from_u128(1000 + n)) {
            crate::domain::Decision::Record(e) => e,
            _ => unreachable!(),
        }
    }

    fn chain(events: &[ConsentEvent]) -> Vec<ChainLink> {
        let mut prev = GENESIS;
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let seq = i as i64 + 1;
                prev = seal(&prev, seq, e);
                ChainLink {
                    position: seq,
                    seq,
                    seal: to_hex(&prev),
                    event: Some(e.clone()),
                }
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        let (head, next) = verify_links(GENESIS, 1, &links).unwrap();
        assert_eq!(next, 4);
        assert_eq!(to_hex(&head), links[2].seal);
        assert_eq!(from_hex(&to_hex(&head)), Some(head));
    }

    #[test]
    fn editing_deleting_or_reordering_is_found_at_its_position() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        let mut edited = links.clone();
        edited[1].event = Some(event(2, Some("changed")));
        assert_eq!(
            verify_links(GENESIS, 1, &edited).map_err(|b| b.at),
            Err(Break::Altered {
                position: 2,
                seq: 2
            })
        );
        let mut deleted = links.clone();
        deleted[2].event = None;
        assert_eq!(
            verify_links(GENESIS, 1, &deleted).map_err(|b| b.at),
            Err(Break::Missing {
                position: 3,
                seq: 3
            })
        );
        let mut swapped = links.clone();
        let (a, b) = (swapped[0].event.clone(), swapped[1].event.clone());
        swapped[0].event = b;
        swapped[1].event = a;
        assert_eq!(
            verify_links(GENESIS, 1, &swapped).map_err(|b| b.at),
            Err(Break::Altered {
                position: 1,
                seq: 1
            })
        );
        let gap: Vec<_> = links.iter().filter(|l| l.position != 2).cloned().collect();
        assert_eq!(
            verify_links(GENESIS, 1, &gap).map_err(|b| b.at),
            Err(Break::Gap { position: 2 })
        );
        let broken = verify_links(GENESIS, 1, &edited).unwrap_err();
        assert_eq!(broken.good_links, 1);
        assert_eq!(to_hex(&broken.last_good), links[0].seal);
    }

    #[test]
    fn a_missing_value_and_an_empty_one_seal_differently() {
        let a = event(1, None);
        let b = event(1, Some(""));
        assert_ne!(canonical_bytes(1, &a), canonical_bytes(1, &b));
        assert_ne!(
            canonical_bytes(1, &a),
            canonical_bytes(2, &a),
            "the position in the log counts"
        );
    }
}
