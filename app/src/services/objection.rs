//! The lasting objection to direct marketing (GDPR Art. 21(2)-(3); R34): "Stop all marketing"
//! withdraws every marketing consent and records an objection that also covers marketing
//! purposes added later, until the person lifts it. While it stands, no marketing purpose may be
//! granted (by the person, an operator or a confirmation mail), and a marketing purpose saved
//! later is withdrawn for the person at once, so the suppression lists carry it.

use super::{Refusal, Services, Visitor, now};
use crate::{
    domain::{Actor, Change, ConsentState, Provenance, Purpose, Source, SubjectId},
    store::Objection,
    token::Scope,
};

/// The reason on the withdrawals an objection makes of marketing purposes saved after it.
pub const OBJECTION_REASON: &str = "lasting objection to direct marketing (GDPR Art. 21(3))";

impl Services {
    /// The subject's objection, when it is in force.
    pub async fn objection_in_force(
        &self,
        subject: SubjectId,
    ) -> Result<Option<Objection>, Refusal> {
        Ok(self
            .console
            .objections()
            .objection(subject)
            .await?
            .filter(|o| o.objecting))
    }

    /// Refuses a grant of a marketing purpose while the subject's objection stands.
    pub(crate) async fn check_objection(
        &self,
        subject: SubjectId,
        purpose: &Purpose,
        to: ConsentState,
    ) -> Result<(), Refusal> {
        if to == ConsentState::Granted
            && purpose.marketing
            && self.objection_in_force(subject).await?.is_some()
        {
            return Err(Refusal::new("marketing_objection"));
        }
        Ok(())
    }

    /// Records the objection (once: a repeat while it stands records nothing).
    pub(super) async fn raise_objection(
        &self,
        visitor: &Visitor,
        provenance: &Provenance,
    ) -> Result<(), Refusal> {
        if !matches!(visitor.scope, Scope::Everything | Scope::AllMarketing)
            || self.objection_in_force(visitor.subject.id).await?.is_some()
        {
            return Ok(());
        }
        let mut provenance = provenance.clone();
        provenance.idempotency_key = None;
        self.console
            .objections()
            .add_objection(&Objection {
                subject: visitor.subject.id,
                objecting: true,
                provenance,
            })
            .await?;
        Ok(())
    }

    /// The person lifts their objection (their whole center only: a message's narrow link
    /// cannot). Marketing may then be granted again; nothing is granted by lifting. Returns
    /// whether an objection stood.
    pub async fn lift_objection(
        &self,
        visitor: &Visitor,
        mut provenance: Provenance,
    ) -> Result<bool, Refusal> {
        if visitor.scope != Scope::Everything {
            return Err(Refusal::new("narrow_link"));
        }
        if self.objection_in_force(visitor.subject.id).await?.is_none() {
            return Ok(false);
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        provenance.idempotency_key = None;
        self.console
            .objections()
            .add_objection(&Objection {
                subject: visitor.subject.id,
                objecting: false,
                provenance,
            })
            .await?;
        tracing::info!(subject = %visitor.subject.id, "objection to marketing lifted");
        Ok(true)
    }

    /// A marketing purpose was saved (new, or now marketing, or on more channels): withdraws it
    /// on every channel for each person whose objection stands. Returns how many consents were
    /// written (those already withdrawn write nothing).
    pub(super) async fn apply_objections_to(&self, purpose: &Purpose) -> Result<usize, Refusal> {
        if !purpose.marketing {
            return Ok(0);
        }
        let subjects = self.console.objections().objecting_subjects().await?;
        if subjects.is_empty() {
            return Ok(0);
        }
        let provenance = Provenance {
            occurred_at: now(),
            source: Source::Admin,
            actor: Actor::System,
            notice_version: Some(self.notice_version().await?),
            origin: Default::default(),
            idempotency_key: None,
            reason: Some(OBJECTION_REASON.to_owned()),
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        };
        let mut written = 0;
        for chunk in subjects.chunks(500) {
            let changes: Vec<Change> = chunk
                .iter()
                .flat_map(|&subject| {
                    purpose
                        .channels
                        .iter()
                        .map(move |&channel| (subject, channel))
                })
                .map(|(subject, channel)| Change {
                    subject,
                    purpose: purpose.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance: provenance.clone(),
                    reconfirm: false,
                })
                .collect();
            written += self
                .store
                .apply(changes)
                .await?
                .iter()
                .filter(|a| matches!(a.outcome, crate::domain::Outcome::Recorded(_)))
                .count();
        }
        tracing::info!(purpose = %purpose.key, written, "objections applied to a marketing purpose");
        Ok(written)
    }
}
