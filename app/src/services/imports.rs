//! Bulk import (issue 31): the rules for one batch of checked rows, against what the database
//! holds. Which subjects are new and which are updated, which rows are refused (an erased
//! person, an address another subject has, an opt-in grant without its evidence), and the
//! consent changes each row makes, each naming the import batch and the row's line.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Refusal, Services};
use crate::domain::{
    Actor, Change, Collected, CollectionPoint, ExternalId, Jurisdiction, Lang, NewSubject, Origin,
    Provenance, Purpose, Source, Subject, SubjectId, check_collected, erased_identifier,
    import::{ImportRow, Mapping, RowError},
    legacy_erased_digest,
};
use crate::store::ImportWrite;

/// What stays the same for every batch of one import.
#[derive(Debug, Clone)]
pub struct ImportContext {
    pub mapping: Mapping,
    /// `Actor::System` for the command line, the API key for the API.
    pub actor: Actor,
    /// The import batch (its job's id; a dry run has one of its own, never stored).
    pub batch: Uuid,
    pub purposes: Arc<Vec<Purpose>>,
    /// The registered collection points (the rule for consents collected elsewhere).
    pub points: Arc<Vec<CollectionPoint>>,
    /// The time of a change whose row gives none.
    pub now: OffsetDateTime,
}

impl ImportContext {
    /// The idempotency key of one change of a row: the batch, the line, the consent.
    fn key(
        &self,
        line: u64,
        change: &(crate::domain::PurposeKey, crate::domain::Channel),
    ) -> String {
        format!(
            "import:{}:{line}:{}:{}",
            self.batch.simple(),
            change.0,
            change.1
        )
    }

    /// The file's column of a consent (for the error report).
    fn consent_column(
        &self,
        purpose: &crate::domain::PurposeKey,
        channel: crate::domain::Channel,
    ) -> String {
        self.mapping
            .consents
            .iter()
            .find(|c| &c.purpose == purpose && c.channel == channel)
            .map(|c| c.column.clone())
            .unwrap_or_default()
    }
}

/// Where a row's subject is in the batch being built.
#[derive(Clone, Copy)]
enum Slot {
    New(usize),
    Updated(usize),
    Unchanged,
}

