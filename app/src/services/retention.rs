//! Retention: purging evidence whose every legal minimum has passed (R44, R60), leaving signed
//! tombstones so the hash chain still verifies. Only superseded events are ever purged: the
//! evidence of a consent in force stays.

use std::collections::HashMap;

use super::{Refusal, Services, now};
use crate::domain::{
    PurposeKind,
    retention::{minimums, retention_days},
    seal::{Tombstone, tombstone_statement},
};

/// Candidates read per page.
const PURGE_PAGE: u32 = 1_000;

/// What a purge found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Events old enough to look at.
    pub examined: u64,
    /// Still the evidence of a consent in force: kept.
    pub in_force: u64,
    /// Superseded, but a minimum has not passed yet: kept.
    pub within_minimum: u64,
    /// Purged (or, in a dry run, would be).
    pub purged: u64,
}

impl Services {
    /// Purges superseded events whose largest applicable retention minimum (never below the
    /// configured one) has passed since they were superseded. With `dry_run`, only counts.
    pub async fn purge(&self, dry_run: bool) -> Result<PurgeReport, Refusal> {
        let at = now();
        let configured = self.settings.retention_days;
        let kinds: HashMap<_, _> = self
            .store
            .purposes()
            .await?
            .iter()
            .map(|p| (p.key.clone(), p.kind))
            .collect();
        let purged_at = at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| Refusal::new("internal"))?;
        // Nothing that happened after this can have been superseded long enough.
        let before = at - time::Duration::days(configured);
        let mut report = PurgeReport::default();
        let mut after = 0;
        loop {
            let page = self
                .seals
                .purge_candidates(after, before, PURGE_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut tombstones = Vec::new();
            for c in page {
                report.examined += 1;
                let Some(superseded_at) = c.superseded_at else {
                    report.in_force += 1;
                    continue;
                };
                let kind = kinds.get(&c.purpose).copied().unwrap_or(PurposeKind::Other);
                let days = retention_days(c.jurisdiction, c.channel, kind, configured);
                if at - superseded_at < time::Duration::days(days) {
                    report.within_minimum += 1;
                    continue;
                }
                let law = minimums(c.jurisdiction, c.channel, kind)
                    .into_iter()
                    .max_by_key(|m| m.days)
                    .filter(|m| m.days >= configured)
                    .map_or("the configured retention period", |m| m.law);
                let reason = format!("retention: superseded {days}+ days ago ({law})");
                let statement =
                    tombstone_statement(c.position, c.seq, &c.seal, &purged_at, &reason);
                tombstones.push((
                    c.seq,
                    Tombstone {
                        purged_at: purged_at.clone(),
                        reason,
                        signature: self.signer.sign(statement.as_bytes()),
                    },
                ));
            }
            report.purged += if dry_run {
                tombstones.len() as u64
            } else {
                self.seals.purge(&tombstones).await?
            };
        }
        tracing::info!(?report, dry_run, "retention purge");
        Ok(report)
    }
}
