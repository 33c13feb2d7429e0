//! APPI records: third-party recipients and a record of every provision of a person's data to
//! one (第29条; R51), refused at once when the person has not agreed or has asked to stop
//! (第35条; R53: the stop request is the withdrawal of the sharing purpose, itself an audited
//! event). The person sees what was provided of their own data.

use super::{Refusal, Services, now};
use crate::{
    domain::{
        PurposeKind, Subject, SubjectId,
        webhook::{RecipientNotification, WithdrawalDelivery, withdrawal_delivery},
    },
    store::{Acquisition, Provision, Recipient},
};

/// The person's latest events read to tell whether a withdrawal followed a provision.
const EVENTS_READ: u32 = 10_000;

/// Unix ms as a time.
pub(crate) fn ms_time(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Data received from another business (APPI 第30条): what the recipient confirms on receipt.
#[derive(Debug, Clone, Default)]
pub struct AcquisitionInput<'a> {
    pub provider_name: &'a str,
    pub provider_address: &'a str,
    pub provider_representative: &'a str,
    /// How the provider acquired the data.
    pub acquired_by: &'a str,
    pub data_items: &'a [String],
}

/// What a sender's system reports when it provides a person's data to a recipient.
#[derive(Debug, Clone, Default)]
pub struct ProvisionInput<'a> {
    /// The recipient's id.
    pub recipient: &'a str,
    /// The sharing purpose (default: the only purpose of kind `third_party_sharing`).
    pub purpose: Option<&'a str>,
    /// The items that identify the person to the recipient (e.g. `email`, `name`).
    pub identified_by: &'a [String],
    /// The data items provided.
    pub data_items: &'a [String],
}

/// A list of short items (1 to 20, each 1–100 characters), joined for the record.
fn items(list: &[String], code: &'static str) -> Result<String, Refusal> {
    let cleaned: Vec<&str> = list
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if cleaned.is_empty()
        || cleaned.len() > 20
        || cleaned
            .iter()
            .any(|s| s.chars().count() > 100 || s.chars().any(char::is_control))
    {
        return Err(Refusal::new(code));
    }
    Ok(cleaned.join(", "))
}

impl Services {
    /// Adds or changes a recipient (name, address, representative: APPI 第27条).
    pub async fn save_recipient(&self, r: Recipient) -> Result<Recipient, Refusal> {
        let id_ok = (2..=48).contains(&r.id.len())
            && r.id.starts_with(|c: char| c.is_ascii_lowercase())
            && r.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        let text_ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 300;
        if !id_ok || !text_ok(&r.name) || !text_ok(&r.address) || !text_ok(&r.representative) {
            return Err(Refusal::new("recipient_invalid"));
        }
        let r = Recipient {
            id: r.id,
            name: r.name.trim().to_owned(),
            address: r.address.trim().to_owned(),
            representative: r.representative.trim().to_owned(),
        };
        self.console.register().save_recipient(&r).await?;
        Ok(r)
    }

    pub async fn recipients(&self) -> Result<Vec<Recipient>, Refusal> {
        Ok(self.console.register().recipients().await?)
    }

    /// Records one provision of `subject`'s data, if the person's sharing consent is in effect
    /// on any channel for their jurisdiction; refuses (`provision_not_allowed`) otherwise, so a
    /// stop request takes effect at once.
    pub async fn record_provision(
        &self,
        subject: &Subject,
        input: ProvisionInput<'_>,
        recorded_by: &str,
    ) -> Result<Provision, Refusal> {
        let identified_by = items(input.identified_by, "provision_items")?;
        let data_items = items(input.data_items, "provision_items")?;
        if !self
            .console
            .register()
            .recipients()
            .await?
            .iter()
            .any(|r| r.id == input.recipient)
        {
            return Err(Refusal::new("unknown_recipient"));
        }
        let purposes = self.store.purposes().await?;
        let sharing: Vec<_> = purposes
            .iter()
            .filter(|p| p.kind == PurposeKind::ThirdPartySharing)
            .collect();
        let purpose = match input.purpose {
            Some(key) => sharing
                .iter()
                .find(|p| p.key.as_str() == key.trim())
                .ok_or(Refusal::new("unknown_purpose"))?,
            None => match sharing.as_slice() {
                [only] => only,
                _ => return Err(Refusal::new("unknown_purpose")),
            },
        };
        let consents = self.store.consents(subject.id).await?;
        let notices = self.store.notices().await?;
        let at = now();
        // A consent awaiting re-confirmation of a material notice change does not cover provision.
        let allowed = purpose.channels.iter().any(|&channel| {
            let record = consents
                .iter()
                .find(|c| c.purpose == purpose.key && c.channel == channel);
            super::consent_effect(&notices, purpose, subject.jurisdiction, record, at).on
        });
        if !allowed {
            return Err(Refusal::new("provision_not_allowed"));
        }
        let provision = Provision {
            seq: 0,
            subject: subject.id,
            recipient: input.recipient.to_owned(),
            purpose: purpose.key.clone(),
            provided_at: now(),
            identified_by,
            data_items,
            recorded_by: recorded_by.to_owned(),
            recipient_as_provided: None,
        };
        // Stored with the recipient as it is now (R51); one removed meanwhile is unknown.
        let provision = match self.console.register().add_provision(&provision).await {
            Err(crate::store::StoreError::MissingReference(_)) => {
                return Err(Refusal::new("unknown_recipient"));
            }
            stored => stored?,
        };
        tracing::info!(subject = %subject.id, recipient = %provision.recipient, seq = provision.seq, "provision recorded");
        Ok(provision)
    }