impl Services {
    /// Decides one batch: the subjects and changes to write, and the rows refused (with the
    /// rows that failed their own check). Reads, writes nothing.
    pub async fn plan_import(
        &self,
        ctx: &ImportContext,
        rows: Vec<Result<ImportRow, RowError>>,
    ) -> Result<(ImportWrite, Vec<RowError>), Refusal> {
        let mut refused = Vec::new();
        let mut good = Vec::with_capacity(rows.len());
        for row in rows {
            match row {
                Ok(r) => good.push(r),
                Err(e) => refused.push(e),
            }
        }

        // What the database holds for the batch's external ids and addresses.
        let ids: Vec<String> = dedup(good.iter().map(|r| r.external_id.as_str().to_owned()));
        let mut by_id: HashMap<String, Subject> = HashMap::new();
        if !ids.is_empty() {
            for s in self.store.find_subjects(&ids).await? {
                by_id.insert(s.external_id.as_str().to_owned(), s);
            }
        }
        let emails: Vec<String> = dedup(
            good.iter()
                .filter_map(|r| r.email.as_ref().map(|e| e.as_str().to_owned())),
        );
        let mut by_email: HashMap<String, ExternalId> = HashMap::new();
        if !emails.is_empty() {
            for s in self.store.find_subjects(&emails).await? {
                if let Some(e) = &s.email {
                    by_email.insert(e.as_str().to_owned(), s.external_id.clone());
                }
            }
        }
        let erased = self.erased_in_batch(&good, &by_id).await?;
        // When each consent of the batch's subjects last changed: a row older than that does not
        // rewrite history.
        let known: Vec<SubjectId> = by_id.values().map(|s| s.id).collect();
        let mut latest: HashMap<
            (SubjectId, crate::domain::PurposeKey, crate::domain::Channel),
            OffsetDateTime,
        > = HashMap::new();
        if !known.is_empty() {
            for (id, c) in self
                .console
                .subject_records()
                .current_consents(&known)
                .await?
            {
                latest.insert((id, c.purpose, c.channel), c.updated_at);
            }
        }

        let mapping = &ctx.mapping;
        let column = |name: &Option<String>| name.clone().unwrap_or_default();
        let mut write = ImportWrite::default();
        let mut slots: HashMap<String, Slot> = HashMap::new();
        let mut claimed: HashMap<String, ExternalId> = HashMap::new();
        for row in good {
            let refuse = |column: String, code: &'static str| RowError {
                line: row.line,
                column,
                code,
            };
            let key = row.external_id.as_str().to_owned();
            let existing = by_id.get(&key);
            if existing.is_some_and(|s| s.erased_at.is_some()) {
                refused.push(refuse(mapping.external_id.clone(), "erased_subject"));
                continue;
            }
            if let Some(email) = &row.email {
                let owner = claimed
                    .get(email.as_str())
                    .or_else(|| by_email.get(email.as_str()));
                if owner.is_some_and(|o| o != &row.external_id) {
                    refused.push(refuse(column(&mapping.email), "email_taken"));
                    continue;
                }
            }
            if let Some(field) = erased.get(&row.line) {
                let col = if *field == "email" {
                    &mapping.email
                } else {
                    &mapping.phone
                };
                refused.push(refuse(column(col), "erased_identifier"));
                continue;
            }
            // The subject as it will be after this row (an earlier row of the batch may have
            // made or changed it).
            let before: Option<Subject> = match slots.get(&key) {
                Some(Slot::New(i)) => {
                    let (id, s) = &write.new_subjects[*i];
                    Some(subject_of(*id, s))
                }
                Some(Slot::Updated(i)) => Some(write.updated_subjects[*i].clone()),
                Some(Slot::Unchanged) | None => existing.cloned(),
            };
            let jurisdiction = row
                .jurisdiction
                .or(before.as_ref().map(|s| s.jurisdiction))
                .unwrap_or(Jurisdiction::Default);
            let subject_id = before.as_ref().map(|s| s.id);
            // A change earlier in this batch counts as the latest too (`latest` keeps it).
            let times = |purpose: &crate::domain::PurposeKey, channel| {
                latest
                    .get(&(subject_id?, purpose.clone(), channel))
                    .copied()
            };
            if let Some((column, code)) = collected_refusal(ctx, &row, jurisdiction, times) {
                refused.push(refuse(column, code));
                continue;
            }

            let subject = match before {
                None => {
                    let id = SubjectId(Uuid::now_v7());
                    write.new_subjects.push((
                        id,
                        NewSubject {
                            external_id: row.external_id.clone(),
                            email: row.email.clone(),
                            phone: row.phone.clone(),
                            lang: row.lang.unwrap_or(Lang::Ja),
                            jurisdiction,
                        },
                    ));
                    slots.insert(key.clone(), Slot::New(write.new_subjects.len() - 1));
                    id
                }
                Some(before) => {
                    let after = Subject {
                        email: row.email.clone().or(before.email.clone()),
                        phone: row.phone.clone().or(before.phone.clone()),
                        lang: row.lang.unwrap_or(before.lang),
                        jurisdiction,
                        ..before.clone()
                    };
                    match slots.get(&key).copied() {
                        Some(Slot::New(i)) => {
                            let s = &mut write.new_subjects[i].1;
                            (s.email, s.phone, s.lang, s.jurisdiction) =
                                (after.email, after.phone, after.lang, after.jurisdiction);
                        }
                        Some(Slot::Updated(i)) => write.updated_subjects[i] = after,
                        _ if after != before => {
                            write.updated_subjects.push(after);
                            slots.insert(
                                key.clone(),
                                Slot::Updated(write.updated_subjects.len() - 1),
                            );
                        }
                        _ => {
                            slots.insert(key.clone(), Slot::Unchanged);
                        }
                    }
                    before.id
                }
            };
            if let Some(email) = &row.email {
                claimed.insert(email.as_str().to_owned(), row.external_id.clone());
            }
            for (purpose, channel, to) in &row.consents {
                let occurred_at = row.occurred_at.unwrap_or(ctx.now);
                let last = latest
                    .entry((subject, purpose.clone(), *channel))
                    .or_insert(occurred_at);
                *last = (*last).max(occurred_at);
                write.changes.push(Change {
                    subject,
                    purpose: purpose.clone(),
                    channel: *channel,
                    to: *to,
                    provenance: Provenance {
                        occurred_at,
                        source: Source::Import,
                        actor: ctx.actor.clone(),
                        notice_version: mapping.notice_version.clone(),
                        origin: Origin::default(),
                        idempotency_key: Some(ctx.key(row.line, &(purpose.clone(), *channel))),
                        reason: None,
                        campaign: None,
                        collection_point: mapping.collection_point.clone(),
                        import_batch: Some(ctx.batch.to_string()),
                        form_url: None,
                        proof_ref: None,
                    },
                    reconfirm: false,
                });
            }
        }
        // Each field an update changes is recorded: which, who, when (as the API's edits are).
        for after in &write.updated_subjects {
            if let Some(before) = by_id.get(after.external_id.as_str()) {
                write.subject_changes.extend(
                    changed_fields(before, after)
                        .into_iter()
                        .map(|(field, value)| (after.id, field, value)),
                );
            }
        }
        write.changed_by = match &ctx.actor {
            Actor::ApiKey(_) => ctx.actor.to_string(),
            _ => "cli".to_owned(),
        };
        refused.sort_by_key(|e| e.line);
        Ok((write, refused))
    }

    /// The lines whose new address or phone number belongs to a person erased at their request
    /// (`email` or `phone`), as `create_subject` refuses them.
    async fn erased_in_batch(
        &self,
        rows: &[ImportRow],
        existing: &HashMap<String, Subject>,
    ) -> Result<HashMap<u64, &'static str>, Refusal> {
        let digests = |kind: &str, value: &str| {
            let identifier = erased_identifier(kind, value);
            [
                self.data_key.digest(&identifier),
                legacy_erased_digest(&identifier),
            ]
        };
        let mut asked: Vec<(u64, &'static str, [String; 2])> = Vec::new();
        for row in rows {
            let known = existing.get(row.external_id.as_str());
            let new_email = row
                .email
                .as_ref()
                .filter(|e| known.is_none_or(|s| s.email.as_ref() != Some(*e)));
            if let Some(e) = new_email {
                asked.push((row.line, "email", digests("email", e.as_str())));
            }
            let new_phone = row
                .phone
                .as_ref()
                .filter(|p| known.is_none_or(|s| s.phone.as_ref() != Some(*p)));
            if let Some(p) = new_phone {
                asked.push((row.line, "phone", digests("phone", p.as_str())));
            }
        }
        let mut found = HashMap::new();
        let all: Vec<String> = asked.iter().flat_map(|(_, _, d)| d.clone()).collect();
        if all.is_empty() || !self.console.erasures().erased_identifier(&all).await? {
            return Ok(found);
        }
        // Rare: find which rows.
        for (line, kind, d) in asked {
            if !found.contains_key(&line) && self.console.erasures().erased_identifier(&d).await? {
                found.insert(line, kind);
            }
        }
        Ok(found)
    }
}

