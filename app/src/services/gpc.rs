//! Global Privacy Control: a browser's `Sec-GPC: 1` is a request to opt out of the sale and
//! sharing of the person's data and of cross-context advertising (CCPA 1798.120, 11 CCR 7025).
//! When the person is known (a link or a session), Doui records it as their opt-out.

use std::collections::HashMap;

use super::{Refusal, Services, Visitor, now};
use crate::{
    domain::{Change, ConsentState, Provenance, Source, effective},
    store::{Applied, EventCursor, EventFilter},
};

/// When Doui's handling of GPC last changed (`/.well-known/gpc.json`'s `lastUpdate`).
pub const GPC_LAST_UPDATE: &str = "2026-11-29";

/// Whether a request carries the signal: the header is exactly `1` (R13).
pub fn gpc_signal(value: Option<&str>) -> bool {
    value == Some("1")
}

impl Services {
    /// Opts the visitor out of every purpose GPC covers (ad targeting, third-party sharing) on
    /// every channel where it is in effect, with source `gpc` (R16, R18: the signal wins over an
    /// earlier opt-in). A grant the person made after an earlier GPC opt-out is their informed
    /// choice (7025(c)(3)) and stays; a request without the signal opts nobody back in (R19).
    pub async fn honour_gpc(
        &self,
        visitor: &Visitor,
        mut provenance: Provenance,
    ) -> Result<Vec<Applied>, Refusal> {
        let subject = &visitor.subject;
        let purposes = self.store.purposes().await?;
        let covered: Vec<_> = purposes.iter().filter(|p| p.kind.gpc_applies()).collect();
        if covered.is_empty() {
            return Ok(Vec::new());
        }
        let consents = self.store.consents(subject.id).await?;
        // The latest earlier GPC opt-out of each consent.
        let filter = EventFilter {
            subject: Some(subject.id),
            source: Some(Source::Gpc),
            ..EventFilter::default()
        };
        let mut last_gpc = HashMap::new();
        for (_, e) in self
            .console
            .events(&filter, EventCursor::NewestBelow(i64::MAX), 500)
            .await?
        {
            last_gpc
                .entry((e.purpose.clone(), e.channel))
                .or_insert(e.provenance.occurred_at);
        }
        provenance.occurred_at = now();
        provenance.source = Source::Gpc;
        provenance.reason = Some("Sec-GPC: 1".into());
        provenance.idempotency_key = None;
        let mut changes = Vec::new();
        for p in covered {
            for &channel in &p.channels {
                let record = consents
                    .iter()
                    .find(|r| r.purpose == p.key && r.channel == channel);
                let choice = record.map(|r| r.state);
                if !effective(p.mode_for(subject.jurisdiction), choice) {
                    continue;
                }
                let chose_after_gpc = record.is_some_and(|r| {
                    r.source != Source::Gpc
                        && last_gpc
                            .get(&(p.key.clone(), channel))
                            .is_some_and(|at| *at <= r.updated_at)
                });
                if chose_after_gpc {
                    continue;
                }
                changes.push(Change {
                    subject: subject.id,
                    purpose: p.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance: provenance.clone(),
                });
            }
        }
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        tracing::info!(subject = %subject.id, changes = changes.len(), "GPC signal honoured");
        Ok(self.store.apply(changes).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r13_only_exactly_one_is_the_signal() {
        assert!(gpc_signal(Some("1")));
        for other in [
            None,
            Some("0"),
            Some("true"),
            Some(" 1"),
            Some("1, 1"),
            Some(""),
        ] {
            assert!(!gpc_signal(other), "{other:?}");
        }
    }
}
