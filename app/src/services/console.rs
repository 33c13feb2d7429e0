//! The console's reading rules: subject search (exact, then prefix, paged), event streams with
//! filters, and the charts' counts (purpose management is in purposes.rs).

use std::collections::{BTreeMap, HashSet};

use time::{Date, macros::format_description};

use super::{Refusal, Services, admin::summary, format_when, now};
use crate::{
    domain::{Channel, ConsentEvent, ConsentState, PurposeKey, Source, Subject, SubjectId},
    store::{EventCursor, EventFilter, SubjectField},
    view::{
        AdminEventRow, ChartSeries, ChartView, EventFilterForm, EventPageView, SubjectSearchView,
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
}
