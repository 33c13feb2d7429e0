//! Writing from other systems (the API's `subjects` and `consents`): subjects created, read,
//! changed and erased by a sender's system, and consents collected elsewhere recorded with their
//! evidence under the rule of `domain::collected`.
//!
//! A batch of consents is all or nothing: every change is checked first, against the subjects'
//! current choices and the changes before it in the batch; one refused change refuses the
//! batch, naming each refused change by its index, and nothing is written. A batch that passes
//! is written in one transaction.

use std::collections::HashMap;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use super::{Refusal, Services, now};
use crate::{
    domain::{
        Actor, Change, Channel, Collected, ConsentState, Email, ExternalId, Jurisdiction, Lang,
        Origin, Outcome, Phone, Provenance, PurposeKey, Source, Subject, SubjectId,
        check_collected, consent_idempotency_key,
    },
    store::{ConsentRecord, KeptAnswer, StoreError, SubjectUpdate},
};

/// The most changes one request may carry.
pub const MAX_BATCH: usize = 1_000;

/// A subject as a sender's system describes it (`POST /api/v1/subjects`).
#[derive(Debug, Clone, Default)]
pub struct SubjectFields<'a> {
    pub external_id: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub jurisdiction: Option<&'a str>,
    /// The zone the person's times are shown in (an IANA name); absent: their jurisdiction's.
    pub time_zone: Option<&'a str>,
}

/// A change of a subject's fields as a sender's system asks for it (`PATCH`): `None` leaves a
/// field; an empty email, phone or time zone removes it.
#[derive(Debug, Clone, Default)]
pub struct SubjectPatch<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub jurisdiction: Option<&'a str>,
    pub time_zone: Option<&'a str>,
}

/// One consent in effect, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentInEffect {
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub mode: crate::domain::Mode,
    /// The recorded choice (`None`: never chosen).
    pub state: Option<ConsentState>,
    /// Whether the person may be contacted for it now (the mode, a lapsed opt-in awaiting
    /// re-confirmation and an ended validity applied).
    pub in_effect: bool,
    pub since: Option<OffsetDateTime>,
}

/// One consent collected elsewhere, as the sender's system reports it (texts as received).
#[derive(Debug, Clone, Default)]
pub struct CollectedChange {
    /// The subject's external id.
    pub subject: String,
    pub purpose: String,
    pub channel: String,
    pub state: String,
    /// RFC 3339: when the person acted.
    pub occurred_at: String,
    pub collection_point: Option<String>,
    pub notice_version: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub form_url: Option<String>,
    pub proof_ref: Option<String>,
}

/// Why one change of a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRefusal {
    pub index: usize,
    pub code: &'static str,
}

/// What one change of a written batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedResult {
    /// `None`: the consent already had this value, nothing was written.
    pub event_id: Option<Uuid>,
    pub state: ConsentState,
    pub occurred_at: OffsetDateTime,
    pub recorded_at: Option<OffsetDateTime>,
}

/// A batch refused as a whole: nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchRefusal {
    /// The request itself (size, key, the store).
    Request(Refusal),
    /// These changes were refused; the others were fine but are not written either.
    Items(Vec<ItemRefusal>),
}

impl From<Refusal> for BatchRefusal {
    fn from(r: Refusal) -> Self {
        BatchRefusal::Request(r)
    }
}

impl From<StoreError> for BatchRefusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OlderThanLatestChange(index) => BatchRefusal::Items(vec![ItemRefusal {
                index,
                code: crate::domain::NotCollected::OlderThanLatestChange.code(),
            }]),
            e => BatchRefusal::Request(e.into()),
        }
    }
}

