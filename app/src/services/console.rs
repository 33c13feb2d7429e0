//! The console's reading rules: subject search (exact, then prefix, paged), event streams with
//! filters, the charts' counts, and purpose management with its audited versions.

use std::collections::{BTreeMap, HashSet};

use time::{Date, macros::format_description};

use super::{Refusal, Services, admin::summary, format_when, now};
use crate::{
    auth::{Admin, Role},
    domain::{
        Channel, Configured, ConsentEvent, ConsentState, Jurisdiction, JurisdictionModes,
        LegalBasis, Mode, PpcFiling, Purpose, PurposeKey, Source, Subject, SubjectId,
        check_purpose, header::check_one_line,
    },
    store::{EventCursor, EventFilter, SubjectField},
    view::{
        AdminEventRow, ChartSeries, ChartView, EventFilterForm, EventPageView, PurposeAdminRow,
        PurposeForm, PurposeVersionRow, SubjectSearchView,
    },
};

/// Subjects per search page.
pub const SEARCH_PAGE: usize = 50;
/// Events per console page.
pub const EVENT_PAGE: u32 = 100;
/// Days before today a chart covers when the filter names no start.
pub const CHART_DAYS: i64 = 30;

/// An event as the console lists it.
pub fn event_row(seq: i64, e: ConsentEvent) -> AdminEventRow {
    let p = e.provenance;
    let when = format_when(p.occurred_at);
    AdminEventRow {
        seq,
        subject: e.subject.to_string(),
        recorded: e.recorded_at.map(format_when).filter(|r| *r != when),
        when,
        purpose: e.purpose.to_string(),
        channel: e.channel,
        from: e.from,
        to: e.to,
        source: p.source.key().to_owned(),
        actor: p.actor.to_string(),
        notice_version: p.notice_version,
        origin_ip: p.origin.ip,
        reason: p.reason,
        campaign: p.campaign,
        collection_point: p.collection_point.clone(),
        collection_point_key: p.collection_point,
    }
}

/// Names each row's collection point in `lang` (rows name it by key until then).
pub fn name_collection_points(
    rows: &mut [AdminEventRow],
    points: &[crate::domain::CollectionPoint],
    lang: crate::domain::Lang,
) {
    for row in rows {
        if let Some(key) = &row.collection_point_key
            && let Some(p) = points.iter().find(|p| &p.key == key)
        {
            row.collection_point = Some(p.name(lang).to_owned());
        }
    }
}

fn parse_day(text: &str) -> Result<Date, Refusal> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| Refusal::new("bad_date"))
}

