//! The send gate (issue 31): who may be contacted for a purpose on a channel now. The
//! permissions check, the audience, the links and the lapsed entries of the suppression list all
//! read the same facts in batches and ask the one pure rule, `domain::permission`.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::{LinkPlan, Refusal, Services, now};
use crate::{
    domain::{
        Channel, Choice, Jurisdiction, Mode, Notice, Purpose, Refused, Standing, Subject,
        SubjectId, permission,
    },
    store::{ConsentRecord, GateRow},
    token::Scope,
};

/// The most (subject, purpose, channel) triples one permissions check answers.
pub const MAX_PERMISSIONS: usize = 10_000;
/// The most subjects one audience page holds.
pub const MAX_AUDIENCE_PAGE: u32 = 10_000;
/// Subjects an audience page holds when the caller does not say.
pub const AUDIENCE_PAGE: u32 = 1_000;
/// Subjects (or, for a purpose opt-in everywhere, grants) scanned per range when the whole
/// audience is read ([`Services::audience_pages`]).
pub const AUDIENCE_RANGE: u32 = 10_000;
/// Ranges of the audience read at once: two keep both cores busy.
pub const RANGES_AT_ONCE: usize = 2;

/// One question of a permissions check, as a sender asks it.
#[derive(Debug, Clone)]
pub struct Ask {
    /// External id or email.
    pub subject: String,
    pub purpose: String,
    pub channel: String,
}

/// A page of the audience: the subjects who may be contacted, in id order, and where the next
/// page starts (`None`: this was the last).
#[derive(Debug, Clone)]
pub struct AudiencePage {
    pub subjects: Vec<Subject>,
    pub next: Option<SubjectId>,
    /// How often each subject wants the purpose's messages, where they chose (absent: every
    /// message).
    pub frequencies: HashMap<SubjectId, crate::domain::Frequency>,
}

impl AudiencePage {
    /// Adds the row's subject (with the frequency they chose) when the gate lets them in now;
    /// whether it did.
    fn admit(
        &mut self,
        row: GateRow,
        notices: &[Notice],
        purpose: &Purpose,
        at: OffsetDateTime,
    ) -> bool {
        if row_permission(notices, purpose, &row, at).is_err() {
            return false;
        }
        if let Some(f) = row.frequency {
            self.frequencies.insert(row.subject.id, f);
        }
        self.subjects.push(row.subject);
        true
    }
}

/// A granted opt-in that no longer applies (expired, or awaiting re-confirmation).
#[derive(Debug, Clone)]
pub struct Lapsed {
    pub subject: Subject,
    pub purpose: crate::domain::PurposeKey,
    pub reason: Refused,
    /// When the consent was last given.
    pub granted_at: OffsetDateTime,
}

/// A page of lapsed entries and where the next starts (`None`: this was the last).
#[derive(Debug, Clone)]
pub struct LapsedPage {
    pub items: Vec<Lapsed>,
    pub next: Option<(SubjectId, String)>,
}

/// The subject each key names: an external id first, then an email (as `find_subjects` stores
/// them); `None` where no subject has that key.
pub(crate) fn match_keys<'a>(found: &'a [Subject], keys: &[String]) -> Vec<Option<&'a Subject>> {
    let by_external: HashMap<&str, &Subject> =
        found.iter().map(|s| (s.external_id.as_str(), s)).collect();
    let by_email: HashMap<&str, &Subject> = found
        .iter()
        .filter_map(|s| Some((s.email.as_ref()?.as_str(), s)))
        .collect();
    keys.iter()
        .map(|k| {
            by_external.get(k.as_str()).copied().or_else(|| {
                let email = crate::domain::Email::parse(k).ok()?;
                by_email.get(email.as_str()).copied()
            })
        })
        .collect()
}

/// The facts of a subject in a page or batch.
fn standing(subject: &Subject, objecting: bool) -> Standing {
    Standing {
        jurisdiction: subject.jurisdiction,
        erased: subject.erased_at.is_some(),
        objecting,
    }
}

fn choice(record: &ConsentRecord) -> Choice<'_> {
    Choice {
        state: record.state,
        at: record.updated_at,
        notice_version: record.notice_version.as_deref(),
    }
}

/// The gate's answer for one row of a page.
fn row_permission(
    notices: &[Notice],
    purpose: &Purpose,
    row: &GateRow,
    at: OffsetDateTime,
) -> Result<(), Refused> {
    permission(
        notices,
        purpose,
        Some(standing(&row.subject, row.objecting)),
        row.choice.as_ref().map(choice),
        at,
    )
}

