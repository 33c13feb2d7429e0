//! Versioned privacy notices: publishing a version, the version in force (pinned on every event),
//! and re-confirmation after a material change (R31, R32, R43).

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Refusal, Services, Visitor, format_when, now, scope_allows};
use crate::{
    domain::{
        Change, ConsentState, Jurisdiction, Lang, Notice, Provenance, Purpose, PurposeKey,
        check_idempotency_key, consent_idempotency_key,
        notice::{
            DiffLine, check_new_notice, effective_after_notice, in_force, line_diff, previous,
            reconfirmation_due,
        },
    },
    store::{Applied, ConsentRecord},
    view::{DiffRow, NoticeSummary, ReconfirmView, RenewalRow},
};

/// Unchanged lines kept around each change in the diff a person is shown.
const DIFF_CONTEXT: usize = 2;

/// A notice version as an owner writes it.
#[derive(Debug, Clone, Default)]
pub struct NoticeInput {
    pub version: String,
    /// When it takes effect; now when absent.
    pub effective_at: Option<OffsetDateTime>,
    pub material: bool,
    /// Purpose keys a material change affects; empty: every purpose.
    pub purposes: Vec<String>,
    pub summary_ja: String,
    pub summary_en: String,
    pub text_ja: String,
    pub text_en: String,
}

/// When a notice takes effect, as an owner gives it: empty (now), a `datetime-local` value
/// (`2026-12-01T09:00`, read as UTC) or RFC 3339.
pub fn parse_effective_at(s: &str) -> Result<Option<OffsetDateTime>, Refusal> {
    use time::{
        PrimitiveDateTime, format_description::well_known::Rfc3339, macros::format_description,
    };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(Some(t));
    }
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local_secs = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, local)
        .or_else(|_| PrimitiveDateTime::parse(s, local_secs))
        .map(|t| Some(t.assume_utc()))
        .map_err(|_| Refusal::new("bad_effective_at"))
}

/// What applies to one consent, given the notices and the purpose's validity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Effect<'a> {
    /// The effective value.
    pub on: bool,
    /// A material change of the notice awaiting the person's re-confirmation.
    pub notice: Option<&'a Notice>,
    /// When a granted consent ends (a purpose with a validity).
    pub expires_at: Option<OffsetDateTime>,
    /// The consent is in its last days or has ended: the person is asked to renew it.
    pub renewal_due: bool,
}

impl Effect<'_> {
    /// The person is asked to answer (re-confirm or renew) for this consent.
    pub fn asks(&self) -> bool {
        self.notice.is_some() || self.renewal_due
    }
}

pub(crate) fn consent_effect<'a>(
    notices: &'a [Notice],
    purpose: &Purpose,
    jurisdiction: Jurisdiction,
    record: Option<&ConsentRecord>,
    at: OffsetDateTime,
) -> Effect<'a> {
    use crate::domain::validity;
    let state = record.map(|r| r.state);
    let due = reconfirmation_due(
        notices,
        &purpose.key,
        state,
        record.and_then(|r| r.notice_version.as_deref()),
        at,
    );
    let validity = purpose.legal.validity_days;
    let given = record.map(|r| r.updated_at);
    let ended = given.is_some_and(|g| validity::expired(validity, state, g, at));
    // An ended consent counts as not given (R59); so does an opt-in one awaiting a notice.
    let on = effective_after_notice(
        purpose.mode_for(jurisdiction),
        if ended { None } else { state },
        due.is_some(),
    );
    Effect {
        on,
        notice: due,
        expires_at: given
            .filter(|_| state == Some(ConsentState::Granted))
            .and_then(|g| validity::expires_at(validity, g)),
        renewal_due: given.is_some_and(|g| validity::renewal_due(validity, state, g, at)),
    }
}

impl Services {
    /// Every published notice version, in the order they take effect.
    pub async fn notices(&self) -> Result<Arc<Vec<Notice>>, Refusal> {
        Ok(self.store.notices().await?)
    }

    /// The notice version in force now: the latest published one that has taken effect, or the
    /// configured version while none has.
    pub async fn notice_version(&self) -> Result<String, Refusal> {
        let notices = self.store.notices().await?;
        Ok(in_force(&notices, now()).map_or_else(
            || self.settings.notice_version.clone(),
            |n| n.version.clone(),
        ))
    }

