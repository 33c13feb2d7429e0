//! Walking the chain: the links as a store reads them, what can break, and the walk that finds
//! the first break.

use super::{EventFields, GENESIS, Seal, seal_canonical, write_canonical_fields};

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
    /// An event recorded earlier than one sealed before it in the chain (more than
    /// [`RECORDED_SLACK_SECS`] earlier): written with a backdated recorded time.
    RecordedBackwards {
        position: i64,
        seq: i64,
        /// The event before it in the chain that was recorded last.
        after_seq: i64,
    },
    /// An event that claims to have occurred after it was recorded (by more than
    /// [`CLOCK_SLACK_SECS`]).
    OccurredAfterRecorded { position: i64, seq: i64 },
    /// An event without a recorded time, written after Doui began keeping them (the database
    /// gives every event one: this one was written behind its back).
    NotRecorded { position: i64, seq: i64 },
    /// A current choice (the `consents` projection) that is not what the event log says: its
    /// last event is not its own, says something else, or is not the last; or the log has
    /// events for a consent with no current choice.
    Projection {
        subject: uuid::Uuid,
        purpose: String,
        channel: String,
        /// The event the projection names as its last, or (no current choice) one of the
        /// consent's events.
        seq: Option<i64>,
    },
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
            Break::RecordedBackwards {
                position,
                seq,
                after_seq,
            } => write!(
                f,
                "event seq {seq} (chain position {position}) was recorded before event seq \
                 {after_seq}, which the chain holds before it: its recorded time was backdated"
            ),
            Break::OccurredAfterRecorded { position, seq } => write!(
                f,
                "event seq {seq} (chain position {position}) says it occurred after it was recorded"
            ),
            Break::NotRecorded { position, seq } => write!(
                f,
                "event seq {seq} (chain position {position}) has no recorded time, though it was \
                 written after Doui began keeping them (inserted behind the database's back)"
            ),
            Break::Projection {
                subject,
                purpose,
                channel,
                seq,
            } => {
                write!(
                    f,
                    "the current choice of subject {subject} for {purpose} by {channel} is not \
                     what the event log says"
                )?;
                match seq {
                    Some(seq) => write!(f, " (event seq {seq})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// How far along the chain an event's recorded time may lie behind one sealed before it:
/// several writers commit out of order (a late commit is sealed after events that committed
/// before it, within the sealer's late window), and a database clock may be set back a little.
pub const RECORDED_SLACK_SECS: i64 = 60;

/// How far after its recorded time an event may say it occurred: the application's clock, which
/// dates the change, and the database's, which records it, may differ by this much.
pub const CLOCK_SLACK_SECS: i64 = 60;

/// The most findings a walk lists (the first ones along the chain).
pub const MAX_FINDINGS: usize = 100;

/// The recorded times along the chain, checked link by link as a walk goes: each event written
/// since Doui keeps them has one, it never lies far behind the latest before it in the chain,
/// and the event does not claim to have occurred after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedTimes {
    /// Events with a seq above this were written since Doui keeps recorded times.
    recorded_since_seq: i64,
    /// The latest recorded time so far along the chain, and its event's seq.
    latest: Option<(time::OffsetDateTime, i64)>,
    /// What was found, in chain order (at most [`MAX_FINDINGS`]).
    pub findings: Vec<Break>,
}

impl RecordedTimes {
    /// Every event with a seq above `recorded_since_seq` must have a recorded time.
    pub fn new(recorded_since_seq: i64) -> Self {
        Self {
            recorded_since_seq,
            ..Self::default()
        }
    }

    /// Checks the next links of the chain, in order (links whose event is gone are skipped).
    pub fn check(&mut self, links: &[ChainLink]) {
        let slack = time::Duration::seconds(RECORDED_SLACK_SECS);
        let skew = time::Duration::seconds(CLOCK_SLACK_SECS);
        for l in links {
            let Some(r) = &l.resealed else { continue };
            let (position, seq) = (l.position, l.seq);
            let Some(recorded) = r.recorded_at else {
                if seq > self.recorded_since_seq {
                    self.found(Break::NotRecorded { position, seq });
                }
                continue;
            };
            if r.occurred_at > recorded + skew {
                self.found(Break::OccurredAfterRecorded { position, seq });
            }
            match self.latest {
                Some((latest, after_seq)) if recorded < latest - slack => {
                    self.found(Break::RecordedBackwards {
                        position,
                        seq,
                        after_seq,
                    });
                }
                Some((latest, _)) if recorded <= latest => {}
                _ => self.latest = Some((recorded, seq)),
            }
        }
    }

    fn found(&mut self, b: Break) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(b);
        }
    }
}

