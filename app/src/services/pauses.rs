//! Pause instead of leave, and how often (issue 34 items 2 and 3). See `domain::pause`.
//!
//! A pause writes the withdrawal at once (the person's own source; its reason, sealed with it,
//! names the end) and keeps a row that says when it ends. At the end, [`Services::resume_pauses_due_at`]
//! grants the consent again (source `pause`, actor `system`, the pause's id as idempotency key)
//! if that withdrawal is still the consent's latest event, the subject is not erased and no
//! objection to direct marketing stands: any later choice wins over the pause. Each due pause is
//! taken under a lease, so instances sharing a database end it once.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Refusal, Services, Visitor, now, scope_allows, zone::moment};
use crate::{
    domain::{
        Actor, Change, Channel, ConsentState, Frequency, Origin, Outcome, PauseLength,
        PauseOutcome, Provenance, Purpose, PurposeKey, Source, SubjectId, consent_idempotency_key,
        pause::{pause_reason, resume_reason},
    },
    i18n::channel_name,
    store::{FrequencyChoice, Pause, StoreError},
    view::{FrequencyRow, PauseRow},
};

/// How many due pauses one round takes.
const RESUME_BATCH: u32 = 200;
/// How long a due pause is held by the instance ending it.
const RESUME_LEASE_MS: i64 = 60_000;
/// How long after an unsubscribe its page may turn it into a pause.
const PAUSE_AFTER_UNSUBSCRIBE: time::Duration = time::Duration::hours(24);

/// What a pause form names: one consent (`<purpose>/<channel>`) or every marketing consent.
pub const ALL_MARKETING: &str = "all_marketing";

impl Services {
    /// Pauses consents now on, for `days` days: one (`target` = `<purpose>/<channel>`) or every
    /// marketing consent within the visitor's scope ([`ALL_MARKETING`]). Each is withdrawn now,
    /// the reason naming the end. Returns the end and how many were paused;
    /// `nothing_to_pause` when none of them is on.
    pub async fn pause(
        &self,
        visitor: &Visitor,
        target: &str,
        days: &str,
        mut provenance: Provenance,
    ) -> Result<(OffsetDateTime, usize), Refusal> {
        let length = PauseLength::parse(days)?;
        let purposes = self.store.purposes().await?;
        let targets: Vec<(&Purpose, Channel)> = if target == ALL_MARKETING {
            purposes
                .iter()
                .filter(|p| p.marketing)
                .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
                .filter(|(p, c)| scope_allows(&visitor.scope, p, *c))
                .collect()
        } else {
            let (purpose, channel) = target
                .split_once('/')
                .ok_or(Refusal::new("unknown_purpose"))?;
            let (purpose, channel) = self.purpose_on(purpose, channel).await?;
            if !scope_allows(&visitor.scope, &purpose, channel) {
                return Err(Refusal::new("invalid_token"));
            }
            let p = purposes
                .iter()
                .find(|p| p.key == purpose.key)
                .ok_or(Refusal::new("unknown_purpose"))?;
            vec![(p, channel)]
        };
        let records = self.store.consents(visitor.subject.id).await?;
        let notices = self.store.notices().await?;
        let at = now();
        let on: Vec<(&Purpose, Channel)> = targets
            .into_iter()
            .filter(|(p, c)| {
                let record = records
                    .iter()
                    .find(|r| r.purpose == p.key && r.channel == *c);
                super::consent_effect(&notices, p, visitor.subject.jurisdiction, record, at).on
            })
            .collect();
        if on.is_empty() {
            return Err(Refusal::new("nothing_to_pause"));
        }
        let until = length.end(at);
        let notice_version = self.notice_version().await?;
        provenance.occurred_at = at;
        provenance.notice_version = Some(notice_version.clone());
        provenance.reason = Some(pause_reason(until));
        provenance.campaign = provenance.campaign.or_else(|| visitor.campaign.clone());
        let changes: Vec<Change> = on
            .iter()
            .map(|(p, channel)| {
                let mut provenance = provenance.clone();
                provenance.idempotency_key = provenance
                    .idempotency_key
                    .map(|k| consent_idempotency_key(&k, &p.key, *channel));
                Change {
                    subject: visitor.subject.id,
                    purpose: p.key.clone(),
                    channel: *channel,
                    to: ConsentState::Withdrawn,
                    provenance,
                    reconfirm: false,
                }
            })
            .collect();
        let applied = self.store.apply(changes).await?;
        // A replayed request (the same form sent twice) paused them the first time.
        let pauses: Vec<Pause> = applied
            .iter()
            .filter(|a| !a.replayed)
            .filter_map(|a| match &a.outcome {
                Outcome::Recorded(e) => Some(Pause {
                    id: Uuid::now_v7(),
                    subject: e.subject,
                    purpose: e.purpose.clone(),
                    channel: e.channel,
                    event_id: e.id,
                    days: length.days(),
                    until,
                    asked_at: at,
                    source: provenance.source,
                    ip: provenance.origin.ip.clone(),
                    notice_version: Some(notice_version.clone()),
                    ended: None,
                }),
                Outcome::Unchanged(_) => None,
            })
            .collect();
        self.console.start_pauses(&pauses).await?;
        tracing::info!(subject = %visitor.subject.id, days = length.days(), paused = pauses.len(), "pause asked");
        Ok((until, pauses.len()))
    }