/// Whether only a granted consent can let anyone in: the purpose is opt-in everywhere.
fn opt_in_everywhere(purpose: &Purpose) -> bool {
    Jurisdiction::ALL
        .iter()
        .all(|&j| purpose.mode_for(j) == Mode::OptIn)
}

/// What a batch of subjects' facts are: their choices and who objects.
struct Facts {
    choices: HashMap<SubjectId, Vec<ConsentRecord>>,
    objecting: HashSet<SubjectId>,
}

impl Facts {
    fn permission(
        &self,
        notices: &[Notice],
        purpose: &Purpose,
        channel: Channel,
        subject: Option<&Subject>,
        at: OffsetDateTime,
    ) -> Result<(), Refused> {
        let Some(subject) = subject else {
            return permission(notices, purpose, None, None, at);
        };
        let record = self.choices.get(&subject.id).and_then(|records| {
            records
                .iter()
                .find(|r| r.purpose == purpose.key && r.channel == channel)
        });
        permission(
            notices,
            purpose,
            Some(standing(subject, self.objecting.contains(&subject.id))),
            record.map(choice),
            at,
        )
    }
}

impl Services {
    /// The choices and objections of `subjects`, read in batches (one query per thousand).
    async fn facts(&self, subjects: &[&Subject]) -> Result<Facts, Refusal> {
        let mut ids: Vec<SubjectId> = subjects.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let gate = self.console.audience();
        let (read, objecting) =
            futures_util::future::try_join(gate.choices_of(&ids), gate.objecting_among(&ids))
                .await?;
        let mut choices: HashMap<SubjectId, Vec<ConsentRecord>> = HashMap::new();
        for (id, record) in read {
            choices.entry(id).or_default().push(record);
        }
        let objecting = objecting.into_iter().collect();
        Ok(Facts { choices, objecting })
    }

    /// Answers, in order, whether each subject may be contacted for each purpose on each
    /// channel now, and if not why. At most [`MAX_PERMISSIONS`]; an unknown purpose or channel,
    /// or a purpose not used on the channel, refuses the whole check.
    pub async fn permissions(&self, asks: &[Ask]) -> Result<Vec<Result<(), Refused>>, Refusal> {
        if asks.len() > MAX_PERMISSIONS {
            return Err(Refusal::new("too_many_permissions"));
        }
        let purposes = self.store.purposes().await?;
        let mut pairs: Vec<(&Purpose, Channel)> = Vec::with_capacity(asks.len());
        for ask in asks {
            let channel: Channel = ask.channel.parse()?;
            let purpose = purposes
                .iter()
                .find(|p| p.key.as_str() == ask.purpose)
                .ok_or(Refusal::new("unknown_purpose"))?;
            if !purpose.applies_to(channel) {
                return Err(Refusal::new("channel_not_applicable"));
            }
            pairs.push((purpose, channel));
        }
        let keys: Vec<String> = asks.iter().map(|a| a.subject.trim().to_owned()).collect();
        let found = self.store.find_subjects(&keys).await?;
        let subjects = match_keys(&found, &keys);
        let known: Vec<&Subject> = subjects.iter().flatten().copied().collect();
        let facts = self.facts(&known).await?;
        let notices = self.store.notices().await?;
        let at = now();
        Ok(subjects
            .iter()
            .zip(pairs)
            .map(|(subject, (purpose, channel))| {
                facts.permission(&notices, purpose, channel, *subject, at)
            })
            .collect())
    }

    /// Whether each subject may be sent a message with `plan`'s links: allowed for the
    /// purpose and channel the links are for, or, where the plan names no channel (or no
    /// purpose), for at least one channel of its purpose (or of a marketing purpose). Refused
    /// with the reason of the first pair it covers, in the purposes' and channels' order.
    pub async fn permitted_for_links(
        &self,
        plan: &LinkPlan,
        subjects: &[&Subject],
    ) -> Result<Vec<Result<(), Refused>>, Refusal> {
        let purposes = self.store.purposes().await?;
        let pairs: Vec<(&Purpose, Channel)> = purposes
            .iter()
            .filter(|p| match &plan.scope {
                Scope::Everything | Scope::AllMarketing => p.marketing,
                Scope::Purpose(k) | Scope::PurposeChannel(k, _) => &p.key == k,
            })
            .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
            .filter(|(_, c)| match &plan.scope {
                Scope::PurposeChannel(_, only) => c == only,
                _ => true,
            })
            .collect();
        let facts = self.facts(subjects).await?;
        let notices = self.store.notices().await?;
        let at = now();
        Ok(subjects
            .iter()
            .map(|&s| {
                let mut first = None;
                for &(p, c) in &pairs {
                    match facts.permission(&notices, p, c, Some(s), at) {
                        Ok(()) => return Ok(()),
                        Err(r) => {
                            first.get_or_insert(r);
                        }
                    }
                }
                Err(first.unwrap_or(Refused::NoConsent))
            })
            .collect())
    }