/// One stored link of the chain, with the event it names sealed again as it is stored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub position: i64,
    pub seq: i64,
    /// The stored seal (`None`: it is not 64 hex digits, so the seals were tampered with).
    pub seal: Option<Seal>,
    /// The event the link names, as it is stored now, sealed again (`None`: the event is gone,
    /// or no longer reads as an event).
    pub resealed: Option<Resealed>,
    /// The event was purged by retention: what the purge signed in its place.
    pub tombstone: Option<Tombstone>,
}

/// A page of the chain as a store reads it: its links, and the events it read for them when it
/// read every event in a range of seqs (see [`EventsRead`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainPage {
    pub links: Vec<ChainLink>,
    pub events: Option<EventsRead>,
}

/// Every event (sealed or not) whose seq is above `after` and at most `upto`, `count` of them,
/// as a page's reader read them; `after` is `None` from the lowest seq on. Pages whose ranges
/// join up end to end have counted every event below the chain's head between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsRead {
    pub after: Option<i64>,
    pub upto: i64,
    pub count: i64,
}

/// The events a walk's pages read, added up in walk order while their ranges join up from the
/// lowest seq on: then the walk knows how many events lie below its highest seq without counting
/// the table again. One page that read no range, or whose range does not start where the last
/// ended (links sealed out of seq order across pages), leaves the sum unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTally {
    upto: Option<i64>,
    count: i64,
    joined: bool,
}

impl Default for EventTally {
    fn default() -> Self {
        Self {
            upto: None,
            count: 0,
            joined: true,
        }
    }
}

impl EventTally {
    /// Adds the next page's events, in walk order.
    pub fn add(&mut self, events: Option<&EventsRead>) {
        match events {
            Some(e) if self.joined && e.after == self.upto && Some(e.upto) > e.after => {
                self.upto = Some(e.upto);
                self.count += e.count;
            }
            _ => self.joined = false,
        }
    }

    /// How many events have a seq below `below`, when the pages read every one up to it
    /// (`at_below`: whether the event at `below` itself is there, counted with them).
    pub fn below(&self, below: i64, at_below: bool) -> Option<i64> {
        (self.joined && self.upto == Some(below)).then(|| self.count - i64::from(at_below))
    }
}

/// An event sealed again by the reader of its link, after the seal stored at the position before
/// (see [`seal_before`]): each link is then checked on its own, so a store seals a page's events
/// as it reads them, into one reused buffer, and a walk only compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    /// The seal it was sealed after (`None`: no seal was read at the position before).
    pub after: Option<Seal>,
    /// The result: what the link's stored seal must be.
    pub seal: Seal,
    /// The event's times as stored (what `RecordedTimes` checks).
    pub occurred_at: time::OffsetDateTime,
    pub recorded_at: Option<time::OffsetDateTime>,
}

/// The seal a link at `position` is sealed after: [`GENESIS`] for the first, else the one stored
/// at the position before, given the link read just before it (position and decoded seal).
pub fn seal_before(position: i64, previous: Option<(i64, Option<Seal>)>) -> Option<Seal> {
    match previous {
        _ if position == 1 => Some(GENESIS),
        Some((p, seal)) if p == position - 1 => seal,
        _ => None,
    }
}

