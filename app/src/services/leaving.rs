//! Why a person left (issue 34 item 1): one optional question after an unsubscribe is done. The
//! answer is kept beside the withdrawals that unsubscribe recorded (never instead of them, never
//! before them), and counted for the console by purpose and campaign.

use std::collections::BTreeMap;

use super::{Refusal, Services, now, scope_allows};
use crate::{
    domain::{ConsentState, LeaveReason, Source, leave_text},
    store::{LeaveAnswer, LeaveCount},
};

/// How long after an unsubscribe its reason may be given.
const ANSWER_WITHIN: time::Duration = time::Duration::hours(24);
/// The withdrawals one unsubscribe wrote lie within this of its newest one.
const ONE_UNSUBSCRIBE: time::Duration = time::Duration::minutes(2);

/// The answers of a period, per purpose and per campaign.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaveReport {
    /// (purpose key, counts per reason in [`LeaveReason::ALL`]'s order).
    pub by_purpose: Vec<(String, [i64; 4])>,
    /// (campaign, or `None` for mail sent without one; counts per reason).
    pub by_campaign: Vec<(Option<String>, [i64; 4])>,
}

impl Services {
    /// Keeps why the holder of an unsubscribe link left: beside each withdrawal the link's
    /// unsubscribe recorded in the last 24 hours (`no_recent_unsubscribe` when there is none).
    /// The first answer stands. Returns how many withdrawals it explains.
    pub async fn explain_leaving(
        &self,
        token: &str,
        reason: &str,
        text: &str,
    ) -> Result<usize, Refusal> {
        let claims = self.claims(token)?;
        let reason = LeaveReason::parse(reason)?;
        let text = leave_text(text)?;
        let (purposes, events) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.store.purposes().await?) },
            async { Ok(self.store.events_for_subject(claims.subject, 200).await?) },
        )?;
        let at = now();
        let withdrawals: Vec<_> = events
            .into_iter()
            .filter(|e| {
                e.to == ConsentState::Withdrawn
                    && matches!(e.provenance.source, Source::OneClick | Source::Link)
                    && at - e.provenance.occurred_at <= ANSWER_WITHIN
                    && purposes
                        .iter()
                        .find(|p| p.key == e.purpose)
                        .is_some_and(|p| scope_allows(&claims.scope, p, e.channel))
            })
            .collect();
        let Some(newest) = withdrawals.iter().map(|e| e.provenance.occurred_at).max() else {
            return Err(Refusal::new("no_recent_unsubscribe"));
        };
        let answers: Vec<LeaveAnswer> = withdrawals
            .into_iter()
            .filter(|e| newest - e.provenance.occurred_at <= ONE_UNSUBSCRIBE)
            .map(|e| LeaveAnswer {
                event_id: e.id,
                subject: e.subject,
                purpose: e.purpose,
                channel: e.channel,
                campaign: e.provenance.campaign.or_else(|| claims.campaign.clone()),
                reason,
                text: text.clone(),
                answered_at: at,
            })
            .collect();
        self.console.keep_leave_reasons(&answers).await?;
        tracing::info!(subject = %claims.subject, reason = reason.key(), "reason for leaving given");
        Ok(answers.len())
    }

    /// The reasons given in the last `days` days, counted per purpose and per campaign.
    pub async fn leave_report(&self, days: i64) -> Result<LeaveReport, Refusal> {
        let counts = self
            .console
            .leave_reason_counts(now() - time::Duration::days(days))
            .await?;
        let column = |r: LeaveReason| LeaveReason::ALL.iter().position(|x| *x == r).unwrap_or(3);
        let mut by_purpose: BTreeMap<String, [i64; 4]> = BTreeMap::new();
        let mut by_campaign: BTreeMap<Option<String>, [i64; 4]> = BTreeMap::new();
        for LeaveCount {
            purpose,
            campaign,
            reason,
            count,
        } in counts
        {
            by_purpose.entry(purpose).or_default()[column(reason)] += count;
            by_campaign.entry(campaign).or_default()[column(reason)] += count;
        }
        Ok(LeaveReport {
            by_purpose: by_purpose.into_iter().collect(),
            by_campaign: by_campaign.into_iter().collect(),
        })
    }
}
