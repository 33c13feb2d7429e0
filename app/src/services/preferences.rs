//! The preference center's rules: who a token lets in, what the page shows (the matrix of
//! purposes and channels), and the changes a visitor may make within their token's scope.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Refusal, Services, Visitor, consent_effect, mask_email, now, zone::moment};
use crate::{
    domain::{
        Change, Channel, ConsentState, Jurisdiction, Lang, Outcome, Provenance, Purpose,
        PurposeKey, Subject, check_idempotency_key, consent_idempotency_key,
    },
    i18n::source_name,
    store::{Applied, ConsentRecord},
    token::{Claims, Scope, TokenError},
    view::{Cell, HistoryRow, PreferenceView, PurposeRow},
};

impl Services {
    /// Who a token lets in. A valid token for a subject that no longer exists is refused too,
    /// as is one issued before an operator revoked the subject's links.
    pub async fn visitor(&self, token: &str) -> Result<Visitor, Refusal> {
        let claims = self.claims(token)?;
        let (subject, revoked_upto) = tokio::try_join!(
            self.store.subject(claims.subject),
            self.identity.links_revoked_upto(claims.subject),
        )?;
        let subject = subject
            .filter(|s| s.erased_at.is_none())
            .ok_or(Refusal::new("unknown_subject"))?;
        if revoked_upto.is_some_and(|upto| claims.issued_at <= upto) {
            return Err(Refusal::new("link_revoked"));
        }
        Ok(Visitor {
            subject,
            scope: claims.scope,
            campaign: claims.campaign,
            by_link: true,
        })
    }

    /// What a token says, once its signature and expiry are checked (no database read).
    /// A whole-center link made before such links had an expiry lasts, like the new ones,
    /// `preference_link_validity_days` from its issue time.
    pub fn claims(&self, token: &str) -> Result<Claims, Refusal> {
        let at = now().unix_timestamp();
        let claims = self.keyring.verify(token, at).map_err(|e| match e {
            TokenError::Expired => Refusal::new("expired_token"),
            _ => Refusal::new("invalid_token"),
        })?;
        if claims.scope == Scope::Everything
            && claims.expires_at.is_none()
            && at >= claims.issued_at + self.preference_link_validity_secs()
        {
            return Err(Refusal::new("expired_token"));
        }
        Ok(claims)
    }

