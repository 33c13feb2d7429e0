//! Emailed links: unsubscribe tokens scoped to what a message was about, RFC 8058 one-click
//! unsubscribe, and the headers and footer a sender puts in each message.

use crate::{
    domain::{
        Change, Channel, ConsentState, Lang, Provenance, Purpose, PurposeKey, Subject, SubjectId,
        header::phrase,
    },
    i18n::channel_name,
    store::{Applied, StoreError, Suppression},
    token::{Claims, Scope},
};

use super::{Refusal, Services, Visitor, now};

/// What an unsubscribe link withdraws: a purpose on some of its channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeTarget {
    pub purpose: Purpose,
    pub channels: Vec<Channel>,
}

impl UnsubscribeTarget {
    /// "Newsletter · Email, SMS" in the given language.
    pub fn describe(&self, lang: Lang) -> String {
        let channels: Vec<&str> = self
            .channels
            .iter()
            .map(|c| channel_name(lang, *c))
            .collect();
        let sep = if lang == Lang::Ja { "、" } else { ", " };
        format!("{} · {}", self.purpose.name(lang), channels.join(sep))
    }
}

/// What the messages of one send share (see `Services::link_plan`).
#[derive(Debug, Clone)]
pub struct LinkPlan {
    pub(crate) scope: Scope,
    campaign: Option<String>,
    pub list_id: String,
    /// `List-Unsubscribe=One-Click`, or nothing where the links are not https (RFC 8058 §3.1
    /// allows the header only with an https URI; a loopback demo's links are http).
    pub one_click: Option<&'static str>,
}

/// The links of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub unsubscribe_url: String,
    pub preference_url: String,
    /// The `List-Unsubscribe` value: the https URL, and a `mailto:` when replies are received.
    pub list_unsubscribe: String,
}

/// What one subject of a bulk request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAnswer {
    Links(Links),
    /// No subject has that external id or email.
    UnknownSubject,
    /// The send gate refuses: the subject may not be contacted for what the links cover.
    NotPermitted(crate::domain::Refused),
}

/// The headers (RFC 2369, RFC 8058, RFC 2919) and footer one message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHeaders {
    /// `<https://…/u/TOKEN>`: exactly one https URI (R1).
    pub list_unsubscribe: String,
    /// `List-Unsubscribe=One-Click` (R2), only with https links (see `LinkPlan::one_click`).
    pub list_unsubscribe_post: Option<&'static str>,
    /// `"Name" <purpose.host>`: one list id per purpose (R11).
    pub list_id: String,
    pub unsubscribe_url: String,
    pub preference_url: String,
    /// The 特定電子メール法 display items and the refusal link, in each language (R9, R46).
    pub footer_ja: String,
    pub footer_en: String,
}

pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A campaign or list id: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
pub fn check_campaign(campaign: &str) -> Result<(), Refusal> {
    let ok = (1..=64).contains(&campaign.len())
        && campaign
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Refusal::new("malformed_campaign"))
    }
}

/// The purposes a token's scope unsubscribes from, each with the channels it covers: a
/// whole-center or all-marketing token means every marketing purpose on all its channels; a
/// purpose token, that purpose on every channel it uses. Refused when nothing is covered (the
/// purpose the link was made for no longer exists or is no longer used there).
fn covered<'a>(
    purposes: &'a [Purpose],
    scope: &'a Scope,
) -> Result<Vec<(&'a Purpose, &'a [Channel])>, Refusal> {
    let whole = |p: &'a Purpose| (p, p.channels.as_slice());
    let targets: Vec<_> = match scope {
        Scope::Everything | Scope::AllMarketing => {
            purposes.iter().filter(|p| p.marketing).map(whole).collect()
        }
        Scope::Purpose(key) => purposes
            .iter()
            .filter(|p| &p.key == key)
            .map(whole)
            .collect(),
        Scope::PurposeChannel(key, channel) => purposes
            .iter()
            .filter(|p| &p.key == key && p.applies_to(*channel))
            .map(|p| (p, std::slice::from_ref(channel)))
            .collect(),
    };
    if targets.is_empty() {
        return Err(Refusal::new("invalid_token"));
    }
    Ok(targets)
}