    /// Records data about `subject` received from another business, with the items 第30条 has
    /// the recipient confirm (the provider's name, address and representative, and how the
    /// provider acquired it).
    pub async fn record_acquisition(
        &self,
        subject: &Subject,
        input: AcquisitionInput<'_>,
        recorded_by: &str,
    ) -> Result<Acquisition, Refusal> {
        let text = |s: &str| -> Result<String, Refusal> {
            let s = s.trim();
            if s.is_empty() || s.chars().count() > 300 {
                return Err(Refusal::new("acquisition_invalid"));
            }
            Ok(s.to_owned())
        };
        let mut a = Acquisition {
            seq: 0,
            subject: subject.id,
            provider_name: text(input.provider_name)?,
            provider_address: text(input.provider_address)?,
            provider_representative: text(input.provider_representative)?,
            acquired_by: text(input.acquired_by)?,
            data_items: items(input.data_items, "acquisition_invalid")?,
            received_at: now(),
            recorded_by: recorded_by.to_owned(),
        };
        a.seq = self.console.register().add_acquisition(&a).await?;
        Ok(a)
    }

    /// The person's own acquisition records, newest first.
    pub async fn acquisitions(&self, subject: &Subject) -> Result<Vec<Acquisition>, Refusal> {
        Ok(self
            .console
            .register()
            .acquisitions(subject.id, 200)
            .await?)
    }

    /// The person's own provision records, newest first, each with its recipient as it was when
    /// the data was provided (R51; records from before Doui kept it: the recipient as it is now).
    pub async fn provisions_as_provided(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<Provision>, Refusal> {
        let (recipients, mut provisions) = tokio::try_join!(
            self.console.register().recipients(),
            self.console.register().provisions(subject, 200),
        )?;
        for p in provisions
            .iter_mut()
            .filter(|p| p.recipient_as_provided.is_none())
        {
            p.recipient_as_provided = recipients.iter().find(|r| r.id == p.recipient).cloned();
        }
        Ok(provisions)
    }

    /// The person's own provision records (as [`Services::provisions_as_provided`]), each with
    /// whether its recipient was told of a withdrawal of the sharing since (R22): `None` when
    /// nothing was withdrawn after it. Also every notification recorded about the person.
    pub async fn provisions_with_withdrawals(
        &self,
        subject: SubjectId,
    ) -> Result<
        (
            Vec<(Provision, Option<WithdrawalDelivery>)>,
            Vec<RecipientNotification>,
        ),
        Refusal,
    > {
        let (provisions, events, notifications) = tokio::try_join!(
            self.provisions_as_provided(subject),
            async { Ok(self.store.events_for_subject(subject, EVENTS_READ).await?) },
            async { Ok(self.console.recipient_notifications(subject).await?) },
        )?;
        let rows = provisions
            .into_iter()
            .map(|p| {
                let w = withdrawal_delivery(
                    &p.recipient,
                    &p.purpose,
                    p.provided_at,
                    &events,
                    &notifications,
                );
                (p, w)
            })
            .collect();
        Ok((rows, notifications))
    }

    /// The person's own provision records, newest first, with each recipient's name and address
    /// as they were when the data was provided, and whether it was told of a withdrawal since;
    /// times in `zone`.
    pub async fn provision_rows(
        &self,
        subject: SubjectId,
        zone: &str,
    ) -> Result<Vec<crate::view::ProvisionRow>, Refusal> {
        Ok(self
            .provisions_with_withdrawals(subject)
            .await?
            .0
            .into_iter()
            .map(|(p, w)| {
                let r = p.recipient_as_provided.as_ref();
                crate::view::ProvisionRow {
                    when: super::zone::moment(p.provided_at, zone),
                    recipient: r.map_or_else(|| p.recipient.clone(), |r| r.name.clone()),
                    recipient_address: r.map(|r| r.address.clone()).unwrap_or_default(),
                    data_items: p.data_items,
                    withdrawal: w.map(|w| crate::view::WithdrawalRow {
                        delivered_at: match w {
                            WithdrawalDelivery::Delivered(at) => {
                                Some(super::zone::moment(ms_time(at), zone).text)
                            }
                            WithdrawalDelivery::NotYet => None,
                        },
                    }),
                }
            })
            .collect())
    }
}
