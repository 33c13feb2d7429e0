//! The hash chain's rules: seal what committed, and walk the whole chain to prove nothing
//! changed.

use super::{Refusal, Services, now};
use crate::domain::seal::{Break, GENESIS, to_hex, verify_links};

/// A late commit (several writers) may come this long after events sealed before it; an older
/// event found below the chain's head was inserted after the fact.
pub const LATE_WINDOW_SECS: i64 = 60;

/// What `verify_chain` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Links checked.
    pub length: i64,
    /// The last good seal (hex).
    pub head: String,
    /// The first break, if any.
    pub broken: Option<Break>,
}

impl Services {
    /// The chain for the console: length and head; with `verify`, a walk of all of it.
    pub async fn chain_view(&self, verify: bool) -> Result<crate::view::ChainView, Refusal> {
        if verify {
            let report = self.verify_chain().await?;
            return Ok(crate::view::ChainView {
                length: report.length,
                head: report.head,
                checked: true,
                broken: report.broken.map(|b| b.to_string()),
            });
        }
        let (length, _) = self.seals.chain_extent().await?;
        let head = self
            .seals
            .chain_links((length - 1).max(0), 1)
            .await?
            .pop()
            .map(|l| l.seal)
            .unwrap_or_default();
        Ok(crate::view::ChainView {
            length,
            head,
            checked: false,
            broken: None,
        })
    }

    /// Seals committed events not yet in the chain; returns how many.
    pub async fn seal_pending(&self) -> Result<u64, Refusal> {
        Ok(self.seals.seal_pending(500, LATE_WINDOW_SECS).await?)
    }

    /// Walks the chain from the start: recomputes every seal from the events as they are now, and
    /// looks for old events that no seal covers.
    pub async fn verify_chain(&self) -> Result<ChainReport, Refusal> {
        let (mut prev, mut next) = (GENESIS, 1i64);
        loop {
            let links = self.seals.chain_links(next - 1, 10_000).await?;
            if links.is_empty() {
                break;
            }
            match verify_links(prev, next, &links) {
                Ok((p, n)) => (prev, next) = (p, n),
                Err(b) => {
                    return Ok(ChainReport {
                        length: b.good_links,
                        head: to_hex(&b.last_good),
                        broken: Some(b.at),
                    });
                }
            }
        }
        let (_, max_seq) = self.seals.chain_extent().await?;
        let before = now() - time::Duration::seconds(LATE_WINDOW_SECS);
        let unsealed = self.seals.unsealed_below(max_seq, before, 1).await?;
        Ok(ChainReport {
            length: next - 1,
            head: to_hex(&prev),
            broken: unsealed.first().map(|&seq| Break::Unsealed { seq }),
        })
    }
}