impl Services {
    /// A signed unsubscribe token, valid for `link_validity_days`.
    pub fn unsubscribe_token(
        &self,
        subject: SubjectId,
        scope: Scope,
        campaign: Option<&str>,
    ) -> String {
        let issued_at = now().unix_timestamp();
        self.keyring.sign(&Claims {
            subject,
            scope,
            issued_at,
            expires_at: Some(issued_at + i64::from(self.settings.link_validity_days) * 86_400),
            campaign: campaign.map(str::to_owned),
        })
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/u/{token}", self.settings.public_url)
    }

    /// What the visitor's token unsubscribes from. A whole-center or all-marketing token means
    /// every marketing purpose; a purpose token, that purpose on every channel it uses.
    pub async fn unsubscribe_targets(
        &self,
        scope: &Scope,
    ) -> Result<Vec<UnsubscribeTarget>, Refusal> {
        let purposes = self.store.purposes().await?;
        Ok(covered(&purposes, scope)?
            .into_iter()
            .map(|(purpose, channels)| UnsubscribeTarget {
                purpose: purpose.clone(),
                channels: channels.to_vec(),
            })
            .collect())
    }

    /// Withdraws everything the token covers, in one transaction. Repeating it writes nothing
    /// (the consents are already withdrawn), and it never grants anything (R8).
    pub async fn unsubscribe(
        &self,
        claims: &Claims,
        mut provenance: Provenance,
    ) -> Result<Vec<Applied>, Refusal> {
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        provenance.campaign = claims.campaign.clone();
        let purposes = self.store.purposes().await?;
        let changes = covered(&purposes, &claims.scope)?
            .into_iter()
            .flat_map(|(purpose, channels)| channels.iter().map(move |&c| (&purpose.key, c)))
            .map(|(purpose, channel)| Change {
                subject: claims.subject,
                purpose: purpose.clone(),
                channel,
                to: ConsentState::Withdrawn,
                provenance: provenance.clone(),
                reconfirm: false,
            })
            .collect();
        self.store.apply(changes).await.map_err(|e| match e {
            // The token is genuine but its subject is gone (erased).
            StoreError::MissingReference(_) => Refusal::new("unknown_subject"),
            e => e.into(),
        })
    }

    /// Whether everything the token covers is already withdrawn.
    pub async fn already_unsubscribed(&self, visitor: &Visitor) -> Result<bool, Refusal> {
        let targets = self.unsubscribe_targets(&visitor.scope).await?;
        let consents = self.store.consents(visitor.subject.id).await?;
        Ok(targets.iter().all(|t| {
            t.channels.iter().all(|c| {
                let choice = consents
                    .iter()
                    .find(|r| r.purpose == t.purpose.key && r.channel == *c)
                    .map(|r| r.state);
                !crate::domain::effective(t.purpose.mode_for(visitor.subject.jurisdiction), choice)
            })
        }))
    }