/// The event with these stored fields, sealed again at `seq` after `after`; `buf` holds its
/// canonical bytes meanwhile.
pub fn reseal(buf: &mut Vec<u8>, after: Option<Seal>, seq: i64, e: &EventFields<'_>) -> Resealed {
    buf.clear();
    write_canonical_fields(buf, seq, e);
    Resealed {
        after,
        seal: seal_canonical(&after.unwrap_or(GENESIS), buf),
        occurred_at: e.occurred_at,
        recorded_at: e.recorded_at,
    }
}

/// What retention leaves of a purged event: when and why, signed with the checkpoint key over
/// the link it replaces, so the chain still verifies and nobody without the key can delete an
/// event and pass it off as purged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// RFC 3339.
    pub purged_at: String,
    pub reason: String,
    /// Ed25519 over `tombstone_statement`, base64url.
    pub signature: String,
}

/// The bytes a tombstone's signature covers.
pub fn tombstone_statement(
    position: i64,
    seq: i64,
    seal: &str,
    purged_at: &str,
    reason: &str,
) -> String {
    format!("doui-tombstone-v1\n{position}\n{seq}\n{seal}\n{purged_at}\n{reason}\n")
}

/// Decides whether a tombstone is genuine (its signature is the signing key's).
pub type TombstoneCheck<'a> = &'a (dyn Fn(&ChainLink, &Tombstone) -> bool + Sync);

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
    tombstone_ok: TombstoneCheck<'_>,
) -> Result<(Seal, i64), Broken> {
    walk(prev, expected_position, links, tombstone_ok).map_err(|(at, last_good, next)| Broken {
        at,
        last_good,
        good_links: next - 1,
    })
}

