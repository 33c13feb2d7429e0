//! Purpose management: the owner's form, checked against the law, saved with its audited
//! versions (who changed what, when).

use time::{Date, macros::format_description};

use super::{Refusal, Services, format_when};
use crate::{
    auth::{Admin, Role},
    domain::{
        Channel, Configured, Jurisdiction, JurisdictionModes, LegalBasis, Mode, PpcFiling, Purpose,
        PurposeKey, check_purpose, header::check_one_line,
    },
    view::{PurposeAdminRow, PurposeForm, PurposeVersionRow},
};

/// The purpose form, checked: a key, both languages' texts, a mode and at least one channel.
pub fn purpose_from_form(form: &PurposeForm) -> Result<Purpose, Refusal> {
    let key = PurposeKey::parse(form.key.trim())?;
    let text = |s: &str, max: usize| -> Result<String, Refusal> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > max {
            return Err(Refusal::new("purpose_text"));
        }
        Ok(s.to_owned())
    };
    // A purpose's names go into mail headers (List-Id, subject lines): one line each.
    let name = |s: &str| -> Result<String, Refusal> {
        let s = text(s, 100)?;
        check_one_line("name", &s)?;
        Ok(s)
    };
    let mode: Mode = form.mode.parse()?;
    let mut channels = Vec::new();
    for c in &form.channels {
        let c: Channel = c.parse()?;
        if !channels.contains(&c) {
            channels.push(c);
        }
    }
    if channels.is_empty() {
        return Err(Refusal::new("purpose_channels"));
    }
    channels.sort_by_key(|c| Channel::ALL.iter().position(|x| x == c));
    let mut modes = JurisdictionModes::default();
    for (j, m) in &form.jurisdiction_modes {
        let j: Jurisdiction = j.parse()?;
        if !m.trim().is_empty() && j != Jurisdiction::Default {
            modes.0.insert(j, m.trim().parse()?);
        }
    }
    let optional = |s: &str, max: usize| -> Result<String, Refusal> {
        let s = s.trim();
        if s.chars().count() > max {
            return Err(Refusal::new("purpose_text"));
        }
        Ok(s.to_owned())
    };
    let ppc_filing = match (form.ppc_filed_on.trim(), form.ppc_number.trim()) {
        ("", "") => None,
        (date, number) if !number.is_empty() && is_date(date) => Some(PpcFiling {
            filed_on: date.to_owned(),
            number: optional(number, 100)?,
        }),
        _ => return Err(Refusal::new("purpose_ppc_filing")),
    };
    let soft = optional(&form.soft_opt_in, 300)?;
    let validity_days = match form.validity_days.trim() {
        "" => None,
        v => match v.parse::<u32>() {
            Ok(d) if (1..=crate::domain::law::MAX_VALIDITY_DAYS).contains(&d) => Some(d),
            _ => return Err(Refusal::new("purpose_validity_days")),
        },
    };
    Ok(Purpose {
        key,
        name_ja: name(&form.name_ja)?,
        name_en: name(&form.name_en)?,
        description_ja: text(&form.description_ja, 1000)?,
        description_en: text(&form.description_en, 1000)?,
        mode,
        modes,
        channels,
        marketing: form.marketing,
        // Required: which rules guard a purpose depends on it (R39, R42).
        kind: match form.kind.trim() {
            "" => return Err(Refusal::new("purpose_kind_required")),
            kind => kind.parse()?,
        },
        legal: LegalBasis {
            soft_opt_in: (!soft.is_empty()).then_some(soft),
            ppc_filing,
            sensitive: form.sensitive,
            improperly_acquired: form.improperly_acquired,
            received_by_opt_out: form.received_by_opt_out,
            data_items: optional(&form.data_items, 500)?,
            acquired_by: optional(&form.acquired_by, 500)?,
            provided_by: optional(&form.provided_by, 500)?,
            validity_days,
        },
    })
}

/// `YYYY-MM-DD`, a real date.
fn is_date(s: &str) -> bool {
    Date::parse(s, format_description!("[year]-[month]-[day]")).is_ok()
}

/// The form a purpose fills in (for the owner's page).
pub fn purpose_form(p: &Purpose) -> PurposeForm {
    let filing = p.legal.ppc_filing.as_ref();
    PurposeForm {
        key: p.key.to_string(),
        name_ja: p.name_ja.clone(),
        name_en: p.name_en.clone(),
        description_ja: p.description_ja.clone(),
        description_en: p.description_en.clone(),
        mode: p.mode.key().to_owned(),
        jurisdiction_modes: Jurisdiction::ALL
            .into_iter()
            .filter(|j| *j != Jurisdiction::Default)
            .map(|j| {
                let m = p.modes.0.get(&j).map(|m| m.key()).unwrap_or_default();
                (j.key().to_owned(), m.to_owned())
            })
            .collect(),
        channels: p.channels.iter().map(|c| c.key().to_owned()).collect(),
        marketing: p.marketing,
        kind: p.kind.key().to_owned(),
        soft_opt_in: p.legal.soft_opt_in.clone().unwrap_or_default(),
        ppc_filed_on: filing.map(|f| f.filed_on.clone()).unwrap_or_default(),
        ppc_number: filing.map(|f| f.number.clone()).unwrap_or_default(),
        sensitive: p.legal.sensitive,
        improperly_acquired: p.legal.improperly_acquired,
        received_by_opt_out: p.legal.received_by_opt_out,
        data_items: p.legal.data_items.clone(),
        acquired_by: p.legal.acquired_by.clone(),
        provided_by: p.legal.provided_by.clone(),
        validity_days: p
            .legal
            .validity_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
    }
}