    /// What every message of one send shares: the token scope, the campaign and the List-Id.
    /// Checked once per send (the purpose exists and is used on the channel).
    pub async fn link_plan(
        &self,
        purpose: Option<&str>,
        channel: Option<&str>,
        campaign: Option<&str>,
    ) -> Result<LinkPlan, Refusal> {
        if let Some(c) = campaign {
            check_campaign(c)?;
        }
        let purposes = self.store.purposes().await?;
        let purpose = match purpose {
            Some(key) => {
                let key = PurposeKey::parse(key).map_err(|_| Refusal::new("unknown_purpose"))?;
                Some(
                    purposes
                        .iter()
                        .find(|p| p.key == key)
                        .ok_or(Refusal::new("unknown_purpose"))?,
                )
            }
            None => None,
        };
        let channel: Option<Channel> = channel.map(str::parse).transpose()?;
        let scope = match (&purpose, channel) {
            (Some(p), Some(c)) if !p.applies_to(c) => {
                return Err(Refusal::new("channel_not_applicable"));
            }
            (Some(p), Some(c)) => Scope::PurposeChannel(p.key.clone(), c),
            (Some(p), None) => Scope::Purpose(p.key.clone()),
            (None, _) => Scope::AllMarketing,
        };
        let host = self
            .settings
            .public_url
            .split("://")
            .nth(1)
            .unwrap_or("localhost")
            .split(['/', ':'])
            .next()
            .unwrap_or("localhost")
            .to_owned();
        let list_id = match &purpose {
            Some(p) => format!(
                "{} <{}.{host}>",
                phrase(&p.name_en),
                p.key.as_str().replace('_', "-")
            ),
            None => format!("\"Marketing\" <marketing.{host}>"),
        };
        Ok(LinkPlan {
            scope,
            campaign: campaign.map(str::to_owned),
            list_id,
            one_click: self
                .settings
                .public_url
                .starts_with("https://")
                .then_some(ONE_CLICK),
        })
    }

    /// The links of one message (no database access).
    pub fn links_for(&self, plan: &LinkPlan, subject: SubjectId) -> Links {
        let token = self.unsubscribe_token(subject, plan.scope.clone(), plan.campaign.as_deref());
        let unsubscribe_url = self.unsubscribe_url(&token);
        let mailto = self.settings.reply_domain.as_ref().map(|domain| {
            format!(
                ", <mailto:{}@{domain}?subject=unsubscribe>",
                crate::token::reply::code(&self.keyring, subject, &plan.scope)
            )
        });
        Links {
            list_unsubscribe: format!("<{unsubscribe_url}>{}", mailto.unwrap_or_default()),
            unsubscribe_url,
            preference_url: self.preference_link(subject),
        }
    }

    /// The headers and footer of one message.
    pub fn mail_headers_with(&self, plan: &LinkPlan, subject: SubjectId) -> MailHeaders {
        let Links {
            unsubscribe_url,
            preference_url,
            list_unsubscribe,
        } = self.links_for(plan, subject);
        let sender = &self.settings.sender;
        let footer_ja = format!(
            "配信者: {}\n住所: {}\nお問い合わせ: {}\n今後このメールの受信を希望されない場合は、次のURLから配信を停止できます。\n{unsubscribe_url}\n配信設定の変更: {preference_url}\n",
            sender.name, sender.postal_address, sender.contact
        );
        let footer_en = format!(
            "Sent by: {}\nAddress: {}\nContact: {}\nTo stop receiving these messages, unsubscribe here:\n{unsubscribe_url}\nChange your preferences: {preference_url}\n",
            sender.name, sender.postal_address, sender.contact
        );
        MailHeaders {
            list_unsubscribe,
            list_unsubscribe_post: plan.one_click,
            list_id: plan.list_id.clone(),
            unsubscribe_url,
            preference_url,
            footer_ja,
            footer_en,
        }
    }

    /// The headers and footer for one message to `subject` about `purpose` (or all marketing)
    /// on `channel` (or every channel), tagged with `campaign`.
    pub async fn mail_headers(
        &self,
        subject: &Subject,
        purpose: Option<&str>,
        channel: Option<&str>,
        campaign: Option<&str>,
    ) -> Result<MailHeaders, Refusal> {
        let plan = self.link_plan(purpose, channel, campaign).await?;
        Ok(self.mail_headers_with(&plan, subject.id))
    }

    /// Links for many subjects at once (external ids or emails), in the order given, for those
    /// the send gate lets in: a subject who may not be contacted for what the plan covers gets
    /// no links (`NotPermitted`, with the reason), nor does a key no subject has. One query for
    /// the subjects, and batched reads of their choices and objections.
    pub async fn bulk_links(
        &self,
        plan: &LinkPlan,
        keys: &[String],
    ) -> Result<Vec<LinkAnswer>, Refusal> {
        let found = self.store.find_subjects(keys).await?;
        let subjects = super::audience::match_keys(&found, keys);
        let known: Vec<&Subject> = subjects.iter().flatten().copied().collect();
        let mut permitted = self.permitted_for_links(plan, &known).await?.into_iter();
        Ok(subjects
            .iter()
            .map(|s| match s {
                None => LinkAnswer::UnknownSubject,
                Some(s) => match permitted.next() {
                    Some(Ok(())) => LinkAnswer::Links(self.links_for(plan, s.id)),
                    Some(Err(reason)) => LinkAnswer::NotPermitted(reason),
                    None => LinkAnswer::UnknownSubject,
                },
            })
            .collect())
    }