fn walk(
    mut prev: Seal,
    mut expected_position: i64,
    links: &[ChainLink],
    tombstone_ok: TombstoneCheck<'_>,
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
        let stored = link.seal.ok_or((
            Break::SealMismatch {
                position: link.position,
            },
            prev,
            expected_position,
        ))?;
        let Some(resealed) = &link.resealed else {
            // Purged by retention: the signed tombstone vouches for the seal it replaces.
            if let Some(t) = &link.tombstone
                && tombstone_ok(link, t)
            {
                prev = stored;
                expected_position += 1;
                continue;
            }
            return Err((
                Break::Missing {
                    position: link.position,
                    seq: link.seq,
                },
                prev,
                expected_position,
            ));
        };
        // Sealed again after the seal this walk holds (a page's first link was read by another
        // query than the link before it), the event must give the stored seal.
        if resealed.after != Some(prev) || resealed.seal != stored {
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
    use super::super::{ConsentEvent, from_hex, seal, to_hex};
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
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            reconfirm: false,
        };
        match decide(None, change, Uuid::from_u128(1000 + n)) {
            crate::domain::Decision::Record(e) => e,
            _ => unreachable!(),
        }
    }

    /// No tombstone is genuine.
    const NONE: TombstoneCheck<'static> = &|_, _| false;

    /// `e` at `seq`, sealed again from its stored fields after `after`.
    fn resealed(after: Seal, seq: i64, e: &ConsentEvent) -> Resealed {
        let actor = e.provenance.actor.to_string();
        reseal(
            &mut Vec::new(),
            Some(after),
            seq,
            &EventFields::of(e, &actor),
        )
    }

    /// The event at position 2 (seq 2) is not what was sealed there.
    const ALTERED_2: Break = Break::Altered {
        position: 2,
        seq: 2,
    };

    /// Where a walk from the start, with no genuine tombstone, breaks first.
    fn first_break(links: &[ChainLink]) -> Option<Break> {
        verify_links(GENESIS, 1, links, NONE).err().map(|b| b.at)
    }

    fn chain(events: &[ConsentEvent]) -> Vec<ChainLink> {
        let mut prev = GENESIS;
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let seq = i as i64 + 1;
                let again = resealed(prev, seq, e);
                assert_eq!(again.seal, seal(&prev, seq, e), "stored fields seal alike");
                prev = again.seal;
                ChainLink {
                    position: seq,
                    seq,
                    seal: Some(prev),
                    resealed: Some(again),
                    tombstone: None,
                }
            })
            .collect()
    }

    #[test]
    fn pages_whose_ranges_join_up_count_the_events_below_the_head() {
        let read = |after, upto, count| EventsRead { after, upto, count };
        let mut tally = EventTally::default();
        tally.add(Some(&read(None, 4, 5)));
        tally.add(Some(&read(Some(4), 9, 5)));
        // Five events up to seq 9 and five more, the one at 9 among them.
        assert_eq!(tally.below(9, true), Some(9));
        assert_eq!(tally.below(9, false), Some(10));
        // Not up to the head: unknown.
        assert_eq!(tally.below(12, true), None);
        let no_walk = EventTally::default();
        assert_eq!(no_walk.below(0, false), None);
        // A page read from elsewhere than where the last ended leaves a stretch uncounted (or
        // counted twice), and a page that read no range leaves its own.
        for odd in [
            Some(read(Some(3), 12, 3)),
            Some(read(Some(5), 12, 3)),
            Some(read(None, 12, 3)),
            Some(read(Some(9), 9, 0)),
            None,
        ] {
            let mut t = tally;
            t.add(odd.as_ref());
            t.add(Some(&read(Some(12), 14, 2)));
            assert_eq!(t.below(14, true), None, "{odd:?}");
        }
        // The first page must start from the lowest seq.
        let mut late_start = EventTally::default();
        late_start.add(Some(&read(Some(0), 4, 4)));
        assert_eq!(late_start.below(4, true), None);
    }

    /// Issue 30, item 8: recorded times that go backwards along the chain, events that occurred
    /// after they were recorded, and events written since without one are named.
    #[test]
    fn h08_recorded_times_are_checked_along_the_chain() {
        let at = |secs: i64| datetime!(2026-11-01 09:00:00 UTC) + time::Duration::seconds(secs);
        let link = |position: i64, occurred: i64, recorded: Option<i64>| ChainLink {
            position,
            seq: position + 10,
            seal: Some([0; 32]),
            resealed: Some(Resealed {
                after: Some([0; 32]),
                seal: [0; 32],
                occurred_at: at(occurred),
                recorded_at: recorded.map(at),
            }),
            tombstone: None,
        };
        // Written before the upgrade (seqs up to 11) without; late commits a little behind.
        let mut times = RecordedTimes::new(11);
        times.check(&[
            link(1, 0, None),
            link(2, 100, Some(100)),
            link(3, 90, Some(90)),
            link(4, 0, Some(200)),
        ]);
        assert_eq!(times.findings, []);
        // A year back, at the head; a change dated after its writing; one without a time.
        times.check(&[
            link(5, -400 * 86_400, Some(-365 * 86_400)),
            link(6, 300, Some(201)),
            link(7, 202, None),
            link(8, 130, Some(140)),
        ]);
        assert_eq!(
            times.findings,
            [
                Break::RecordedBackwards {
                    position: 5,
                    seq: 15,
                    after_seq: 14
                },
                Break::OccurredAfterRecorded {
                    position: 6,
                    seq: 16
                },
                Break::NotRecorded {
                    position: 7,
                    seq: 17
                },
                Break::RecordedBackwards {
                    position: 8,
                    seq: 18,
                    after_seq: 16
                },
            ]
        );
        assert!(times.findings[0].to_string().contains("event seq 15"));
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        let (head, next) = verify_links(GENESIS, 1, &links, NONE).unwrap();
        assert_eq!(next, 4);
        assert_eq!(Some(head), links[2].seal);
        assert_eq!(from_hex(to_hex(&head)), Some(head));
        assert_eq!(from_hex(to_hex(&head).to_uppercase()), Some(head));
        assert_eq!(from_hex("g".repeat(64)), None);
        assert_eq!(from_hex("ab"), None);
        // A walk may start anywhere, from the seal stored before.
        assert_eq!(
            verify_links(links[0].seal.unwrap(), 2, &links[1..], NONE),
            Ok((head, 4))
        );
    }

    #[test]
    fn a_link_holds_only_after_the_seal_the_walk_holds() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        // From a seal other than the one stored before (a checkpoint's head, when the chain
        // below it was rewritten): the link does not hold.
        assert_eq!(
            verify_links([7; 32], 2, &links[1..], NONE).map_err(|b| b.at),
            Err(ALTERED_2)
        );
        // Nothing read before it to seal after.
        let mut orphan = links.clone();
        orphan[1].resealed = orphan[1].resealed.map(|r| Resealed { after: None, ..r });
        assert_eq!(first_break(&orphan), Some(ALTERED_2));
        // A stored seal that is not a seal.
        let mut malformed = links.clone();
        malformed[2].seal = None;
        assert_eq!(
            first_break(&malformed),
            Some(Break::SealMismatch { position: 3 })
        );
        let s = Some([1; 32]);
        assert_eq!(seal_before(1, None), Some(GENESIS));
        assert_eq!(seal_before(1, Some((0, s))), Some(GENESIS));
        assert_eq!(seal_before(5, Some((4, s))), s);
        assert_eq!(seal_before(5, Some((4, None))), None);
        assert_eq!(seal_before(5, Some((3, s))), None, "a gap");
        assert_eq!(seal_before(5, None), None);
    }

    #[test]
    fn editing_deleting_or_reordering_is_found_at_its_position() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        let mut edited = links.clone();
        edited[1].resealed = Some(resealed(
            links[0].seal.unwrap(),
            2,
            &event(2, Some("changed")),
        ));
        assert_eq!(first_break(&edited), Some(ALTERED_2));
        let mut deleted = links.clone();
        deleted[2].resealed = None;
        assert_eq!(
            first_break(&deleted),
            Some(Break::Missing {
                position: 3,
                seq: 3
            })
        );
        let mut swapped = links.clone();
        // Each event where the other was (with its own seq: a row moved as it is).
        let (a, b) = (event(1, None), event(2, None));
        swapped[0].resealed = Some(resealed(GENESIS, 2, &b));
        swapped[1].resealed = Some(resealed(links[0].seal.unwrap(), 1, &a));
        assert_eq!(
            first_break(&swapped),
            Some(Break::Altered {
                position: 1,
                seq: 1
            })
        );
        let gap: Vec<_> = links.iter().filter(|l| l.position != 2).cloned().collect();
        assert_eq!(first_break(&gap), Some(Break::Gap { position: 2 }));
        let broken = verify_links(GENESIS, 1, &edited, NONE).unwrap_err();
        assert_eq!(broken.good_links, 1);
        assert_eq!(Some(broken.last_good), links[0].seal);
    }

    #[test]
    fn a_purged_event_verifies_only_with_a_genuine_tombstone() {
        let links = chain(&[event(1, None), event(2, None), event(3, None)]);
        let mut purged = links.clone();
        purged[1].resealed = None;
        purged[1].tombstone = Some(Tombstone {
            purged_at: "2030-01-01T00:00:00Z".into(),
            reason: "retention".into(),
            signature: "genuine".into(),
        });
        let genuine: TombstoneCheck<'_> =
            &|l, t| t.signature == "genuine" && l.seal == links[1].seal;
        assert_eq!(
            verify_links(GENESIS, 1, &purged, genuine).unwrap().1,
            4,
            "the next link still chains to the purged one's seal"
        );
        assert_eq!(
            first_break(&purged),
            Some(Break::Missing {
                position: 2,
                seq: 2
            })
        );
        assert!(
            tombstone_statement(
                2,
                2,
                &to_hex(&links[1].seal.unwrap()),
                "2030-01-01T00:00:00Z",
                "retention"
            )
            .starts_with("doui-tombstone-v1\n2\n2\n")
        );
    }
}
