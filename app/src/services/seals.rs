//! The hash chain's rules: seal what committed, and walk the whole chain to prove nothing
//! changed.

use std::collections::VecDeque;

use super::{Refusal, Services, now};
use crate::domain::seal::{
    Break, ChainLink, EventTally, GENESIS, RecordedTimes, Tombstone, from_hex, to_hex,
    tombstone_statement, verify_links,
};
use crate::signing::{Checkpoint, Verifier, check_checkpoint};

/// A late commit (several writers) may come this long after events sealed before it; an older
/// event found below the chain's head was inserted after the fact.
pub const LATE_WINDOW_SECS: i64 = 60;

/// The most events one sealing transaction takes.
pub const SEAL_BATCH: u64 = 500;

/// Whether a purged link's tombstone carries the signing key's signature over that link.
pub(crate) fn tombstone_is_genuine(verifier: &Verifier, link: &ChainLink, t: &Tombstone) -> bool {
    let Some(seal) = &link.seal else {
        return false;
    };
    let statement = tombstone_statement(
        link.position,
        link.seq,
        &to_hex(seal),
        &t.purged_at,
        &t.reason,
    );
    verifier.verify(statement.as_bytes(), &t.signature)
}

/// What `verify_chain` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Links checked.
    pub length: i64,
    /// The last good seal (hex).
    pub head: String,
    /// The first break, if any.
    pub broken: Option<Break>,
    /// Signed checkpoints found true (each one's seal is still the chain's at its length).
    pub checkpoints: i64,
    /// Events and current choices found suspect where the seals hold (the first
    /// [`MAX_FINDINGS`](crate::domain::seal::MAX_FINDINGS) of each kind): recorded times that go
    /// backwards along the chain, events that occurred after they were recorded or were written
    /// without a recorded time, and current choices that are not what the log says.
    pub findings: Vec<Break>,
}

/// Checkpoints to hold the chain against while walking it: the stored ones, read page by page, or
/// ones an outsider kept.
struct Witnesses<'a> {
    services: &'a Services,
    stored: bool,
    after: i64,
    buffer: VecDeque<Checkpoint>,
}

impl<'a> Witnesses<'a> {
    fn new(services: &'a Services, external: Option<&[Checkpoint]>) -> Self {
        let mut buffer: Vec<Checkpoint> = external.map(<[_]>::to_vec).unwrap_or_default();
        buffer.sort_by_key(|c| c.length);
        Self {
            services,
            stored: external.is_none(),
            after: 0,
            buffer: buffer.into(),
        }
    }

    /// The next checkpoint no longer than `upto` (all of them with `i64::MAX`).
    async fn next_upto(&mut self, upto: i64) -> Result<Option<Checkpoint>, Refusal> {
        if self.buffer.is_empty() && self.stored {
            let page = self.services.seals.checkpoints(self.after, 1_000).await?;
            if let Some(last) = page.last() {
                self.after = last.length;
            }
            // A short page is the last one: no more queries for the rest of the walk.
            self.stored = page.len() == 1_000;
            self.buffer.extend(page);
        }
        Ok(match self.buffer.front() {
            Some(c) if c.length <= upto => self.buffer.pop_front(),
            _ => None,
        })
    }
}

impl Services {
    /// The chain for the console: length, head and the latest checkpoint; with `verify`, a walk
    /// of all of it.
    /// One walk at a time in this process: another asked for meanwhile is told one is running.
    pub async fn chain_view(&self, verify: bool) -> Result<crate::view::ChainView, Refusal> {
        let _turn = if verify {
            Some(
                self.limiter
                    .walks
                    .try_enter()
                    .ok_or(Refusal::new("chain_walk_running"))?,
            )
        } else {
            None
        };
        let mut findings = Vec::new();
        let (length, head, checked, broken, checkpoints_checked) = if verify {
            let r = self.verify_chain().await?;
            let broken = r.broken.map(|b| b.to_string());
            findings = r.findings.iter().map(ToString::to_string).collect();
            (r.length, r.head, true, broken, r.checkpoints)
        } else {
            let (length, _) = self.seals.chain_extent().await?;
            let head = self
                .seals
                .chain_links((length - 1).max(0), 1)
                .await?
                .links
                .pop()
                .and_then(|l| l.seal)
                .map(|s| to_hex(&s))
                .unwrap_or_default();
            (length, head, false, None, 0)
        };
        let latest = self.seals.latest_checkpoint().await?;
        let verifier = self.signer.verifier();
        Ok(crate::view::ChainView {
            length,
            head,
            checked,
            broken,
            findings,
            checkpoints_checked,
            latest_checkpoint: latest.map(|c| {
                let at =
                    c.at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                (c.length, at)
            }),
            public_key: verifier.to_text(),
            key_id: verifier.id().to_owned(),
        })
    }

