//! Erasure on request (GDPR Art. 17; R35): the person's identifiers go, every consent is
//! withdrawn first (audited, so nothing is sent meanwhile), the events stay as evidence under the
//! random id alone, and a digest of each identifier stays so the address is never imported and
//! contacted again. The person may still subscribe again themselves (double opt-in).

use uuid::Uuid;

use super::{MAX_REASON_CHARS, Refusal, Services, now};
use crate::{
    domain::{
        Actor, Change, ConsentState, ERASURE_REASON, Email, Phone, Provenance, Source, Subject,
        SubjectId, erased_identifier, legacy_erased_digest,
    },
    store::Erasure,
};

/// Who erases: an admin (operator or owner) in the console, the command line, or a sender's
/// system with an API key (`subjects:write`).
#[derive(Debug, Clone)]
pub enum Eraser<'a> {
    Admin(&'a crate::auth::Admin),
    Cli,
    ApiKey(&'a str),
}

impl Services {
    /// Refuses to create (import) a subject whose email or phone was erased before.
    pub(crate) async fn check_not_erased(
        &self,
        email: Option<&Email>,
        phone: Option<&Phone>,
    ) -> Result<(), Refusal> {
        let mut identifiers = Vec::new();
        if let Some(e) = email {
            identifiers.push(erased_identifier("email", e.as_str()));
        }
        if let Some(p) = phone {
            identifiers.push(erased_identifier("phone", p.as_str()));
        }
        // Keyed digests, and the unkeyed ones erasures made before keyed digests still hold.
        let digests: Vec<String> = identifiers
            .iter()
            .flat_map(|i| [self.data_key.digest(i), legacy_erased_digest(i)])
            .collect();
        if !digests.is_empty() && self.console.erasures().erased_identifier(&digests).await? {
            return Err(Refusal::new("erased_identifier"));
        }
        Ok(())
    }

    /// A subject by its id, external id or email (erased ones included).
    pub(super) async fn subject_by_any_key(&self, key: &str) -> Result<Subject, Refusal> {
        let key = key.trim();
        let found = match Uuid::parse_str(key) {
            Ok(id) => self.store.subject(SubjectId(id)).await?,
            Err(_) => self.store.find_subject(key).await?,
        };
        found.ok_or(Refusal::new("unknown_subject_key"))
    }

    /// Erases a subject (by id, external id or email) with a mandatory reason.
    pub async fn erase_subject(
        &self,
        key: &str,
        reason: &str,
        by: Eraser<'_>,
        mut provenance: Provenance,
    ) -> Result<Erasure, Refusal> {
        let source = if matches!(by, Eraser::ApiKey(_)) {
            Source::Api
        } else {
            Source::Admin
        };
        let (actor, erased_by) = match by {
            Eraser::Admin(admin) => {
                if !admin.role.allows(crate::auth::Role::Operator) {
                    return Err(Refusal::new("forbidden_role"));
                }
                (
                    Actor::Admin(admin.id.to_string()),
                    format!("admin:{}", admin.email),
                )
            }
            Eraser::Cli => (Actor::System, "cli".to_owned()),
            Eraser::ApiKey(id) => (Actor::ApiKey(id.to_owned()), format!("api_key:{id}")),
        };

        let reason = reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refusal::new("reason_required"));
        }
        let subject = self.subject_by_any_key(key).await?;
        if subject.erased_at.is_some() {
            return Err(Refusal::new("already_erased"));
        }
        // Withdraw everything first, as audited events: from now on nothing may be sent.
        let at = now();
        provenance.occurred_at = at;
        provenance.notice_version = Some(self.notice_version().await?);
        provenance.source = source;
        provenance.actor = actor;
        provenance.reason = Some(format!("{ERASURE_REASON}{reason}"));
        provenance.idempotency_key = None;
        let changes: Vec<Change> = self
            .store
            .purposes()
            .await?
            .iter()
            .flat_map(|p| {
                let provenance = provenance.clone();
                p.channels.clone().into_iter().map(move |channel| Change {
                    subject: subject.id,
                    purpose: p.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance: provenance.clone(),
                    reconfirm: false,
                })
            })
            .collect();
        self.store.apply(changes).await?;
        let erasure = Erasure {
            subject: subject.id,
            erased_at: at,
            erased_by,
            reason: reason.to_owned(),
            placeholder: format!("erased-{}", subject.id.0.simple()),
            digests: subject
                .erased_identifiers()
                .into_iter()
                .map(|(k, i)| (k.to_owned(), self.data_key.digest(&i)))
                .collect(),
            email: subject.email.as_ref().map(|e| e.as_str().to_owned()),
        };
        if !self.console.erasures().erase_subject(&erasure).await? {
            return Err(Refusal::new("already_erased"));
        }
        // Messages to the person that a transport still keeps (the outbox's files) go too.
        if let Some(email) = &subject.email {
            match self.mailer.forget(email.as_str()).await {
                Ok(deleted) => tracing::info!(subject = %subject.id, deleted, "kept mail deleted"),
                Err(e) => tracing::error!(
                    subject = %subject.id,
                    error = %crate::mail::without_addresses(&e),
                    "kept mail could not be deleted"
                ),
            }
        }
        tracing::info!(subject = %subject.id, by = %erasure.erased_by, "subject erased");
        Ok(erasure)
    }
}