    /// The purpose and channel of an audience, checked.
    pub async fn audience_of(
        &self,
        purpose: &str,
        channel: &str,
    ) -> Result<(Purpose, Channel), Refusal> {
        self.purpose_on(purpose, channel).await
    }

    /// A page of the audience of `purpose` on `channel`: every subject with an id above `after`
    /// who may be contacted now, at most `limit`, in id order. Read in pages by subject id
    /// (memory stays flat whatever the number of subjects).
    pub async fn audience_page(
        &self,
        purpose: &Purpose,
        channel: Channel,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<AudiencePage, Refusal> {
        let limit = limit.clamp(1, MAX_AUDIENCE_PAGE);
        let notices = self.store.notices().await?;
        let granted_only = opt_in_everywhere(purpose);
        let gate = self.console.audience();
        let at = now();
        let mut after = after.unwrap_or(SubjectId(uuid::Uuid::nil()));
        let mut page = AudiencePage {
            subjects: Vec::new(),
            next: None,
            frequencies: HashMap::new(),
        };
        loop {
            let rows = gate
                .audience_page(&purpose.key, channel, after, None, granted_only, limit)
                .await?;
            let scanned = rows.len();
            for row in rows {
                after = row.subject.id;
                if page.admit(row, &notices, purpose, at) && page.subjects.len() == limit as usize {
                    page.next = Some(after);
                    return Ok(page);
                }
            }
            if scanned < limit as usize {
                return Ok(page);
            }
        }
    }

    /// The whole audience of `purpose` on `channel` after `after`, as pages in id order: for
    /// the CSV stream and `doui audience`, which read it to the end. The subjects are read in
    /// ranges of `range` subjects scanned ([`AUDIENCE_RANGE`] in use), each range's end found
    /// from an index first, so that [`RANGES_AT_ONCE`] ranges are read at once while the caller
    /// writes the one before; memory stays flat whatever the number of subjects. A page's `next`
    /// is where its range ended.
    pub async fn audience_pages<'a>(
        &'a self,
        purpose: &'a Purpose,
        channel: Channel,
        after: Option<SubjectId>,
        range: u32,
    ) -> Result<impl futures_util::Stream<Item = Result<AudiencePage, Refusal>> + Send + 'a, Refusal>
    {
        use futures_util::{StreamExt, TryStreamExt};
        let read = RangeRead {
            services: self,
            purpose,
            channel,
            notices: self.store.notices().await?,
            granted_only: opt_in_everywhere(purpose),
            at: now(),
            range: range.max(1),
        };
        let start = after.unwrap_or(SubjectId(uuid::Uuid::nil()));
        // The ranges from `start`; where the last (open) one came back full, someone was added
        // after the others' ends were found, and the ranges go on from where it stopped.
        Ok(
            futures_util::stream::try_unfold(Some(read.clone().ranges(start)), move |ranges| {
                let read = read.clone();
                async move {
                    let Some(mut ranges) = ranges else {
                        return Ok(None);
                    };
                    Ok(match ranges.try_next().await? {
                        None => None,
                        Some((page, Some(from))) => Some((page, Some(read.ranges(from)))),
                        Some((page, None)) => Some((page, Some(ranges))),
                    })
                }
            })
            .boxed(),
        )
    }