/// The first consent of a row the rule for consents collected elsewhere refuses (an opt-in grant
/// without its evidence, a retired or unknown collection point, a time in the future or earlier
/// than the consent's latest change), as the consent's column and the code.
fn collected_refusal(
    ctx: &ImportContext,
    row: &ImportRow,
    jurisdiction: Jurisdiction,
    latest: impl Fn(&crate::domain::PurposeKey, crate::domain::Channel) -> Option<OffsetDateTime>,
) -> Option<(String, &'static str)> {
    row.consents.iter().find_map(|(purpose, channel, to)| {
        let mode = ctx
            .purposes
            .iter()
            .find(|p| &p.key == purpose)
            .map(|p| p.mode_for(jurisdiction))?;
        let change = Collected {
            mode,
            to: *to,
            occurred_at: row.occurred_at.unwrap_or(ctx.now),
            collection_point: ctx.mapping.collection_point.as_deref(),
            notice_version: ctx.mapping.notice_version.as_deref(),
        };
        check_collected(&change, &ctx.points, latest(purpose, *channel), ctx.now)
            .err()
            .map(|e| (ctx.consent_column(purpose, *channel), e.code()))
    })
}

/// The fields that differ between a subject and its update: (field, the new value for language
/// and jurisdiction; an address is not copied, as `update_subject` records it).
fn changed_fields(before: &Subject, after: &Subject) -> Vec<(&'static str, Option<String>)> {
    let mut changed = Vec::new();
    if before.email != after.email {
        changed.push(("email", None));
    }
    if before.phone != after.phone {
        changed.push(("phone", None));
    }
    if before.lang != after.lang {
        changed.push(("lang", Some(after.lang.key().to_owned())));
    }
    if before.jurisdiction != after.jurisdiction {
        changed.push(("jurisdiction", Some(after.jurisdiction.key().to_owned())));
    }
    changed
}

fn subject_of(id: SubjectId, s: &NewSubject) -> Subject {
    Subject {
        id,
        external_id: s.external_id.clone(),
        email: s.email.clone(),
        phone: s.phone.clone(),
        lang: s.lang,
        jurisdiction: s.jurisdiction,
        erased_at: None,
        time_zone: None,
    }
}

fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}