    /// The page's language: an explicit choice, then the subject's, then the browser's.
    pub fn page_lang(
        explicit: Option<&str>,
        subject: Option<&Subject>,
        accept_language: Option<&str>,
    ) -> Lang {
        explicit
            .and_then(|l| l.parse().ok())
            .or(subject.map(|s| s.lang))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    pub async fn preference_view(
        &self,
        visitor: &Visitor,
        token: &str,
        lang: Lang,
    ) -> Result<PreferenceView, Refusal> {
        let purposes = self.visible_purposes(visitor).await?;
        let records = self.store.consents(visitor.subject.id).await?;
        let notices = self.store.notices().await?;
        let (channels, rows) = matrix(
            &purposes,
            &records,
            &notices,
            &visitor.scope,
            visitor.subject.jurisdiction,
            visitor.subject.time_zone_name(),
            lang,
        );
        let zone = visitor.subject.time_zone_name();
        let names: HashMap<_, _> = purposes
            .iter()
            .map(|p| (p.key.as_str(), p.name(lang)))
            .collect();
        // A narrow link (an unsubscribe link of one message) shows only the history its scope
        // covers; the whole center shows all of it.
        let in_scope = |purpose: &PurposeKey, channel: Channel| {
            visitor.scope == Scope::Everything
                || purposes
                    .iter()
                    .any(|p| &p.key == purpose && scope_allows(&visitor.scope, p, channel))
        };
        let events = self
            .store
            .events_for_subject(visitor.subject.id, 200)
            .await?;
        let points = if events
            .iter()
            .any(|e| e.provenance.collection_point.is_some())
        {
            self.console.points().collection_points().await?
        } else {
            Vec::new()
        };
        let history = events
            .into_iter()
            .filter(|e| in_scope(&e.purpose, e.channel))
            .map(|e| HistoryRow {
                when: moment(e.provenance.occurred_at, zone),
                purpose_name: names
                    .get(e.purpose.as_str())
                    .map_or_else(|| e.purpose.to_string(), |n| n.to_string()),
                channel: e.channel,
                from: e.from,
                to: e.to,
                source: source_name(lang, e.provenance.source.key()).to_owned(),
                collection_point: e.provenance.collection_point.as_deref().map(|key| {
                    points
                        .iter()
                        .find(|p| p.key == key)
                        .map_or_else(|| key.to_owned(), |p| p.name(lang).to_owned())
                }),
            })
            .collect();
        let subject = &visitor.subject;
        Ok(PreferenceView {
            lang,
            token: token.to_owned(),
            subject_label: subject.email.as_ref().map_or_else(
                || subject.external_id.as_str().to_owned(),
                |e| mask_email(e.as_str()),
            ),
            notice_version: self.notice_version().await?,
            channels,
            purposes: rows,
            history,
            render_id: Uuid::new_v4().simple().to_string(),
            csrf: String::new(),
            signed_in: token.is_empty(),
            can_stay_signed_in: !token.is_empty() && visitor.scope == Scope::Everything,
            gpc: false,
            // Who received the person's data (names, addresses) is for the whole center only.
            provisions: if visitor.scope == Scope::Everything {
                self.provision_rows(visitor.subject.id, zone).await?
            } else {
                Vec::new()
            },
            reconfirm: self
                .reconfirmations(visitor, &purposes, &records, lang)
                .await?,
            renewals: self.renewals(visitor, &purposes, &records, lang).await?,
            objection: self
                .objection_in_force(visitor.subject.id)
                .await?
                .map(|o| moment(o.provenance.occurred_at, zone)),
            do_not_sell: visitor.scope == Scope::Everything
                && visitor.subject.jurisdiction == crate::domain::Jurisdiction::UsCa,
            pauses: self
                .pause_rows(subject.id, &visitor.scope, &purposes, zone, lang)
                .await?,
            frequencies: self.frequency_rows(subject.id, &purposes, lang).await?,
        })
    }

    async fn visible_purposes(&self, visitor: &Visitor) -> Result<Vec<Purpose>, Refusal> {
        let all = self.store.purposes().await?;
        Ok(all
            .iter()
            .filter(|p| match &visitor.scope {
                Scope::Everything => true,
                Scope::AllMarketing => p.marketing,
                Scope::Purpose(k) | Scope::PurposeChannel(k, _) => &p.key == k,
            })
            .cloned()
            .collect())
    }

    /// Sets one consent for the visitor, checking that the purpose exists, is used on the channel
    /// and is within the token's scope. The provenance's `occurred_at` is set here.
    pub async fn set_consent(
        &self,
        visitor: &Visitor,
        purpose: &str,
        channel: &str,
        state: &str,
        mut provenance: Provenance,
    ) -> Result<Applied, Refusal> {
        let to: ConsentState = state.parse()?;
        if let Some(k) = &provenance.idempotency_key {
            check_idempotency_key(k)?;
        }
        let (purpose, channel) = self.purpose_on(purpose, channel).await?;
        if !scope_allows(&visitor.scope, &purpose, channel) {
            return Err(Refusal::new("invalid_token"));
        }
        self.check_objection(visitor.subject.id, &purpose, to)
            .await?;
        if to == ConsentState::Granted && super::links::grant_needs_confirmation(visitor, &purpose)
        {
            // Nothing is granted now: the person's own mailbox confirms it.
            self.mail_grant_confirmation(visitor, &purpose, channel)
                .await?;
            return Err(Refusal::new("grant_confirmation_mailed"));
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        let change = Change {
            subject: visitor.subject.id,
            purpose: purpose.key,
            channel,
            to,
            provenance,
            reconfirm: false,
        };
        self.apply_one(change).await
    }

    /// Applies one change in a transaction of its own (through the group commit).
    pub(crate) async fn apply_one(&self, change: Change) -> Result<Applied, Refusal> {
        let mut applied = self.store.apply(vec![change]).await?;
        Ok(applied.pop().expect("one change gives one result"))
    }

    /// The purpose named `key`, if it exists.
    pub async fn purpose(&self, key: &str) -> Result<Purpose, Refusal> {
        let key = PurposeKey::parse(key.trim()).map_err(|_| Refusal::new("unknown_purpose"))?;
        self.store
            .purposes()
            .await?
            .iter()
            .find(|p| p.key == key)
            .cloned()
            .ok_or(Refusal::new("unknown_purpose"))
    }

    /// The purpose named `purpose`, if it exists and is used on `channel`.
    pub async fn purpose_on(
        &self,
        purpose: &str,
        channel: &str,
    ) -> Result<(Purpose, Channel), Refusal> {
        let channel: Channel = channel.parse()?;
        let purpose = self.purpose(purpose).await?;
        if !purpose.applies_to(channel) {
            return Err(Refusal::new("channel_not_applicable"));
        }
        Ok((purpose, channel))
    }

    /// Withdraws every marketing purpose on every channel it uses, in one transaction.
    pub async fn stop_all_marketing(
        &self,
        visitor: &Visitor,
        mut provenance: Provenance,
    ) -> Result<Vec<Applied>, Refusal> {
        if let Some(k) = &provenance.idempotency_key {
            check_idempotency_key(k)?;
        }
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        let purposes = self.store.purposes().await?;
        let changes: Vec<Change> = purposes
            .iter()
            .filter(|p| p.marketing)
            .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
            .filter(|(p, c)| scope_allows(&visitor.scope, p, *c))
            .map(|(p, channel)| {
                let mut provenance = provenance.clone();
                // One key per consent, derived from the request's key.
                provenance.idempotency_key = provenance
                    .idempotency_key
                    .map(|k| consent_idempotency_key(&k, &p.key, channel));
                Change {
                    subject: visitor.subject.id,
                    purpose: p.key.clone(),
                    channel,
                    to: ConsentState::Withdrawn,
                    provenance,
                    reconfirm: false,
                }
            })
            .collect();
        let applied = self.store.apply(changes).await?;
        // A lasting objection: it also covers marketing purposes added later (R34).
        self.raise_objection(visitor, &provenance).await?;
        Ok(applied)
    }
}

/// The matrix a page shows: the channels any purpose uses, and for each purpose its row of cells
/// (the effective value, the person's own choice if any, and whether `scope` lets it change).
pub(crate) fn matrix(
    purposes: &[Purpose],
    records: &[ConsentRecord],
    notices: &[crate::domain::Notice],
    scope: &Scope,
    jurisdiction: Jurisdiction,
    zone: &str,
    lang: Lang,
) -> (Vec<Channel>, Vec<PurposeRow>) {
    let at = now();
    let by_key: HashMap<_, _> = records
        .iter()
        .map(|r| ((r.purpose.as_str(), r.channel), r))
        .collect();
    let channels: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|c| purposes.iter().any(|p| p.applies_to(*c)))
        .collect();
    let rows = purposes
        .iter()
        .map(|p| PurposeRow {
            key: p.key.to_string(),
            name: p.name(lang).to_owned(),
            description: p.description(lang).to_owned(),
            mode: p.mode_for(jurisdiction),
            marketing: p.marketing,
            cells: channels
                .iter()
                .map(|&channel| {
                    let record = by_key.get(&(p.key.as_str(), channel)).copied();
                    let effect = consent_effect(notices, p, jurisdiction, record, at);
                    Cell {
                        channel,
                        applies: p.applies_to(channel) && scope_allows(scope, p, channel),
                        on: effect.on,
                        choice: record.map(|r| r.state),
                        updated_at: record.map(|r| moment(r.updated_at, zone)),
                        reconfirm: effect.asks(),
                    }
                })
                .collect(),
        })
        .collect();
    (channels, rows)
}

/// Whether a token's scope covers a purpose on a channel.
pub fn scope_allows(scope: &Scope, purpose: &Purpose, channel: Channel) -> bool {
    match scope {
        Scope::Everything => true,
        Scope::AllMarketing => purpose.marketing,
        Scope::Purpose(k) => &purpose.key == k,
        Scope::PurposeChannel(k, c) => &purpose.key == k && *c == channel,
    }
}

/// The outcome of a change as a short word for logs and API answers.
pub fn outcome_word(applied: &Applied) -> &'static str {
    match (&applied.outcome, applied.replayed) {
        (_, true) => "replayed",
        (Outcome::Recorded(_), false) => "recorded",
        (Outcome::Unchanged(_), false) => "unchanged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExternalId, SubjectId};

    #[test]
    fn page_language_prefers_explicit_then_subject_then_browser() {
        let subject = Subject {
            id: SubjectId(Uuid::nil()),
            external_id: ExternalId::parse("x").unwrap(),
            email: None,
            phone: None,
            lang: Lang::Ja,
            jurisdiction: crate::domain::Jurisdiction::Jp,
            erased_at: None,
            time_zone: None,
        };
        assert_eq!(
            Services::page_lang(Some("en"), Some(&subject), Some("ja")),
            Lang::En
        );
        assert_eq!(
            Services::page_lang(None, Some(&subject), Some("en")),
            Lang::Ja
        );
        assert_eq!(
            Services::page_lang(Some("xx"), None, Some("ja-JP")),
            Lang::Ja
        );
        assert_eq!(Services::page_lang(None, None, None), Lang::En);
    }
}