fn one_line(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// A form's URL as evidence: http(s), one line, at most 2,048 characters.
fn check_form_url(url: &str) -> bool {
    one_line(url, 2_048)
        && (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}

impl Services {
    /// Creates a subject, or finds the one with the same external id (`true`: created). An
    /// existing subject is returned as it is: changing it is `update_subject_fields`. A time
    /// zone given is recorded as set by `by`.
    pub async fn put_subject(
        &self,
        f: SubjectFields<'_>,
        by: &str,
    ) -> Result<(Subject, bool), Refusal> {
        let external_id = ExternalId::parse(f.external_id)?;
        if let Some(found) = self.subject_by_external_id(external_id.as_str()).await? {
            return Ok((found, false));
        }
        let time_zone = f
            .time_zone
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .map(super::zone::known_time_zone)
            .transpose()?;
        let lang = f.lang.map(str::parse::<Lang>).transpose()?;
        let jurisdiction = f
            .jurisdiction
            .map(str::parse::<Jurisdiction>)
            .transpose()?
            .unwrap_or(Jurisdiction::Default);
        let created = self
            .create_subject_in(
                Some(external_id.as_str()),
                f.email.filter(|e| !e.trim().is_empty()),
                f.phone.filter(|p| !p.trim().is_empty()),
                lang.unwrap_or_default(),
                jurisdiction,
            )
            .await;
        match created {
            Ok(s) => match time_zone {
                None => Ok((s, true)),
                Some(z) => {
                    let update = SubjectUpdate {
                        time_zone: Some(Some(z)),
                        ..SubjectUpdate::default()
                    };
                    let s = self
                        .console
                        .subject_records()
                        .update_subject(s.id, &update, by, now())
                        .await?
                        .ok_or(Refusal::new("unknown_subject_key"))?;
                    Ok((s, true))
                }
            },
            // Created meanwhile by a request like this one.
            Err(r) if r.code == "external_id_taken" => self
                .subject_by_external_id(external_id.as_str())
                .await?
                .map(|s| (s, false))
                .ok_or(r),
            Err(r) => Err(r),
        }
    }

    /// The subject whose external id is exactly `external_id` (not erased).
    pub async fn subject_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Subject>, Refusal> {
        Ok(self
            .store
            .find_subject(external_id)
            .await?
            .filter(|s| s.external_id.as_str() == external_id && s.erased_at.is_none()))
    }

    /// Every purpose and channel of a subject with its recorded choice and whether it is in
    /// effect now.
    pub async fn consents_in_effect(
        &self,
        subject: &Subject,
    ) -> Result<Vec<ConsentInEffect>, Refusal> {
        let (purposes, records, notices) = tokio::try_join!(
            self.store.purposes(),
            self.store.consents(subject.id),
            self.store.notices(),
        )?;
        let at = now();
        Ok(purposes
            .iter()
            .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
            .map(|(p, channel)| {
                let record = records
                    .iter()
                    .find(|r| r.purpose == p.key && r.channel == channel);
                ConsentInEffect {
                    purpose: p.key.clone(),
                    channel,
                    mode: p.mode_for(subject.jurisdiction),
                    state: record.map(|r| r.state),
                    in_effect: super::consent_effect(&notices, p, subject.jurisdiction, record, at)
                        .on,
                    since: record.map(|r| r.updated_at),
                }
            })
            .collect())
    }

    /// Changes a subject's email, phone, language, jurisdiction or time zone on behalf of `by`;
    /// each field
    /// that changes is recorded with who and when. An erased subject is never changed.
    pub async fn update_subject_fields(
        &self,
        external_id: &str,
        patch: SubjectPatch<'_>,
        by: &str,
    ) -> Result<Subject, Refusal> {
        let subject = self
            .subject_by_external_id(external_id.trim())
            .await?
            .ok_or(Refusal::new("unknown_subject_key"))?;
        fn text(v: Option<&str>) -> Option<Option<&str>> {
            v.map(str::trim).map(|v| (!v.is_empty()).then_some(v))
        }
        let update = SubjectUpdate {
            email: text(patch.email)
                .map(|v| v.map(Email::parse).transpose())
                .transpose()?,
            phone: text(patch.phone)
                .map(|v| v.map(Phone::parse).transpose())
                .transpose()?,
            lang: patch.lang.map(str::parse).transpose()?,
            jurisdiction: patch.jurisdiction.map(str::parse).transpose()?,
            time_zone: text(patch.time_zone)
                .map(|v| v.map(super::zone::known_time_zone).transpose())
                .transpose()?,
        };
        // An address erased before is not brought back by a sender's system.
        let new_email = update.email.as_ref().and_then(Option::as_ref);
        let new_phone = update.phone.as_ref().and_then(Option::as_ref);
        self.check_not_erased(new_email, new_phone).await?;
        let changed = self
            .console
            .subject_records()
            .update_subject(subject.id, &update, by, now())
            .await?
            .ok_or(Refusal::new("unknown_subject_key"))?;
        tracing::info!(subject = %subject.id, by, "subject changed");
        Ok(changed)
    }

    /// The answer kept for an idempotency key of `api_key`, if the request is the same
    /// (`request_sha256`); another request with the key is refused.
    pub async fn kept_answer(
        &self,
        api_key: &str,
        key: &str,
        request_sha256: &str,
    ) -> Result<Option<KeptAnswer>, Refusal> {
        match self
            .console
            .idempotency()
            .idempotent_answer(api_key, key)
            .await?
        {
            Some(kept) if kept.request_sha256 == request_sha256 => Ok(Some(kept)),
            Some(_) => Err(Refusal::new("idempotency_key_reused")),
            None => Ok(None),
        }
    }

    /// Keeps the answer to a request with an idempotency key; when a concurrent request with the
    /// same key kept one first, that one is the answer (or the request is refused if it was
    /// another body).
    pub async fn keep_answer(
        &self,
        api_key: &str,
        key: &str,
        answer: KeptAnswer,
    ) -> Result<KeptAnswer, Refusal> {
        if self
            .console
            .idempotency()
            .keep_idempotent_answer(api_key, key, &answer)
            .await?
        {
            return Ok(answer);
        }
        self.kept_answer(api_key, key, &answer.request_sha256)
            .await?
            .ok_or(Refusal::new("unavailable"))
    }

    /// Records consents collected elsewhere, reported by API key `api_key` (all or nothing; see
    /// the module). With `request_key` (the request's `Idempotency-Key`), each change carries a
    /// key derived from it, so a retried batch writes nothing twice even if its first answer
    /// was lost.
    pub async fn record_collected(
        &self,
        api_key: &str,
        changes: &[CollectedChange],
        request_key: Option<&str>,
    ) -> Result<Vec<CollectedResult>, BatchRefusal> {
        if changes.is_empty() {
            return Err(Refusal::new("empty_batch").into());
        }
        if changes.len() > MAX_BATCH {
            return Err(Refusal::new("batch_too_large").into());
        }
        let mut keys: Vec<String> = changes
            .iter()
            .map(|c| c.subject.trim().to_owned())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let (purposes, points, found) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.store.purposes().await?) },
            async { Ok(self.console.points().collection_points().await?) },
            async { Ok(self.store.find_subjects(&keys).await?) },
        )?;
        let subjects: HashMap<&str, &Subject> = found
            .iter()
            .filter(|s| s.erased_at.is_none())
            .map(|s| (s.external_id.as_str(), s))
            .collect();
        let ids: Vec<SubjectId> = subjects.values().map(|s| s.id).collect();
        let mut current: HashMap<(SubjectId, PurposeKey, Channel), ConsentRecord> = self
            .console
            .subject_records()
            .current_consents(&ids)
            .await?
            .into_iter()
            .map(|(s, r)| ((s, r.purpose.clone(), r.channel), r))
            .collect();
        let at = now();
        let actor = Actor::ApiKey(api_key.to_owned());
        let mut refused = Vec::new();
        let mut out = Vec::with_capacity(changes.len());
        for (index, c) in changes.iter().enumerate() {
            match self.check_one(c, &subjects, &purposes, &points, &mut current, at) {
                Ok((subject, purpose, channel, to, occurred_at, reconfirm)) => {
                    let idempotency_key = request_key.map(|k| {
                        let scoped = format!("api:{api_key}:{k}");
                        format!(
                            "{}#{index}",
                            consent_idempotency_key(&scoped, &purpose, channel)
                        )
                    });
                    let ip = c.ip.as_deref().and_then(|ip| ip.trim().parse().ok());
                    out.push(Change {
                        subject,
                        purpose,
                        channel,
                        to,
                        provenance: Provenance {
                            occurred_at,
                            source: Source::Api,
                            actor: actor.clone(),
                            notice_version: c.notice_version.clone(),
                            origin: Origin::new(ip, c.user_agent.as_deref()),
                            idempotency_key,
                            reason: None,
                            campaign: None,
                            collection_point: c.collection_point.clone(),
                            import_batch: None,
                            form_url: c.form_url.clone(),
                            proof_ref: c.proof_ref.clone(),
                        },
                        reconfirm,
                    });
                }
                Err(code) => refused.push(ItemRefusal { index, code }),
            }
        }
        if !refused.is_empty() {
            return Err(BatchRefusal::Items(refused));
        }
        let applied = self
            .store
            .apply_group(vec![out])
            .await
            .pop()
            .ok_or(Refusal::new("unavailable"))??;
        tracing::info!(
            api_key,
            changes = applied.len(),
            "collected consents recorded"
        );
        Ok(applied
            .into_iter()
            .zip(changes)
            .map(|(a, c)| match a.outcome {
                Outcome::Recorded(e) => CollectedResult {
                    event_id: Some(e.id),
                    state: e.to,
                    occurred_at: e.provenance.occurred_at,
                    recorded_at: e.recorded_at,
                },
                Outcome::Unchanged(state) => CollectedResult {
                    event_id: None,
                    state,
                    occurred_at: OffsetDateTime::parse(c.occurred_at.trim(), &Rfc3339)
                        .map(crate::domain::to_micros)
                        .unwrap_or(at),
                    recorded_at: None,
                },
            })
            .collect())
    }

    /// Checks one change of a batch; on success the consent's latest change becomes this one,
    /// so a later change of the same consent in the batch must not be older.
    #[allow(clippy::type_complexity)]
    fn check_one(
        &self,
        c: &CollectedChange,
        subjects: &HashMap<&str, &Subject>,
        purposes: &[crate::domain::Purpose],
        points: &[crate::domain::CollectionPoint],
        current: &mut HashMap<(SubjectId, PurposeKey, Channel), ConsentRecord>,
        at: OffsetDateTime,
    ) -> Result<
        (
            SubjectId,
            PurposeKey,
            Channel,
            ConsentState,
            OffsetDateTime,
            bool,
        ),
        &'static str,
    > {
        let subject = subjects
            .get(c.subject.trim())
            .ok_or("unknown_subject_key")?;
        let purpose = purposes
            .iter()
            .find(|p| p.key.as_str() == c.purpose)
            .ok_or("unknown_purpose")?;
        let channel: Channel = c.channel.parse().map_err(|_| "unknown_channel")?;
        if !purpose.applies_to(channel) {
            return Err("channel_not_applicable");
        }
        let to: ConsentState = c.state.parse().map_err(|_| "unknown_state")?;
        let occurred_at = OffsetDateTime::parse(c.occurred_at.trim(), &Rfc3339)
            .map_err(|_| "malformed_occurred_at")?;
        let occurred_at = crate::domain::to_micros(occurred_at.to_offset(time::UtcOffset::UTC));
        let bad_text =
            |v: &Option<String>, max: usize| v.as_deref().is_some_and(|t| !one_line(t, max));
        // A notice version as published (`doui notice publish`): letters, digits, `.-_`.
        let version_ok = |v: &str| {
            (1..=64).contains(&v.len())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        };
        if c.notice_version.as_deref().is_some_and(|v| !version_ok(v)) {
            return Err("malformed_notice_version");
        }
        if bad_text(&c.proof_ref, 500) {
            return Err("malformed_proof_ref");
        }
        if c.form_url.as_deref().is_some_and(|u| !check_form_url(u)) {
            return Err("malformed_form_url");
        }
        if c.ip
            .as_deref()
            .is_some_and(|ip| ip.trim().parse::<std::net::IpAddr>().is_err())
        {
            return Err("malformed_ip");
        }
        if c.user_agent
            .as_deref()
            .is_some_and(|ua| ua.chars().count() > 2_000)
        {
            return Err("malformed_user_agent");
        }
        let key = (subject.id, purpose.key.clone(), channel);
        let record = current.get(&key);
        check_collected(
            &Collected {
                mode: purpose.mode_for(subject.jurisdiction),
                to,
                occurred_at,
                collection_point: c.collection_point.as_deref(),
                notice_version: c.notice_version.as_deref(),
            },
            points,
            record.map(|r| r.updated_at),
            at,
        )
        .map_err(|e| e.code())?;
        // A grant of a consent granted already, under another notice version, re-confirms it.
        let reconfirm = to == ConsentState::Granted
            && record.is_some_and(|r| {
                r.state == ConsentState::Granted && r.notice_version != c.notice_version
            });
        let unchanged = record.is_some_and(|r| r.state == to) && !reconfirm;
        if !unchanged {
            current.insert(
                key.clone(),
                ConsentRecord {
                    purpose: key.1.clone(),
                    channel,
                    state: to,
                    updated_at: occurred_at,
                    source: Source::Api,
                    notice_version: c.notice_version.clone(),
                },
            );
        }
        Ok((subject.id, key.1, channel, to, occurred_at, reconfirm))
    }
}
