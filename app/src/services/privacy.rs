//! The public privacy policy's contents: the sender's display items, each purpose with its
//! modes, and the APPI 27(2) items of any opt-out provision to third parties.

use super::{Refusal, Services, format_when, now};
use crate::domain::{Jurisdiction, Lang};

impl Services {
    /// The public privacy policy: the sender's items, each purpose with its modes, and for
    /// opt-out provision in Japan the APPI 27(2) items (R46, R48).
    pub async fn privacy_view(&self, lang: Lang) -> Result<crate::view::PrivacyView, Refusal> {
        use crate::domain::{Mode, PurposeKind};
        let sender = &self.settings.sender;
        let purposes = self
            .store
            .purposes()
            .await?
            .iter()
            .map(|p| {
                let jp_opt_out = p.kind == PurposeKind::ThirdPartySharing
                    && p.mode_for(Jurisdiction::Jp) == Mode::OptOut;
                let opt_out_provision = jp_opt_out.then(|| crate::view::OptOutProvision {
                    data_items: p.legal.data_items.clone(),
                    acquired_by: p.legal.acquired_by.clone(),
                    provided_by: p.legal.provided_by.clone(),
                    filed_on: p
                        .legal
                        .ppc_filing
                        .as_ref()
                        .map(|f| f.filed_on.clone())
                        .unwrap_or_default(),
                    filing_number: p
                        .legal
                        .ppc_filing
                        .as_ref()
                        .map(|f| f.number.clone())
                        .unwrap_or_default(),
                });
                crate::view::PrivacyPurpose {
                    key: p.key.to_string(),
                    name: p.name(lang).to_owned(),
                    description: p.description(lang).to_owned(),
                    channels: p.channels.clone(),
                    mode: p.mode,
                    modes: p
                        .modes
                        .0
                        .iter()
                        .map(|(j, m)| (j.key().to_owned(), *m))
                        .collect(),
                    opt_out_provision,
                }
            })
            .collect();
        let notices = self.store.notices().await?;
        let in_force = crate::domain::notice::in_force(&notices, now());
        Ok(crate::view::PrivacyView {
            lang,
            sender_name: sender.name.clone(),
            sender_address: sender.postal_address.clone(),
            sender_representative: sender.representative.clone(),
            sender_contact: sender.contact.clone(),
            notice_version: self.notice_version().await?,
            notice_text: in_force
                .map(|n| n.text(lang).to_owned())
                .unwrap_or_default(),
            notice_effective: in_force
                .map(|n| format_when(n.effective_at))
                .unwrap_or_default(),
            purposes,
            retention_days: self.settings.retention_days,
        })
    }
}
