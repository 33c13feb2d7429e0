//! The end of a consent's validity (R59, R56), recorded: a granted consent to a purpose with a
//! validity that was not renewed in time is withdrawn by Doui itself (source `expiry`, actor
//! `system`), so the suppression list and every export carry it. Until the job runs, the
//! effective value already treats it as ended.

use time::{Duration, OffsetDateTime};

use super::{Refusal, Services};
use crate::domain::{Actor, Change, ConsentState, Origin, Provenance, Source};

/// How many consents one transaction ends.
const EXPIRY_BATCH: u32 = 500;

impl Services {
    /// Withdraws every consent whose validity ended by `at`; returns how many. Safe to run from
    /// several instances at once (a consent already withdrawn is not written again).
    pub async fn expire_due_at(&self, at: OffsetDateTime) -> Result<usize, Refusal> {
        let notice_version = self.notice_version().await?;
        let mut ended = 0;
        for purpose in self.store.purposes().await?.iter() {
            let Some(days) = purpose.legal.validity_days else {
                continue;
            };
            let before = at - Duration::days(i64::from(days));
            loop {
                let due = self
                    .console
                    .subject_records()
                    .granted_before(&purpose.key, before, EXPIRY_BATCH)
                    .await?;
                if due.is_empty() {
                    break;
                }
                let provenance = Provenance {
                    occurred_at: super::now(),
                    source: Source::Expiry,
                    actor: Actor::System,
                    notice_version: Some(notice_version.clone()),
                    origin: Origin::default(),
                    idempotency_key: None,
                    reason: Some(format!("validity of {days} days ended")),
                    campaign: None,
                    collection_point: None,
                    import_batch: None,
                    form_url: None,
                    proof_ref: None,
                };
                let batch = due.len();
                let changes = due
                    .into_iter()
                    .map(|(subject, channel)| Change {
                        subject,
                        purpose: purpose.key.clone(),
                        channel,
                        to: ConsentState::Withdrawn,
                        provenance: provenance.clone(),
                        reconfirm: false,
                    })
                    .collect();
                self.store.apply(changes).await?;
                ended += batch;
                if batch < EXPIRY_BATCH as usize {
                    break;
                }
            }
        }
        if ended > 0 {
            tracing::info!(ended, "consents ended at the end of their validity");
        }
        Ok(ended)
    }
}