    /// Who must not be contacted for `purpose` on `channel` (they withdrew), in the order they
    /// changed, after `cursor`: a sender syncs its suppression list by passing the last cursor
    /// it saw. An opt-out is listed from the moment it is committed (R10, R45).
    pub async fn suppressions(
        &self,
        purpose: &str,
        channel: &str,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<Suppression>, Refusal> {
        let (purpose, channel) = self.purpose_on(purpose, channel).await?;
        Ok(self
            .store
            .suppressions(&purpose.key, channel, cursor.max(0), limit.clamp(1, 10_000))
            .await?)
    }

    /// Unsubscribes by a reply to a `mailto:` address (source `reply`). Returns false when the
    /// address is not one of Doui's genuine reply codes (nothing is written then).
    pub async fn unsubscribe_by_reply(
        &self,
        address: &str,
        mut provenance: Provenance,
    ) -> Result<bool, Refusal> {
        let Some(domain) = &self.settings.reply_domain else {
            return Ok(false);
        };
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let Some((local, host)) = address.rsplit_once('@') else {
            return Ok(false);
        };
        if !host.eq_ignore_ascii_case(domain) {
            return Ok(false);
        }
        let purposes: Vec<PurposeKey> = self
            .store
            .purposes()
            .await?
            .iter()
            .map(|p| p.key.clone())
            .collect();
        let Ok((subject, scope)) = crate::token::reply::verify(&self.keyring, local, &purposes)
        else {
            return Ok(false);
        };
        provenance.source = crate::domain::Source::Reply;
        let claims = Claims {
            subject,
            scope,
            issued_at: 0,
            expires_at: None,
            campaign: None,
        };
        self.unsubscribe(&claims, provenance).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(covered: &[(&Purpose, &[Channel])]) -> Vec<(String, Vec<Channel>)> {
        covered
            .iter()
            .map(|(p, c)| (p.key.to_string(), c.to_vec()))
            .collect()
    }

    #[test]
    fn a_token_covers_what_its_scope_names_and_nothing_else() {
        use Channel::*;
        let purposes = Purpose::seeds();
        let newsletter: PurposeKey = "newsletter".parse().unwrap();
        // Whole-center and all-marketing tokens: every marketing purpose, never third-party
        // sharing (it is not marketing).
        for scope in [Scope::Everything, Scope::AllMarketing] {
            let all = keys(&covered(&purposes, &scope).unwrap());
            assert_eq!(
                all,
                [
                    (
                        "newsletter".to_string(),
                        vec![Email, Sms, Push, Postal, Phone]
                    ),
                    ("ad_targeting".to_string(), vec![Web, Email, Sms]),
                ]
            );
        }
        let one = Scope::Purpose(newsletter.clone());
        assert_eq!(keys(&covered(&purposes, &one).unwrap()).len(), 1);
        let cell = Scope::PurposeChannel(newsletter.clone(), Sms);
        assert_eq!(
            keys(&covered(&purposes, &cell).unwrap()),
            [("newsletter".to_string(), vec![Sms])]
        );
        // A channel the purpose is not used on, or a purpose that is gone: nothing to withdraw.
        let unused = Scope::PurposeChannel(newsletter, Web);
        assert_eq!(
            covered(&purposes, &unused).unwrap_err().code,
            "invalid_token"
        );
        let gone = Scope::Purpose("surveys".parse().unwrap());
        assert_eq!(covered(&purposes, &gone).unwrap_err().code, "invalid_token");
    }
}