    /// Turns the unsubscribe a link just did (in the last 24 hours) into a pause of `days`:
    /// each consent it withdrew that was on before and is still withdrawn by it is granted
    /// again at the end. `no_recent_unsubscribe` when there is none.
    pub async fn pause_after_unsubscribe(
        &self,
        token: &str,
        days: &str,
        origin: Origin,
    ) -> Result<(OffsetDateTime, usize), Refusal> {
        let claims = self.claims(token)?;
        let length = PauseLength::parse(days)?;
        let subject = self
            .store
            .subject(claims.subject)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or(Refusal::new("unknown_subject"))?;
        let (purposes, events) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.store.purposes().await?) },
            async { Ok(self.store.events_for_subject(claims.subject, 200).await?) },
        )?;
        let at = now();
        // Newest first: the first event of each consent is its latest.
        let mut seen = std::collections::HashSet::new();
        let notice_version = self.notice_version().await?;
        let until = length.end(at);
        let pauses: Vec<Pause> = events
            .into_iter()
            .filter(|e| seen.insert((e.purpose.clone(), e.channel)))
            .filter(|e| {
                e.to == ConsentState::Withdrawn
                    && matches!(e.provenance.source, Source::OneClick | Source::Link)
                    && at - e.provenance.occurred_at <= PAUSE_AFTER_UNSUBSCRIBE
            })
            .filter_map(|e| {
                let p = purposes.iter().find(|p| p.key == e.purpose)?;
                let was_on = match e.from {
                    Some(state) => state == ConsentState::Granted,
                    None => p.mode_for(subject.jurisdiction) == crate::domain::Mode::OptOut,
                };
                (was_on && scope_allows(&claims.scope, p, e.channel)).then(|| Pause {
                    id: Uuid::now_v7(),
                    subject: e.subject,
                    purpose: e.purpose,
                    channel: e.channel,
                    event_id: e.id,
                    days: length.days(),
                    until,
                    asked_at: at,
                    source: Source::Link,
                    ip: origin.ip.clone(),
                    notice_version: Some(notice_version.clone()),
                    ended: None,
                })
            })
            .collect();
        if pauses.is_empty() {
            return Err(Refusal::new("no_recent_unsubscribe"));
        }
        self.console.start_pauses(&pauses).await?;
        tracing::info!(subject = %claims.subject, days = length.days(), paused = pauses.len(), "unsubscribe turned into a pause");
        Ok((until, pauses.len()))
    }

    /// Ends a pause in force before its end: grants the consent now (the person's own choice,
    /// as on the page) and ends the pause as `resumed_early`. `not_paused` when the consent is
    /// not paused.
    pub async fn resume_now(
        &self,
        visitor: &Visitor,
        purpose: &str,
        channel: &str,
        provenance: Provenance,
    ) -> Result<(), Refusal> {
        let (purpose, channel) = self.purpose_on(purpose, channel).await?;
        if !scope_allows(&visitor.scope, &purpose, channel) {
            return Err(Refusal::new("invalid_token"));
        }
        let pause = self
            .console
            .pauses_in_force(visitor.subject.id)
            .await?
            .into_iter()
            .find(|p| p.purpose == purpose.key && p.channel == channel)
            .ok_or(Refusal::new("not_paused"))?;
        self.set_consent(
            visitor,
            purpose.key.as_str(),
            channel.key(),
            ConsentState::Granted.key(),
            provenance,
        )
        .await?;
        self.console
            .end_pause(pause.id, now(), PauseOutcome::ResumedEarly)
            .await?;
        Ok(())
    }

    /// Ends every pause due by `at` (the clock is the caller's, so tests can move it): grants
    /// the consent again where the pause still holds, ends the others as `superseded`. `owner`
    /// names this instance for the leases. Returns how many consents were granted again.
    pub async fn resume_pauses_due_at(
        &self,
        at: OffsetDateTime,
        owner: &str,
    ) -> Result<usize, Refusal> {
        let mut resumed = 0;
        loop {
            let due = self
                .console
                .claim_due_pauses(at, owner, RESUME_LEASE_MS, RESUME_BATCH)
                .await?;
            let batch = due.len();
            for (pause, in_force) in due {
                let outcome = if in_force {
                    self.resume(&pause).await?
                } else {
                    PauseOutcome::Superseded
                };
                if outcome == PauseOutcome::Resumed {
                    resumed += 1;
                }
                self.console.end_pause(pause.id, now(), outcome).await?;
            }
            if batch < RESUME_BATCH as usize {
                break;
            }
        }
        if resumed > 0 {
            tracing::info!(resumed, "consents granted again at the end of a pause");
        }
        Ok(resumed)
    }

    /// Grants a paused consent again, unless the subject was erased or objects to direct
    /// marketing (then `superseded`).
    async fn resume(&self, pause: &Pause) -> Result<PauseOutcome, Refusal> {
        let Some(subject) = self.store.subject(pause.subject).await? else {
            return Ok(PauseOutcome::Superseded);
        };
        let purposes = self.store.purposes().await?;
        let Some(purpose) = purposes.iter().find(|p| p.key == pause.purpose) else {
            return Ok(PauseOutcome::Superseded);
        };
        if subject.erased_at.is_some()
            || !purpose.applies_to(pause.channel)
            || (purpose.marketing && self.objection_in_force(subject.id).await?.is_some())
        {
            return Ok(PauseOutcome::Superseded);
        }
        let change = Change {
            subject: pause.subject,
            purpose: pause.purpose.clone(),
            channel: pause.channel,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: now(),
                source: Source::Pause,
                actor: Actor::System,
                // The notice the person paused under: their instruction was given under it.
                notice_version: match &pause.notice_version {
                    Some(v) => Some(v.clone()),
                    None => Some(self.notice_version().await?),
                },
                origin: Origin::default(),
                // One pause grants once, whichever instance gets there.
                idempotency_key: Some(format!("pause:{}", pause.id.simple())),
                reason: Some(resume_reason(pause.days, pause.asked_at)),
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            reconfirm: false,
        };
        match self.store.apply(vec![change]).await {
            Ok(applied) => Ok(match applied.first().map(|a| &a.outcome) {
                Some(Outcome::Recorded(_)) => PauseOutcome::Resumed,
                _ => PauseOutcome::Superseded,
            }),
            Err(StoreError::MissingReference(_)) => Ok(PauseOutcome::Superseded),
            Err(e) => Err(e.into()),
        }
    }

    /// A subject's pauses in force (soonest end first).
    pub async fn pauses_in_force(&self, subject: SubjectId) -> Result<Vec<Pause>, Refusal> {
        Ok(self.console.pauses_in_force(subject).await?)
    }

    /// The pauses in force a page shows: those within `scope`, times in `zone`.
    pub(crate) async fn pause_rows(
        &self,
        subject: SubjectId,
        scope: &crate::token::Scope,
        purposes: &[Purpose],
        zone: &str,
        lang: crate::domain::Lang,
    ) -> Result<Vec<PauseRow>, Refusal> {
        Ok(self
            .console
            .pauses_in_force(subject)
            .await?
            .into_iter()
            .filter_map(|p| {
                let purpose = purposes.iter().find(|x| x.key == p.purpose)?;
                scope_allows(scope, purpose, p.channel).then(|| PauseRow {
                    purpose: p.purpose.to_string(),
                    purpose_name: purpose.name(lang).to_owned(),
                    channel: p.channel,
                    channel_name: channel_name(lang, p.channel).to_owned(),
                    until: moment(p.until, zone),
                })
            })
            .collect())
    }

    /// Records how often the visitor wants the messages of `purpose` (within the visitor's
    /// scope: one of the purposes its page shows).
    pub async fn choose_frequency(
        &self,
        visitor: &Visitor,
        purpose: &str,
        frequency: &str,
        provenance: &Provenance,
    ) -> Result<Frequency, Refusal> {
        let frequency = Frequency::parse(frequency)?;
        let purpose = self.purpose(purpose).await?;
        if !purpose
            .channels
            .iter()
            .any(|&c| scope_allows(&visitor.scope, &purpose, c))
        {
            return Err(Refusal::new("invalid_token"));
        }
        self.console
            .choose_frequency(&FrequencyChoice {
                subject: visitor.subject.id,
                purpose: purpose.key,
                frequency,
                chosen_at: now(),
                source: provenance.source,
                actor: provenance.actor.to_string(),
            })
            .await?;
        Ok(frequency)
    }

    /// A subject's frequency for each purpose that has a choice.
    pub async fn frequencies(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<(PurposeKey, Frequency)>, Refusal> {
        Ok(self
            .console
            .frequencies_of(&[subject])
            .await?
            .into_iter()
            .map(|c| (c.purpose, c.frequency))
            .collect())
    }

    /// The frequency rows a page shows: one per marketing purpose among `purposes`, with the
    /// current choice.
    pub(crate) async fn frequency_rows(
        &self,
        subject: SubjectId,
        purposes: &[Purpose],
        lang: crate::domain::Lang,
    ) -> Result<Vec<FrequencyRow>, Refusal> {
        let chosen: HashMap<PurposeKey, Frequency> =
            self.frequencies(subject).await?.into_iter().collect();
        Ok(purposes
            .iter()
            .filter(|p| p.marketing)
            .map(|p| FrequencyRow {
                purpose: p.key.to_string(),
                purpose_name: p.name(lang).to_owned(),
                frequency: chosen
                    .get(&p.key)
                    .copied()
                    .unwrap_or(Frequency::Every)
                    .key()
                    .to_owned(),
            })
            .collect())
    }
}
