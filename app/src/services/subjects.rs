//! Subjects and the built-in purposes: creating a subject from raw input (each field checked)
//! and seeding the purposes a new installation starts with.

use uuid::Uuid;

use super::{Refusal, Services};
use crate::domain::{
    Email, ExternalId, Jurisdiction, Lang, NewSubject, Phone, Purpose, Subject, SubjectId,
};

impl Services {
    /// Puts the built-in purposes in place (texts are refreshed; purposes admins added are kept).
    pub async fn seed_purposes(&self) -> Result<(), Refusal> {
        let existing = self.store.purposes().await?;
        for seed in Purpose::seeds() {
            if !existing.iter().any(|p| p.key == seed.key) {
                self.console
                    .purpose_settings()
                    .save_purpose(&seed, "system")
                    .await?;
                self.store.purposes_changed();
            }
        }
        Ok(())
    }

    /// Creates a subject from raw input, validating each field, under the default jurisdiction.
    pub async fn create_subject(
        &self,
        external_id: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        lang: Lang,
    ) -> Result<Subject, Refusal> {
        self.create_subject_in(external_id, email, phone, lang, Jurisdiction::Default)
            .await
    }

    /// `create_subject` for a subject whose consents `jurisdiction`'s rules govern.
    pub async fn create_subject_in(
        &self,
        external_id: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        lang: Lang,
        jurisdiction: Jurisdiction,
    ) -> Result<Subject, Refusal> {
        let id = SubjectId(Uuid::now_v7());
        let email = email.map(Email::parse).transpose()?;
        let phone = phone.map(Phone::parse).transpose()?;
        self.check_not_erased(email.as_ref(), phone.as_ref())
            .await?;
        self.insert_subject(id, external_id, email, phone, lang, jurisdiction)
            .await
    }

    /// Creates a subject without the erasure check: for the person's own sign-up (double
    /// opt-in), which may bring back an address erased before.
    pub(crate) async fn insert_subject(
        &self,
        id: SubjectId,
        external_id: Option<&str>,
        email: Option<Email>,
        phone: Option<Phone>,
        lang: Lang,
        jurisdiction: Jurisdiction,
    ) -> Result<Subject, Refusal> {
        let external_id = match external_id {
            Some(x) => ExternalId::parse(x)?,
            None => ExternalId::parse(&id.to_string())?,
        };
        let new = NewSubject {
            external_id,
            email,
            phone,
            lang,
            jurisdiction,
        };
        Ok(self.store.create_subject(id, &new).await?)
    }
}