    /// A page of the granted opt-ins on `channel` (to `purpose`, or to every purpose used on the
    /// channel) that no longer apply: expired or awaiting re-confirmation. Paged by (subject
    /// id, purpose) after `after`.
    pub async fn lapsed_page(
        &self,
        purpose: Option<&Purpose>,
        channel: Channel,
        after: Option<(SubjectId, String)>,
        limit: u32,
    ) -> Result<LapsedPage, Refusal> {
        let limit = limit.clamp(1, MAX_AUDIENCE_PAGE);
        let purposes = self.store.purposes().await?;
        let notices = self.store.notices().await?;
        let gate = self.console.audience();
        let at = now();
        let (mut after_id, mut after_purpose) =
            after.unwrap_or((SubjectId(uuid::Uuid::nil()), String::new()));
        let mut items = Vec::new();
        loop {
            let rows = gate
                .granted_page(
                    purpose.map(|p| &p.key),
                    channel,
                    (after_id, after_purpose.as_str()),
                    limit,
                )
                .await?;
            let scanned = rows.len();
            for row in rows {
                after_id = row.subject.id;
                after_purpose = row.purpose.as_str().to_owned();
                let Some(p) = purposes
                    .iter()
                    .find(|p| p.key == row.purpose && p.applies_to(channel))
                else {
                    continue;
                };
                if let Err(reason) = row_permission(&notices, p, &row, at)
                    && reason.lapsed()
                {
                    items.push(Lapsed {
                        granted_at: row.choice.as_ref().map_or(at, |c| c.updated_at),
                        subject: row.subject,
                        purpose: row.purpose,
                        reason,
                    });
                    if items.len() == limit as usize {
                        return Ok(LapsedPage {
                            items,
                            next: Some((after_id, after_purpose)),
                        });
                    }
                }
            }
            if scanned < limit as usize {
                return Ok(LapsedPage { items, next: None });
            }
        }
    }
}

impl Services {
    /// The suppression list across every purpose used on `channel`: withdrawals in the order
    /// they changed, after `cursor` (the same cursor as one purpose's list).
    pub async fn suppressions_on(
        &self,
        channel: &str,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<(crate::domain::PurposeKey, crate::store::Suppression)>, Refusal> {
        let channel: Channel = channel.parse()?;
        Ok(self
            .console
            .audience()
            .withdrawn_on(channel, cursor.max(0), limit.clamp(1, 10_000))
            .await?)
    }
}

/// How [`Services::audience_pages`] reads the audience: its purpose and channel, the notices
/// and the time the gate asks about, and the subjects a range scans.
#[derive(Clone)]
struct RangeRead<'a> {
    services: &'a Services,
    purpose: &'a Purpose,
    channel: Channel,
    notices: std::sync::Arc<Vec<Notice>>,
    granted_only: bool,
    at: OffsetDateTime,
    range: u32,
}

/// A range's page, and where the reading goes on when it was the last range and came back full.
type RangePage = (AudiencePage, Option<SubjectId>);

impl<'a> RangeRead<'a> {
    /// The audience after `from`, range by range, [`RANGES_AT_ONCE`] read at once. Each range
    /// ends where the index said `range` subjects later; the last one, found open, is read as one
    /// page of at most `range` (and says where to go on if it was full).
    fn ranges(
        self,
        from: SubjectId,
    ) -> futures_util::stream::BoxStream<'a, Result<RangePage, Refusal>> {
        use futures_util::{StreamExt, TryStreamExt};
        let gate = self.services.console.audience();
        let (purpose, channel, granted_only, range) =
            (self.purpose, self.channel, self.granted_only, self.range);
        // Each range: (after, upto], `None` where it is the last (open) one.
        let bounds = futures_util::stream::try_unfold(Some(from), move |from| async move {
            let Some(from) = from else {
                return Ok::<_, Refusal>(None);
            };
            let upto = gate
                .audience_bound(&purpose.key, channel, from, granted_only, range)
                .await?;
            Ok(Some(((from, upto), upto)))
        });
        bounds
            .map_ok(move |(from, upto)| self.clone().range(from, upto))
            .try_buffered(RANGES_AT_ONCE)
            .boxed()
    }

    /// The subjects after `from` up to `upto` who may be contacted now. A bounded range is read
    /// whole (subjects added to it since its end was found included); the open one as one page
    /// of at most `range` subjects scanned.
    async fn range(self, from: SubjectId, upto: Option<SubjectId>) -> Result<RangePage, Refusal> {
        let limit = if upto.is_some() { u32::MAX } else { self.range };
        let rows = self
            .services
            .console
            .audience()
            .audience_page(
                &self.purpose.key,
                self.channel,
                from,
                upto,
                self.granted_only,
                limit,
            )
            .await?;
        let full = rows.len() == limit as usize;
        let mut page = AudiencePage {
            subjects: Vec::new(),
            next: upto,
            frequencies: HashMap::new(),
        };
        let mut last = from;
        for row in rows {
            last = row.subject.id;
            page.admit(row, &self.notices, self.purpose, self.at);
        }
        if upto.is_none() && full {
            page.next = Some(last);
            return Ok((page, Some(last)));
        }
        Ok((page, None))
    }
}