    /// Seals committed events not yet in the chain, at most [`SEAL_BATCH`]; returns how many.
    pub async fn seal_pending(&self) -> Result<u64, Refusal> {
        let sealed = self
            .seals
            .seal_pending(SEAL_BATCH as u32, LATE_WINDOW_SECS)
            .await?;
        if sealed > 0 {
            self.sealed.send_modify(|n| *n += sealed);
        }
        Ok(sealed)
    }

    /// Walks the chain from the start: recomputes every seal from the events as they are now,
    /// holds it against every stored signed checkpoint, and looks for old events that no seal
    /// covers.
    pub async fn verify_chain(&self) -> Result<ChainReport, Refusal> {
        self.verify_chain_against(None, &self.signer.verifier())
            .await
    }

    /// Like `verify_chain`, but against `external` checkpoints (kept outside, signed by
    /// `verifier`'s key) when given, instead of the stored ones.
    pub async fn verify_chain_against(
        &self,
        external: Option<&[Checkpoint]>,
        verifier: &Verifier,
    ) -> Result<ChainReport, Refusal> {
        // The projection is held against the log by the database, beside the walk.
        let seals = self.seals.clone();
        let projection = tokio::spawn(async move {
            seals
                .projection_mismatches(crate::domain::seal::MAX_FINDINGS as u32)
                .await
        });
        let mut times = RecordedTimes::new(self.seals.recorded_since_seq().await?);
        let walked = self.walk_chain(external, verifier, &mut times).await;
        let mismatches = projection.await.map_err(|_| Refusal::new("internal"))??;
        let mut report = walked?;
        report.findings = times.findings;
        report.findings.extend(mismatches);
        Ok(report)
    }

    /// The walk of `verify_chain_against`, checking the recorded times of the links that hold.
    async fn walk_chain(
        &self,
        external: Option<&[Checkpoint]>,
        verifier: &Verifier,
        times: &mut RecordedTimes,
    ) -> Result<ChainReport, Refusal> {
        let mut witnesses = Witnesses::new(self, external);
        let (mut prev, mut next, mut good_checkpoints) = (GENESIS, 1i64, 0i64);
        // The highest seq walked (and whether its event is there), and how many walked links
        // still have their event: what tells whether an event below the head is unsealed.
        let (mut max_seq, mut max_present, mut present) = (0i64, false, 0i64);
        // The events the pages read, when they read every one in a range of seqs.
        let mut tally = EventTally::default();
        let broken = |length: i64, head: [u8; 32], at: Break, checkpoints: i64| ChainReport {
            length,
            head: to_hex(&head),
            broken: Some(at),
            checkpoints,
            findings: Vec::new(),
        };
        // Pages are read ahead, several at once (positions are dense, so page k starts after
        // position k × walk_page), and each reader seals its page's events again as it reads
        // them, on its own core: what is left here is to compare. A page that ends short of its
        // range (the chain's end, or a gap) drops the guesses after it and the walk goes on from
        // its last position.
        let walk_page = self.settings.walk_page.max(1);
        let fetch = |after: i64| {
            let seals = self.seals.clone();
            tokio::spawn(async move { seals.chain_links(after, walk_page).await })
        };
        // One page more than cores: while the walk waits for the oldest page, every core still
        // has a later page to read (with as many pages as cores, one core sat idle whenever a
        // later page finished first).
        let ahead = std::thread::available_parallelism().map_or(3, |n| n.get().clamp(2, 8) + 1);
        let page = i64::from(walk_page);
        let mut pending: std::collections::VecDeque<_> = (0..ahead as i64)
            .map(|k| (k * page, fetch(k * page)))
            .collect();
        let genuine = |l: &ChainLink, t: &Tombstone| tombstone_is_genuine(verifier, l, t);
        while let Some((after, handle)) = pending.pop_front() {
            let read = handle.await.map_err(|_| Refusal::new("internal"))??;
            let links = read.links;
            let Some(last) = links.last().map(|l| l.position) else {
                break;
            };
            tally.add(read.events.as_ref());
            if last == after + page {
                let furthest = pending.back().map_or(last, |(a, _)| *a + page);
                pending.push_back((furthest, fetch(furthest)));
            } else {
                for (_, h) in pending.drain(..) {
                    h.abort();
                }
                pending.push_back((last, fetch(last)));
            }
            let first = next;
            for l in &links {
                present += i64::from(l.resealed.is_some());
                if l.seq > max_seq {
                    (max_seq, max_present) = (l.seq, l.resealed.is_some());
                }
            }
            match verify_links(prev, first, &links, &genuine) {
                Ok((p, n)) => (prev, next) = (p, n),
                Err(b) => return Ok(broken(b.good_links, b.last_good, b.at, good_checkpoints)),
            }
            times.check(&links);
            while let Some(cp) = witnesses.next_upto(next - 1).await? {
                let seal = usize::try_from(cp.length - first)
                    .ok()
                    .and_then(|i| links.get(i))
                    .and_then(|l| l.seal)
                    .map(|s| to_hex(&s));
                if let Err(at) = check_checkpoint(&cp, seal.as_deref(), verifier) {
                    return Ok(broken(next - 1, prev, at, good_checkpoints));
                }
                good_checkpoints += 1;
            }
        }
        // Checkpoints longer than the chain: links were removed from its end.
        if let Some(cp) = witnesses.next_upto(i64::MAX).await? {
            let at = check_checkpoint(&cp, None, verifier).unwrap_err();
            return Ok(broken(next - 1, prev, at, good_checkpoints));
        }
        // Every walked link below the head holds a distinct event below it: when the events
        // below the head are no more than those, none is unsealed. Only when there are more
        // (a late commit the sealer has not reached yet, or an insertion after the fact) are the
        // events searched one by one for those no seal covers. The pages counted the events
        // below the head when their ranges joined up; else they are counted now.
        let sealed_below = present - i64::from(max_present);
        let events_below = match tally.below(max_seq, max_present) {
            Some(n) => n,
            None => self.seals.events_below(max_seq).await?,
        };
        let unsealed = if events_below > sealed_below {
            let before = now() - time::Duration::seconds(LATE_WINDOW_SECS);
            self.seals.unsealed_below(max_seq, before, 1).await?
        } else {
            Vec::new()
        };
        Ok(ChainReport {
            length: next - 1,
            head: to_hex(&prev),
            broken: unsealed.first().map(|&seq| Break::Unsealed { seq }),
            checkpoints: good_checkpoints,
            findings: Vec::new(),
        })
    }