    /// Publishes a notice version (owners): checked against the published ones; append-only.
    pub async fn publish_notice(&self, input: NoticeInput, by: &str) -> Result<Notice, Refusal> {
        let published_at = now();
        let purposes = input
            .purposes
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| PurposeKey::parse(p).map_err(|_| Refusal::new("unknown_purpose")))
            .collect::<Result<Vec<_>, _>>()?;
        let notice = Notice {
            version: input.version.trim().to_owned(),
            effective_at: input
                .effective_at
                .map_or(published_at, crate::domain::to_micros),
            material: input.material,
            purposes,
            summary_ja: input.summary_ja.trim().to_owned(),
            summary_en: input.summary_en.trim().to_owned(),
            text_ja: input.text_ja.replace("\r\n", "\n"),
            text_en: input.text_en.replace("\r\n", "\n"),
            published_at,
            published_by: by.to_owned(),
        };
        let published = self.store.notices().await?;
        let known: Vec<PurposeKey> = self
            .store
            .purposes()
            .await?
            .iter()
            .map(|p| p.key.clone())
            .collect();
        check_new_notice(&notice, &published, &known)?;
        self.store.publish_notice(&notice).await?;
        tracing::info!(version = %notice.version, material = notice.material, by, "notice published");
        Ok(notice)
    }

    /// The material changes a person is asked to re-confirm, each with what changed (a diff of
    /// the version before it and this one) and the purposes it concerns within `scope`.
    pub(crate) async fn reconfirmations(
        &self,
        visitor: &Visitor,
        purposes: &[Purpose],
        records: &[ConsentRecord],
        lang: Lang,
    ) -> Result<Vec<ReconfirmView>, Refusal> {
        let notices = self.store.notices().await?;
        let at = now();
        let mut out: Vec<ReconfirmView> = Vec::new();
        for p in purposes {
            let due = p
                .channels
                .iter()
                .filter(|&&c| scope_allows(&visitor.scope, p, c))
                .filter_map(|&c| {
                    let record = records
                        .iter()
                        .find(|r| r.purpose == p.key && r.channel == c);
                    consent_effect(&notices, p, visitor.subject.jurisdiction, record, at).notice
                })
                .max_by_key(|n| n.effective_at);
            let Some(notice) = due else { continue };
            let entry = match out.iter_mut().find(|v| v.version == notice.version) {
                Some(v) => v,
                None => {
                    let before = previous(&notices, notice);
                    out.push(ReconfirmView {
                        version: notice.version.clone(),
                        previous_version: before.map(|b| b.version.clone()).unwrap_or_default(),
                        effective: super::zone::moment(
                            notice.effective_at,
                            visitor.subject.time_zone_name(),
                        ),
                        summary: notice.summary(lang).to_owned(),
                        diff: diff_rows(before.map_or("", |b| b.text(lang)), notice.text(lang)),
                        purposes: Vec::new(),
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            entry
                .purposes
                .push((p.key.to_string(), p.name(lang).to_owned()));
        }
        Ok(out)
    }

    /// The purposes whose consent (on some channel within `scope`) ends within the renewal window
    /// or has ended, and that no notice change already asks about.
    pub(crate) async fn renewals(
        &self,
        visitor: &Visitor,
        purposes: &[Purpose],
        records: &[ConsentRecord],
        lang: Lang,
    ) -> Result<Vec<RenewalRow>, Refusal> {
        let notices = self.store.notices().await?;
        let at = now();
        let mut out = Vec::new();
        for p in purposes {
            let effects: Vec<_> = p
                .channels
                .iter()
                .filter(|&&c| scope_allows(&visitor.scope, p, c))
                .map(|&c| {
                    let record = records
                        .iter()
                        .find(|r| r.purpose == p.key && r.channel == c);
                    consent_effect(&notices, p, visitor.subject.jurisdiction, record, at)
                })
                .collect();
            if effects.iter().any(|e| e.notice.is_some()) {
                continue;
            }
            let end = effects
                .iter()
                .filter(|e| e.renewal_due)
                .filter_map(|e| e.expires_at)
                .min();
            if let Some(end) = end {
                out.push(RenewalRow {
                    purpose: p.key.to_string(),
                    purpose_name: p.name(lang).to_owned(),
                    expires: super::zone::moment(end, visitor.subject.time_zone_name()),
                    ended: end <= at,
                });
            }
        }
        Ok(out)
    }

    /// The person answers a re-confirmation (a material notice change) or a renewal (a consent
    /// ending) for one purpose: `confirm` grants it again under the notice in force (an event
    /// even though it stays granted, which starts its validity again), otherwise withdraws it;
    /// either way only the channels asking for an answer within the link's scope change.
    pub async fn reconfirm(
        &self,
        visitor: &Visitor,
        purpose: &str,
        confirm: bool,
        mut provenance: Provenance,
    ) -> Result<Vec<Applied>, Refusal> {
        if let Some(k) = &provenance.idempotency_key {
            check_idempotency_key(k)?;
        }
        let purpose = self.purpose(purpose).await?;
        // Granting sharing or ad targeting again is a grant: through a link, which a forwarded
        // mail hands to anyone, only the person's mailbox may confirm it (a mailed sign-in).
        if confirm && super::links::grant_needs_confirmation(visitor, &purpose) {
            return Err(Refusal::new("sign_in_to_confirm"));
        }
        let notices = self.store.notices().await?;
        let records = self.store.consents(visitor.subject.id).await?;
        let at = now();
        provenance.occurred_at = at;
        provenance.notice_version = Some(self.notice_version().await?);
        let to = ConsentState::from_bool(confirm);
        let changes: Vec<Change> = purpose
            .channels
            .iter()
            .filter(|&&c| scope_allows(&visitor.scope, &purpose, c))
            .filter(|&&c| {
                let record = records
                    .iter()
                    .find(|r| r.purpose == purpose.key && r.channel == c);
                consent_effect(&notices, &purpose, visitor.subject.jurisdiction, record, at).asks()
            })
            .map(|&channel| {
                let mut provenance = provenance.clone();
                provenance.idempotency_key = provenance
                    .idempotency_key
                    .map(|k| consent_idempotency_key(&k, &purpose.key, channel));
                Change {
                    subject: visitor.subject.id,
                    purpose: purpose.key.clone(),
                    channel,
                    to,
                    provenance,
                    reconfirm: confirm,
                }
            })
            .collect();
        if changes.is_empty() {
            return Err(Refusal::new("nothing_to_reconfirm"));
        }
        Ok(self.store.apply(changes).await?)
    }

    /// The notices as a list for the console and the policy page, newest first.
    pub async fn notice_summaries(&self, lang: Lang) -> Result<Vec<NoticeSummary>, Refusal> {
        let notices = self.store.notices().await?;
        let current = in_force(&notices, now()).map(|n| n.version.clone());
        Ok(notices
            .iter()
            .rev()
            .map(|n| NoticeSummary {
                version: n.version.clone(),
                effective: format_when(n.effective_at),
                in_force: current.as_deref() == Some(n.version.as_str()),
                upcoming: n.effective_at > now(),
                material: n.material,
                purposes: n.purposes.iter().map(|p| p.to_string()).collect(),
                summary: n.summary(lang).to_owned(),
                published_by: n.published_by.clone(),
                diff: diff_rows(
                    previous(&notices, n).map_or("", |p| p.text(lang)),
                    n.text(lang),
                ),
            })
            .collect())
    }
}

/// The diff a person is shown: changed lines with a little unchanged context around them, and a
/// gap marker where unchanged lines are left out.
pub(crate) fn diff_rows(old: &str, new: &str) -> Vec<DiffRow> {
    let lines = line_diff(old, new);
    let changed: Vec<bool> = lines
        .iter()
        .map(|l| !matches!(l, DiffLine::Same(_)))
        .collect();
    let near_change = |i: usize| {
        let lo = i.saturating_sub(DIFF_CONTEXT);
        let hi = (i + DIFF_CONTEXT + 1).min(lines.len());
        changed[lo..hi].iter().any(|&c| c)
    };
    let mut rows = Vec::new();
    let mut gap = false;
    for (i, line) in lines.iter().enumerate() {
        let (kind, text) = match line {
            DiffLine::Same(_) if !near_change(i) => {
                gap = true;
                continue;
            }
            DiffLine::Same(t) => (' ', t),
            DiffLine::Removed(t) => ('-', t),
            DiffLine::Added(t) => ('+', t),
        };
        if gap {
            rows.push(DiffRow {
                kind: '…',
                line: String::new(),
            });
            gap = false;
        }
        rows.push(DiffRow {
            kind,
            line: (*text).to_owned(),
        });
    }
    if gap {
        rows.push(DiffRow {
            kind: '…',
            line: String::new(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_keeps_context_and_marks_gaps() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8";
        let new = "1\n2\n3\n4\n5\n6\n7\nEIGHT";
        let rows = diff_rows(old, new);
        let kinds: String = rows.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, "…  -+");
        assert_eq!(rows[1].line, "6");
        assert_eq!(rows[4].line, "EIGHT");
    }
}
