//! Global Privacy Control: a browser's `Sec-GPC: 1` is a request to opt out of the sale and
//! sharing of the person's data and of cross-context advertising (CCPA 1798.120, 11 CCR 7025).
//! When the person is known (a link or a session), Doui records it as their opt-out.

use std::collections::HashMap;

use super::{Refusal, Services, Visitor, now, scope_allows};
use crate::{
    domain::{Change, ConsentState, Provenance, Source, effective},
    store::Applied,
};

/// When Doui's handling of GPC last changed (`/.well-known/gpc.json`'s `lastUpdate`).
pub const GPC_LAST_UPDATE: &str = "2026-11-29";

/// The `reason` of a grant the person makes in the preference center while their browser sends
/// the signal: their informed choice, which later signals leave alone.
pub const GRANTED_WITH_GPC: &str = "granted with Global Privacy Control on";

/// Whether a request carries the signal: the header is exactly `1` (R13).
pub fn gpc_signal(value: Option<&str>) -> bool {
    value == Some("1")
}

impl Services {
    /// Opts the visitor out of every purpose GPC covers (ad targeting, third-party sharing) on
    /// every channel where it is in effect, with source `gpc` (R16, R18: the signal wins over an
    /// earlier opt-in). A grant the person made after an earlier GPC opt-out is their informed
    /// choice (7025(c)(3)) and stays, as does one made while the signal was on; a request
    /// without the signal opts nobody back in (R19).
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
        // Per consent, from the person's recent events (newest first): whether its latest event
        // is a grant the person made knowingly: with the signal on, or after a GPC opt-out.
        let mut latest = HashMap::new();
        let mut knowing = HashMap::new();
        for e in self.store.events_for_subject(subject.id, 500).await? {
            let key = (e.purpose.clone(), e.channel);
            let first_seen = !latest.contains_key(&key);
            latest.entry(key.clone()).or_insert(e.to);
            if first_seen {
                let knowingly = e.to == ConsentState::Granted
                    && e.provenance.source != Source::Gpc
                    && e.provenance.reason.as_deref() == Some(GRANTED_WITH_GPC);
                knowing.insert(key, knowingly);
            } else if e.provenance.source == Source::Gpc
                && latest.get(&key) == Some(&ConsentState::Granted)
            {
                // A GPC opt-out before the person's latest grant: they chose after it.
                knowing.insert(key, true);
            }
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        provenance.source = Source::Gpc;
        provenance.reason = Some("Sec-GPC: 1".into());
        provenance.idempotency_key = None;
        let mut changes = Vec::new();
        for p in covered {
            for &channel in &p.channels {
                // The same rule as every other write: only what the visitor's link covers
                // (a newsletter's unsubscribe link does not reach ad targeting).
                if !scope_allows(&visitor.scope, p, channel) {
                    continue;
                }
                let record = consents
                    .iter()
                    .find(|r| r.purpose == p.key && r.channel == channel);
                let choice = record.map(|r| r.state);
                if !effective(p.mode_for(subject.jurisdiction), choice) {
                    continue;
                }
                let chose_after_gpc = record.is_some_and(|r| r.state == ConsentState::Granted)
                    && knowing
                        .get(&(p.key.clone(), channel))
                        .copied()
                        .unwrap_or(false);
                if chose_after_gpc {
                    continue;
                }
                changes.push(Change {
                    subject: subject.id,
                    purpose: p.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance: provenance.clone(),
                    reconfirm: false,
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
