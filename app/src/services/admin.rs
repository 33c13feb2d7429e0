//! What admins see and do in the console: search subjects, read a subject's whole record, change
//! a consent on a person's behalf (with the reason on the event), manage admins and API keys.

use uuid::Uuid;

use super::{Refusal, Services, format_when, matrix, now};
use crate::{
    auth::{Admin, Role},
    domain::{Actor, Change, ConsentState, Provenance, Source, Subject, SubjectId},
    store::Applied,
    token::Scope,
    view::{AdminRow, AdminSubjectView, ApiKeyRow, SubjectSummary},
};

/// A change an operator makes on a person's behalf, as the form sent it.
#[derive(Debug, Clone, Copy)]
pub struct BehalfChange<'a> {
    pub subject: &'a str,
    pub purpose: &'a str,
    pub channel: &'a str,
    pub state: &'a str,
    /// Why (mandatory; recorded on the event).
    pub reason: &'a str,
}

/// The longest reason an operator may record.
pub const MAX_REASON_CHARS: usize = 500;

pub fn summary(s: &Subject) -> SubjectSummary {
    SubjectSummary {
        id: s.id.to_string(),
        external_id: s.external_id.as_str().to_owned(),
        email: s.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
        lang: s.lang,
        jurisdiction: s.jurisdiction.key().to_owned(),
        time_zone: s.time_zone_name().to_owned(),
    }
}

impl Services {
    /// A subject's page: who, the current matrix, and its timeline (filtered, paged).
    pub async fn admin_subject_view(
        &self,
        id: &str,
        lang: crate::domain::Lang,
        filter: crate::view::EventFilterForm,
        before: Option<i64>,
    ) -> Result<AdminSubjectView, Refusal> {
        let id =
            SubjectId(Uuid::parse_str(id.trim()).map_err(|_| Refusal::new("unknown_subject_id"))?);
        // Independent reads, run together: the page waits for the slowest, not for their sum.
        // (For an unknown id the others find nothing, and the page is refused.)
        let (subject, purposes, records, notices, events, provisions, erasure) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.store.subject(id).await?) },
            async { Ok(self.store.purposes().await?) },
            async { Ok(self.store.consents(id).await?) },
            async { Ok(self.store.notices().await?) },
            self.event_page(filter, Some(id), before, lang),
            // The console reads every time in UTC.
            self.provision_rows(id, "UTC"),
            async { Ok(self.console.erasures().erasure(id).await?) },
        )?;
        let subject = subject.ok_or(Refusal::new("unknown_subject_id"))?;
        let (pauses, frequencies) = tokio::try_join!(
            self.pause_rows(id, &Scope::Everything, &purposes, "UTC", lang),
            self.frequency_rows(id, &purposes, lang),
        )?;
        let (channels, rows) = matrix(
            &purposes,
            &records,
            &notices,
            &Scope::Everything,
            subject.jurisdiction,
            "UTC",
            lang,
        );
        Ok(AdminSubjectView {
            subject: summary(&subject),
            channels,
            purposes: rows,
            events,
            provisions,
            pauses,
            frequencies,
            erasure: erasure.map(|e| crate::view::ErasureRow {
                when: super::format_when(e.erased_at),
                by: e.erased_by,
                reason: e.reason,
            }),
        })
    }

    /// An operator changes a consent for a person (who asked by phone, say). The reason is
    /// mandatory and recorded on the event with the admin as its actor.
    pub async fn admin_set_consent(
        &self,
        admin: &Admin,
        change: BehalfChange<'_>,
        mut provenance: Provenance,
    ) -> Result<Applied, Refusal> {
        let BehalfChange {
            subject,
            purpose,
            channel,
            state,
            reason,
        } = change;
        if !admin.role.allows(Role::Operator) {
            return Err(Refusal::new("forbidden_role"));
        }
        let reason = reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refusal::new("reason_required"));
        }
        let id = Uuid::parse_str(subject.trim()).map_err(|_| Refusal::new("unknown_subject_id"))?;
        let subject = self
            .store
            .subject(SubjectId(id))
            .await?
            .ok_or(Refusal::new("unknown_subject_id"))?;
        let to: ConsentState = state.parse()?;
        let (purpose, channel) = self.purpose_on(purpose, channel).await?;
        self.check_objection(subject.id, &purpose, to).await?;
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        provenance.source = Source::Admin;
        provenance.actor = Actor::Admin(admin.id.to_string());
        provenance.reason = Some(reason.to_owned());
        let change = Change {
            subject: subject.id,
            purpose: purpose.key,
            channel,
            to,
            provenance,
            reconfirm: false,
        };
        self.apply_one(change).await
    }

    pub async fn admin_rows(&self) -> Result<Vec<AdminRow>, Refusal> {
        Ok(self
            .identity
            .admins()
            .await?
            .into_iter()
            .map(|a| AdminRow {
                email: a.email,
                role: a.role.key().to_owned(),
                totp: a.totp_secret.is_some(),
                disabled: a.disabled_at.is_some(),
                created: format_when(a.created_at),
            })
            .collect())
    }

    pub async fn api_key_rows(&self) -> Result<Vec<ApiKeyRow>, Refusal> {
        Ok(self
            .store
            .api_keys()
            .await?
            .into_iter()
            .map(|k| ApiKeyRow {
                id: k.id,
                name: k.name,
                scopes: k
                    .scopes
                    .iter()
                    .map(|s| s.key())
                    .collect::<Vec<_>>()
                    .join(", "),
                created: format_when(k.created_at),
                revoked: k.revoked_at.is_some(),
            })
            .collect())
    }
}