impl Services {
    /// Every purpose with its latest version (who changed it, when).
    pub async fn purpose_rows(&self) -> Result<Vec<PurposeAdminRow>, Refusal> {
        let mut rows = Vec::new();
        for p in self.store.purposes().await?.iter() {
            let versions = self
                .console
                .purpose_settings()
                .purpose_versions(&p.key)
                .await?;
            rows.push(PurposeAdminRow {
                form: purpose_form(p),
                versions: versions
                    .into_iter()
                    .map(|v| PurposeVersionRow {
                        version: v.version,
                        changed_at: format_when(v.changed_at),
                        changed_by: v.changed_by,
                        mode: match v.purpose.modes.to_text() {
                            m if m.is_empty() => v.purpose.mode.key().to_owned(),
                            m => format!("{}; {m}", v.purpose.mode.key()),
                        },
                        channels: v
                            .purpose
                            .channels
                            .iter()
                            .map(|c| c.key().to_owned())
                            .collect(),
                    })
                    .collect(),
            });
        }
        Ok(rows)
    }

    /// An owner adds a purpose or changes one. The change is a new version (who, when); a mode
    /// change applies from now on: events already recorded are never rewritten.
    pub async fn save_purpose(&self, admin: &Admin, form: &PurposeForm) -> Result<i64, Refusal> {
        if !admin.role.allows(Role::Owner) {
            return Err(Refusal::new("forbidden_role"));
        }
        let purpose = purpose_from_form(form)?;
        self.check_purpose(&purpose)?;
        let version = self
            .console
            .purpose_settings()
            .save_purpose(&purpose, &format!("admin:{}", admin.id))
            .await?;
        self.store.purposes_changed();
        tracing::info!(purpose = %purpose.key, version, mode = purpose.mode.key(), admin = %admin.id, "purpose saved");
        // People who objected to direct marketing object to this one too (GDPR Art. 21(3)).
        self.apply_objections_to(&purpose).await?;
        Ok(version)
    }

    /// Refuses a purpose configured against the law, naming the rule (its code).
    pub fn check_purpose(&self, p: &Purpose) -> Result<(), Refusal> {
        let sender = &self.settings.sender;
        let sender_items_published = [&sender.name, &sender.postal_address, &sender.representative]
            .iter()
            .all(|s| !s.trim().is_empty());
        check_purpose(&Configured {
            kind: p.kind,
            marketing: p.marketing,
            default_mode: p.mode,
            modes: &p.modes,
            channels: &p.channels,
            legal: &p.legal,
            sender_items_published,
        })
        .map_err(|rule| Refusal::new(rule.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purpose_form_is_checked() {
        let mut form = crate::view::PurposeForm {
            key: "surveys".into(),
            name_ja: "アンケート".into(),
            name_en: "Surveys".into(),
            description_ja: "ご意見をうかがいます。".into(),
            description_en: "We ask for your opinion.".into(),
            mode: "opt_in".into(),
            channels: vec!["sms".into(), "email".into(), "email".into()],
            jurisdiction_modes: vec![("jp".into(), "opt_in".into()), ("eu".into(), "".into())],
            kind: "other".into(),
            ..Default::default()
        };
        let p = purpose_from_form(&form).unwrap();
        assert_eq!(p.channels, [Channel::Email, Channel::Sms]);
        assert_eq!(p.modes.to_text(), "jp=opt_in");
        assert_eq!(p.kind, crate::domain::PurposeKind::Other);
        let mut no_kind = form.clone();
        no_kind.kind = " ".into();
        assert_eq!(
            purpose_from_form(&no_kind).unwrap_err().code,
            "purpose_kind_required"
        );
        let mut header_break = form.clone();
        header_break.name_en = "Surveys\r\nBcc: all@example.com".into();
        assert_eq!(
            purpose_from_form(&header_break).unwrap_err().code,
            "control_characters"
        );
        form.ppc_filed_on = "2026-02-30".into();
        form.ppc_number = "PPC-1".into();
        assert_eq!(
            purpose_from_form(&form).unwrap_err().code,
            "purpose_ppc_filing"
        );
        form.ppc_filed_on = "2026-02-27".into();
        let p = purpose_from_form(&form).unwrap();
        assert_eq!(p.legal.ppc_filing.unwrap().number, "PPC-1");
        let mut wrong = form.clone();
        wrong.kind = "lottery".into();
        assert_eq!(purpose_from_form(&wrong).unwrap_err().code, "unknown_kind");
        wrong.kind = "other".into();
        wrong.jurisdiction_modes = vec![("mars".into(), "opt_in".into())];
        assert_eq!(
            purpose_from_form(&wrong).unwrap_err().code,
            "unknown_jurisdiction"
        );
        form.channels.clear();
        assert_eq!(
            purpose_from_form(&form).unwrap_err().code,
            "purpose_channels"
        );
        form.channels = vec!["email".into()];
        form.name_en = " ".into();
        assert_eq!(purpose_from_form(&form).unwrap_err().code, "purpose_text");
        form.name_en = "Surveys".into();
        form.key = "Bad Key".into();
        assert!(purpose_from_form(&form).is_err());
    }
}