    /// Signs and stores a checkpoint of the chain when the last one is older than the configured
    /// interval and the chain grew since. The links added since the last checkpoint are verified
    /// first, so a checkpoint never vouches for a chain already broken.
    pub async fn checkpoint_if_due(&self) -> Result<Option<Checkpoint>, Refusal> {
        let at = now();
        let latest = self.latest_genuine_checkpoint().await?;
        let interval = time::Duration::seconds(self.settings.checkpoint_interval_secs);
        if latest.as_ref().is_some_and(|l| at - l.at < interval) {
            return Ok(None);
        }
        let (length, _) = self.seals.chain_extent().await?;
        let (mut prev, mut next) = match &latest {
            Some(l) if l.length >= length => return Ok(None),
            Some(l) => (
                from_hex(&l.head).ok_or(Refusal::new("internal"))?,
                l.length + 1,
            ),
            None if length == 0 => return Ok(None),
            None => (GENESIS, 1),
        };
        while next <= length {
            let links = self.seals.chain_links(next - 1, 10_000).await?.links;
            let links = &links[..links.len().min((length - next + 1) as usize)];
            if links.is_empty() {
                break;
            }
            let verifier = self.signer.verifier();
            let genuine = |l: &ChainLink, t: &Tombstone| tombstone_is_genuine(&verifier, l, t);
            match verify_links(prev, next, links, &genuine) {
                Ok((p, n)) => (prev, next) = (p, n),
                Err(b) => {
                    tracing::error!(problem = %b.at, "the chain is broken: no checkpoint signed");
                    return Ok(None);
                }
            }
        }
        let checkpoint = Checkpoint::sign(
            &self.signer,
            &self.settings.public_url,
            next - 1,
            &to_hex(&prev),
            at,
        );
        Ok(self
            .seals
            .add_checkpoint(&checkpoint)
            .await?
            .then_some(checkpoint))
    }

    /// The longest stored checkpoint signed by this instance's key: what the next checkpoint
    /// builds on. A stored checkpoint that is not (forged, or written with another key) is
    /// passed over and logged, never built on: a checkpoint vouching for a chain from a forged
    /// head would vouch for whatever was rewritten below it. `verify` names it.
    async fn latest_genuine_checkpoint(&self) -> Result<Option<Checkpoint>, Refusal> {
        let verifier = self.signer.verifier();
        let Some(latest) = self.seals.latest_checkpoint().await? else {
            return Ok(None);
        };
        if latest.is_signed_by(&verifier) {
            return Ok(Some(latest));
        }
        tracing::error!(
            length = latest.length,
            "the latest stored checkpoint is not signed by this key: passed over"
        );
        // Rare (the store was tampered with): the stored checkpoints are read from the start
        // for the longest genuine one.
        let (mut genuine, mut after) = (None, 0);
        loop {
            let page = self.seals.checkpoints(after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.length;
            genuine = page
                .into_iter()
                .rfind(|c| c.is_signed_by(&verifier))
                .or(genuine);
        }
        Ok(genuine)
    }

    /// Stored checkpoints longer than `after_length`, shortest first (for export).
    pub async fn checkpoints(
        &self,
        after_length: i64,
        limit: u32,
    ) -> Result<Vec<Checkpoint>, Refusal> {
        Ok(self.seals.checkpoints(after_length, limit).await?)
    }
}