impl EventFilterForm {
    /// The filter the form describes (dates are whole UTC days, `until` included).
    pub fn to_filter(&self, subject: Option<SubjectId>) -> Result<EventFilter, Refusal> {
        fn some(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let from = some(&self.from)
            .map(parse_day)
            .transpose()?
            .map(|d| d.midnight().assume_utc());
        let until = some(&self.until)
            .map(parse_day)
            .transpose()?
            .map(|d| (d.midnight().assume_utc()) + time::Duration::days(1));
        if let (Some(f), Some(u)) = (from, until)
            && u <= f
        {
            return Err(Refusal::new("bad_date_range"));
        }
        Ok(EventFilter {
            subject,
            purpose: some(&self.purpose).map(PurposeKey::parse).transpose()?,
            channel: some(&self.channel).map(str::parse::<Channel>).transpose()?,
            source: some(&self.source).map(str::parse::<Source>).transpose()?,
            from,
            until,
        })
    }

    /// The form as query parameters (for links to the next page and to exports).
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("purpose", &self.purpose),
            ("channel", &self.channel),
            ("source", &self.source),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                parts.push(format!("{k}={}", crate::view::url_encode(v.trim())));
            }
        }
        parts.join("&")
    }
}

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
    /// Subjects whose external id, email or phone is `query` (first) or starts with it, in the
    /// order of the matched value, `SEARCH_PAGE` per page. An empty query lists by external id.
    pub async fn search_subjects(
        &self,
        query: &str,
        page: u32,
    ) -> Result<SubjectSearchView, Refusal> {
        let query = query.trim();
        let page = page.min(1_000);
        let want = (page as usize + 1) * SEARCH_PAGE + 1;
        let mut found: Vec<(String, Subject)> = Vec::new();
        if !query.is_empty() {
            let lowered = crate::domain::Email::parse(query)
                .map(|e| e.as_str().to_owned())
                .unwrap_or_else(|_| query.to_owned());
            for s in self
                .store
                .find_subjects(&[query.to_owned(), lowered])
                .await?
            {
                found.push((String::new(), s));
            }
        }
        let phone: String = query
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let mut prefixed: Vec<(String, Subject)> = Vec::new();
        let mut fields = vec![(SubjectField::ExternalId, query.to_owned())];
        if !query.is_empty() {
            fields.push((SubjectField::Email, query.to_owned()));
            if query.to_lowercase() != query {
                fields.push((SubjectField::Email, query.to_lowercase()));
            }
            if !phone.is_empty() && phone.chars().all(|c| c == '+' || c.is_ascii_digit()) {
                fields.push((SubjectField::Phone, phone));
            }
        }
        for (field, prefix) in fields {
            for s in self
                .console
                .subject_records()
                .subjects_by_prefix(field, &prefix, want as u32)
                .await?
            {
                let value = match field {
                    SubjectField::ExternalId => s.external_id.as_str().to_owned(),
                    SubjectField::Email => s.email.as_ref().map_or("", |e| e.as_str()).to_owned(),
                    SubjectField::Phone => s.phone.as_ref().map_or("", |p| p.as_str()).to_owned(),
                };
                prefixed.push((value, s));
            }
        }
        prefixed.sort_by(|a, b| a.0.cmp(&b.0));
        // Exact matches first, then the prefix ones; each subject once.
        found.extend(prefixed);
        let mut seen = HashSet::new();
        found.retain(|(_, s)| seen.insert(s.id));
        let start = page as usize * SEARCH_PAGE;
        let has_more = found.len() > start + SEARCH_PAGE;
        let subjects = found
            .into_iter()
            .skip(start)
            .take(SEARCH_PAGE)
            .map(|(_, s)| summary(&s))
            .collect();
        Ok(SubjectSearchView {
            query: query.to_owned(),
            subjects,
            page,
            has_more,
        })
    }

    /// A page of events, newest first, below `before` (a seq; the first page when `None`).
    pub async fn event_page(
        &self,
        form: EventFilterForm,
        subject: Option<SubjectId>,
        before: Option<i64>,
        lang: crate::domain::Lang,
    ) -> Result<EventPageView, Refusal> {
        let filter = form.to_filter(subject)?;
        let cursor = EventCursor::NewestBelow(before.unwrap_or(i64::MAX));
        let events = self
            .console
            .event_log()
            .events(&filter, cursor, EVENT_PAGE + 1)
            .await?;
        let more = events.len() > EVENT_PAGE as usize;
        let mut rows: Vec<AdminEventRow> = events
            .into_iter()
            .take(EVENT_PAGE as usize)
            .map(|(seq, e)| event_row(seq, e))
            .collect();
        if rows.iter().any(|r| r.collection_point_key.is_some()) {
            let points = self.console.points().collection_points().await?;
            name_collection_points(&mut rows, &points, lang);
        }
        let next_before = if more {
            rows.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(EventPageView {
            query: form.query(),
            filter: form,
            rows,
            next_before,
        })
    }

    /// Opt-ins and opt-outs per day, per purpose and channel, and per source (the SVG charts).
    pub async fn event_chart(
        &self,
        form: &EventFilterForm,
        subject: Option<SubjectId>,
    ) -> Result<ChartView, Refusal> {
        let mut filter = form.to_filter(subject)?;
        let today = now().date();
        let until = filter
            .until
            .unwrap_or_else(|| (today + time::Duration::days(1)).midnight().assume_utc());
        let from = filter
            .from
            .unwrap_or(until - time::Duration::days(CHART_DAYS + 1));
        // At most a year of days on one chart.
        let from = from.max(until - time::Duration::days(366));
        filter.from = Some(from);
        filter.until = Some(until);
        let counts = self.console.event_log().event_counts(&filter).await?;
        let mut days = Vec::new();
        let mut d = from.date();
        while d < until.date() {
            days.push(d.to_string());
            d = d.next_day().unwrap_or(d);
        }
        let index: BTreeMap<&str, usize> = days
            .iter()
            .enumerate()
            .map(|(i, d)| (d.as_str(), i))
            .collect();
        let mut by_kind: BTreeMap<(String, ConsentState), Vec<i64>> = BTreeMap::new();
        let mut by_source: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for c in &counts {
            let Some(&i) = index.get(c.day.as_str()) else {
                continue;
            };
            let label = format!("{} · {}", c.purpose, c.channel);
            by_kind
                .entry((label, c.to))
                .or_insert_with(|| vec![0; days.len()])[i] += c.count;
            by_source
                .entry(c.source.clone())
                .or_insert_with(|| vec![0; days.len()])[i] += c.count;
        }
        Ok(ChartView {
            days,
            series: by_kind
                .into_iter()
                .map(|((label, to), values)| ChartSeries {
                    label,
                    granted: to == ConsentState::Granted,
                    values,
                })
                .collect(),
            sources: by_source
                .into_iter()
                .map(|(label, values)| ChartSeries {
                    label,
                    granted: false,
                    values,
                })
                .collect(),
        })
    }

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

    /// Issue 30, item 8: a change dated in the past shows when it was recorded beside it.
    #[test]
    fn h08_an_event_row_shows_its_recorded_time_when_it_differs() {
        use crate::domain::{
            Actor, Channel, ConsentEvent, ConsentState, Origin, Provenance, Source, SubjectId,
        };
        use time::macros::datetime;
        let event = |recorded_at| ConsentEvent {
            id: uuid::Uuid::nil(),
            subject: SubjectId(uuid::Uuid::nil()),
            purpose: crate::domain::PurposeKey::parse("newsletter").unwrap(),
            channel: Channel::Email,
            from: None,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: datetime!(2024-06-01 09:00:10 UTC),
                source: Source::Api,
                actor: Actor::System,
                notice_version: None,
                origin: Origin::default(),
                idempotency_key: None,
                reason: None,
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            recorded_at,
        };
        let late = event_row(1, event(Some(datetime!(2026-12-06 13:40:00 UTC))));
        assert_eq!(late.when, "2024-06-01 09:00 UTC");
        assert_eq!(late.recorded.as_deref(), Some("2026-12-06 13:40 UTC"));
        let at_once = event_row(2, event(Some(datetime!(2024-06-01 09:00:10.5 UTC))));
        assert_eq!(at_once.recorded, None);
        assert_eq!(event_row(3, event(None)).recorded, None);
    }

    #[test]
    fn the_menus_list_every_source() {
        let keys: Vec<&str> = crate::domain::Source::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys, crate::i18n::SOURCE_KEYS);
    }

    #[test]
    fn filter_forms_become_filters_with_whole_days() {
        let form = crate::view::EventFilterForm {
            purpose: Some("newsletter".into()),
            channel: Some(" ".into()),
            source: Some("one_click".into()),
            from: Some("2026-11-01".into()),
            until: Some("2026-11-01".into()),
        };
        let f = form.to_filter(None).unwrap();
        assert_eq!(f.channel, None, "blank means any");
        assert_eq!(f.source, Some(crate::domain::Source::OneClick));
        assert_eq!(
            f.until.unwrap() - f.from.unwrap(),
            time::Duration::days(1),
            "until includes its day"
        );
        assert_eq!(
            form.query(),
            "purpose=newsletter&source=one_click&from=2026-11-01&until=2026-11-01"
        );
        let backwards = crate::view::EventFilterForm {
            from: Some("2026-11-02".into()),
            until: Some("2026-11-01".into()),
            ..Default::default()
        };
        assert_eq!(
            backwards.to_filter(None).unwrap_err().code,
            "bad_date_range"
        );
        let bad = crate::view::EventFilterForm {
            from: Some("yesterday".into()),
            ..Default::default()
        };
        assert_eq!(bad.to_filter(None).unwrap_err().code, "bad_date");
    }

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
